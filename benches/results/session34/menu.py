import json, random
random.seed(7)
cats = ["coffee", "tea", "pastry", "sandwich", "salad"]
adj = ["iced", "hot", "vanilla", "caramel", "smoked", "spicy", "green", "classic"]
items = []
for i in range(40):
    c = cats[i % 5]; a = adj[i % 8]
    items.append({"item_id": f"SKU-{i:03d}", "name": f"{a.title()} {c} no. {i}", "category": c,
                  "description": f"A {a} {c} made fresh every morning with care; pairs well with our {cats[(i+1)%5]}."})
# Markov: next item tends to be in the next category
users = []
t0 = 1_700_000_000
with open("menu-src/orders.jsonl", "w") as f:
    for u in range(2000):
        n = random.randint(3, 14); cur = random.randrange(40); t = t0 + random.randrange(10**6)
        for k in range(n):
            f.write(json.dumps({"customer_id": f"C{u}", "item_id": items[cur]["item_id"], "ts": t}) + "\n")
            t += random.randrange(3600, 86400 * 7)
            if random.random() < 0.6: cur = ((cur // 5 + 1) % 8) * 5 + (cur + random.choice([0, 1])) % 5
            else: cur = min(39, int(random.expovariate(0.12)))
with open("menu-src/items.jsonl", "w") as f:
    for it in items: f.write(json.dumps(it) + "\n")
