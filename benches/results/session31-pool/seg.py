"""Does the rescoring's best weighting depend on the history's length? The
25 features plus each multiplied by a function of the history length,
linear ListNet (ridge 1e-3) cross-fitted on the dump's halves, paired
against the 25 features."""
import json, sys, math, numpy as np, torch
torch.set_num_threads(2)
import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from listnet import cross_fitted, fit, ndcg, ci
rows = [json.loads(l) for l in open(sys.argv[1])]
F = 25; P = max(len(r["items"]) for r in rows)
def build(kind):
    G = F * 2 if kind else F
    X = torch.zeros(len(rows), P, G, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
    for u, r in enumerate(rows):
        n = len(r["items"]); x = torch.tensor(r["x"], dtype=torch.float64).view(n, F)
        L = len(r["history"])
        g = {"cold": None, "short": float(L <= 1), "le2": float(L <= 2), "le3": float(L <= 3), "le4": float(L <= 4), "log": math.log(L) / math.log(50), "long": float(L >= 5)}.get(kind, 0.0)
        X[u, :n, :F] = x
        if kind == "cold": X[u, :n, F] = (x[:, 20] == 0).double(); X[u, :n, F + 1] = (x[:, 20] == 0).double() * x[:, 21]
        elif kind: X[u, :n, F:] = x * g
        M[u, :n] = True
    return X, M
T = torch.tensor([r["items"].index(r["target"]) if r["target"] in r["items"] else -1 for r in rows])
half = np.array([r["half"] for r in rows])
def run(kind):
    X, M = build(kind); return cross_fitted(X, M, T, half, max_iter=300)
lens = np.array([len(r["history"]) for r in rows])
print(sys.argv[1], "history length: share 1:", round((lens == 1).mean(), 3), ">=5:", round((lens >= 5).mean(), 3))
b = run(None)
for k in sys.argv[2].split(","):
    o = run(k); print(f"  ×{k:6s} {o.mean():.4f} vs 25 features {b.mean():.4f}: {ci(o - b)}", flush=True)
