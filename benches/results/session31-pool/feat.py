"""Extra rescoring features over dumped pools, measured by genrec's linear
ListNet (ridge 1e-3, full-batch L-BFGS), fitted on each half of the
validation users and measured on the other, paired against the 25 features.
feat.py DATASET_DIR POOLS.jsonl"""
import json, sys, math, numpy as np, torch
from collections import defaultdict, Counter
torch.set_num_threads(2)
import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from listnet import cross_fitted, fit, ndcg, ci
ds, pf = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(pf)]
F = 25
jl = lambda p: [json.loads(l)["items"] for l in open(p)]
known = jl(f"{ds}/train.jsonl") + jl(f"{ds}/context.jsonl")
nxt = defaultdict(Counter); co = defaultdict(Counter)
for s in known:
    for i, a in enumerate(s):
        if i + 1 < len(s): nxt[a][s[i + 1]] += 1
        for d in range(1, 4):
            if i + d < len(s):
                co[a][s[i + d]] += 0.5 ** (d - 1); co[s[i + d]][a] += 0.5 ** (d - 1)
def extra(r):
    h = r["history"]; last = h[-1]
    out = []
    for it in r["items"]:
        rev = nxt[it][last]  # the candidate came right before the last item
        sym = sum(0.5 ** a * co[x][it] for a, x in enumerate(reversed(h[-3:])))
        hist_co = sum(co[x][it] for x in h[-20:]) / max(len(h[-20:]), 1)
        out.append([math.log1p(rev), math.log1p(sym), math.log1p(hist_co)])
    return out
P = max(len(r["items"]) for r in rows)
X = torch.zeros(len(rows), P, F + 3, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
for u, r in enumerate(rows):
    n = len(r["items"])
    X[u, :n, :F] = torch.tensor(r["x"], dtype=torch.float64).view(n, F)
    X[u, :n, F:] = torch.tensor(extra(r), dtype=torch.float64)
    M[u, :n] = True
T = torch.tensor([r["items"].index(r["target"]) if r["target"] in r["items"] else -1 for r in rows])
half = np.array([r["half"] for r in rows])
def ndcg_of(cols):
    return cross_fitted(X[:, :, cols], M, T, half)
fused = np.array([(1 / math.log2(r["fused"].index(r["target"]) + 2) if r["target"] in r["fused"][:10] else 0) for r in rows])
b = ndcg_of(list(range(F)))
print(ds, "fused", round(fused.mean(), 4), "25 features", round(b.mean(), 4), "vs fused", ci(b - fused))
for name, cols in [("+rev", [F]), ("+sym", [F + 1]), ("+histco", [F + 2]), ("+all3", [F, F + 1, F + 2])]:
    o = ndcg_of(list(range(F)) + cols)
    print(f"  {name:8s} {o.mean():.4f} vs 25: {ci(o - b)}", flush=True)
