"""Learning curve of the linear rescoring over dumped pools: 5 folds; each
fold ranked by the rescorer fitted on the other four (80 %) and by one fitted
on half of the users outside it (50 %), paired."""
import json, sys, math, numpy as np, torch
torch.set_num_threads(2)
rows = [json.loads(l) for l in open(sys.argv[1])]
F = 25; P = max(len(r["items"]) for r in rows)
X = torch.zeros(len(rows), P, F, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
for u, r in enumerate(rows):
    n = len(r["items"]); X[u, :n] = torch.tensor(r["x"], dtype=torch.float64).view(n, F); M[u, :n] = True
T = torch.tensor([r["items"].index(r["target"]) if r["target"] in r["items"] else -1 for r in rows])
def fit(users):
    users = [u for u in users if T[u] >= 0]
    x = X[users]; m = M[users]; t = T[users]
    w = torch.zeros(F, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=200, tolerance_grad=1e-10, history_size=20, line_search_fn="strong_wolfe")
    def closure():
        opt.zero_grad(); s = (x @ w).masked_fill(~m, -1e30)
        loss = (torch.logsumexp(s, 1) - s.gather(1, t[:, None]).squeeze(1)).mean() + 1e-3 * (w * w).sum()
        loss.backward(); return loss
    opt.step(closure); return w.detach()
def nd(u, w):
    n = int(M[u].sum()); s = (X[u, :n] @ w).numpy(); o = np.argsort(-s, kind="stable")[:10]
    it = [rows[u]["items"][i] for i in o]; t = rows[u]["target"]
    return 1 / math.log2(it.index(t) + 2) if t in it else 0
rng = np.random.default_rng(1); fold = rng.integers(0, 5, len(rows))
a = np.zeros(len(rows)); b = np.zeros(len(rows))
for f in range(5):
    out = np.where(fold != f)[0]; ins = np.where(fold == f)[0]
    w80 = fit(out); w50 = fit(rng.choice(out, len(rows) // 2, replace=False))
    for u in ins: a[u] = nd(u, w80); b[u] = nd(u, w50)
d = a - b; bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
print(sys.argv[1], f"fit on 80 %: {a.mean():.4f}, on 50 %: {b.mean():.4f}, diff {d.mean():+.4f} [{np.quantile(bs,.025):+.4f}, {np.quantile(bs,.975):+.4f}]")
