"""Rescoring weights that depend on the user's context: the 25 features plus
each multiplied by a user-level scalar g (the last item's count, whether it
is cold, ...), cross-fitted, paired against the 25 features."""
import json, sys, math, os, numpy as np, torch
torch.set_num_threads(2)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../session31-pool")); from listnet import cross_fitted, ci
pools, ds = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(pools)]
cnt = {}
for l in open(f"{ds}/train.jsonl"):
    for it in json.loads(l)["items"]: cnt[it] = cnt.get(it, 0) + 1
if os.path.exists(f"{ds}/context.jsonl"):
    for l in open(f"{ds}/context.jsonl"):
        for it in json.loads(l).get("items", []): cnt[it] = cnt.get(it, 0) + 1
F = 25; P = max(len(r["items"]) for r in rows)
# check the counts against the dump's feature 20
bad = 0
for r in rows[:200]:
    x = np.array(r["x"]).reshape(-1, F)
    for i, it in enumerate(r["items"]):
        if abs(x[i, 20] - math.log1p(cnt.get(it, 0)) / 10) > 1e-6: bad += 1
print("count mismatches in 200 pools:", bad)
def g_of(kind, r):
    last = r["history"][-1]; c = cnt.get(last, 0)
    return {"lastcnt": math.log1p(c) / 10, "lastcold": float(c == 0), "lastrare": float(c <= 2),
            "loglen": math.log(len(r["history"])) / math.log(50)}[kind]
def build(kinds):
    G = F * (1 + len(kinds))
    X = torch.zeros(len(rows), P, G, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
    for u, r in enumerate(rows):
        n = len(r["items"]); x = torch.tensor(r["x"], dtype=torch.float64).view(n, F)
        X[u, :n, :F] = x
        for j, k in enumerate(kinds): X[u, :n, F * (j + 1):F * (j + 2)] = x * g_of(k, r)
        M[u, :n] = True
    return X, M
T = torch.tensor([r["items"].index(r["target"]) if r["target"] in r["items"] else -1 for r in rows])
half = np.array([r["half"] for r in rows])
lastc = np.array([cnt.get(r["history"][-1], 0) for r in rows])
print(pools, "last item cold:", round((lastc == 0).mean(), 3), "≤2:", round((lastc <= 2).mean(), 3))
b = cross_fitted(*build([]), T, half, max_iter=300)
for ks in sys.argv[3].split(";"):
    kinds = ks.split(",")
    o = cross_fitted(*build(kinds), T, half, max_iter=300)
    print(f"  ×{ks:18s} {o.mean():.4f} vs 25 features {b.mean():.4f}: {ci(o - b)}", flush=True)
