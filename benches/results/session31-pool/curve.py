"""Learning curve of the linear rescoring over dumped pools: 5 folds; each
fold ranked by the rescorer fitted on the other four (80 %) and by one fitted
on half of the users outside it (50 %), paired."""
import json, sys, math, numpy as np, torch
torch.set_num_threads(2)
import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from listnet import cross_fitted, fit, ndcg, ci
rows = [json.loads(l) for l in open(sys.argv[1])]
F = 25; P = max(len(r["items"]) for r in rows)
X = torch.zeros(len(rows), P, F, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
for u, r in enumerate(rows):
    n = len(r["items"]); X[u, :n] = torch.tensor(r["x"], dtype=torch.float64).view(n, F); M[u, :n] = True
T = torch.tensor([r["items"].index(r["target"]) if r["target"] in r["items"] else -1 for r in rows])
rng = np.random.default_rng(1); fold = rng.integers(0, 5, len(rows))
a = np.zeros(len(rows)); b = np.zeros(len(rows))
for f in range(5):
    out = np.where(fold != f)[0]; ins = np.where(fold == f)[0]
    w80 = fit(X, M, T, out); w50 = fit(X, M, T, rng.choice(out, len(rows) // 2, replace=False))
    for u in ins: a[u] = ndcg(X, M, T, u, w80); b[u] = ndcg(X, M, T, u, w50)
d = a - b; bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
print(sys.argv[1], f"fit on 80 %: {a.mean():.4f}, on 50 %: {b.mean():.4f}, diff {d.mean():+.4f} [{np.quantile(bs,.025):+.4f}, {np.quantile(bs,.975):+.4f}]")
