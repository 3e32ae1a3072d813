"""The rescoring's L2 penalty (genrec's RIDGE, 1e-3) against stronger ones,
over dumped validation pools (GENREC_DUMP_POOLS, 27 features): each user's
NDCG@10 under the weights fitted on the other half, over R random halvings,
paired against RIDGE = 1e-3 on the same halvings.
ridge.py POOLS.jsonl [R]"""
import json, sys, math, numpy as np, torch
torch.set_num_threads(2)
pf = sys.argv[1]; R = int(sys.argv[2]) if len(sys.argv) > 2 else 3
rows = [json.loads(l) for l in open(pf)]
G = len(rows[0]["x"]) // len(rows[0]["items"])
P = max(len(r["items"]) for r in rows)
X = torch.zeros(len(rows), P, G, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
T = torch.full((len(rows),), -1)
for u, r in enumerate(rows):
    n = len(r["items"]); X[u, :n] = torch.tensor(r["x"]).view(n, G); M[u, :n] = True
    if r["target"] in r["items"]: T[u] = r["items"].index(r["target"])

def fit(users, lam):
    us = [u for u in users if T[u] >= 0]
    w = torch.zeros(G, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=300, tolerance_grad=1e-10, history_size=20, line_search_fn="strong_wolfe")
    def closure():
        opt.zero_grad(); s = (X[us] @ w).masked_fill(~M[us], -1e30)
        loss = (torch.logsumexp(s, 1) - s.gather(1, T[us][:, None]).squeeze(1)).mean() + lam * (w * w).sum()
        loss.backward(); return loss
    opt.step(closure)
    return w.detach()

def ndcgs(users, w):
    s = (X[users] @ w).masked_fill(~M[users], -1e30)
    o = torch.argsort(-s, dim=1, stable=True)[:, :10]
    out = np.zeros(len(users))
    for k, u in enumerate(users):
        t = int(T[u])
        if t >= 0:
            hit = (o[k] == t).nonzero()
            if len(hit): out[k] = 1 / math.log2(int(hit[0]) + 2)
    return out

def ci(d, seed=0):
    rng = np.random.default_rng(seed); bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
    return f"{d.mean():+.4f} [{np.quantile(bs,.025):+.4f}, {np.quantile(bs,.975):+.4f}]"

lams = [1e-3, 1e-2, 3e-2, 1e-1, 3e-1]
n = len(rows); inpool = (T >= 0).float().mean().item()
res = {l: np.zeros(n) for l in lams}
for rep in range(R):
    rng = np.random.default_rng(rep)
    perm = rng.permutation(n); halves = [np.sort(perm[: (n + 1) // 2]), np.sort(perm[(n + 1) // 2:])]
    for l in lams:
        for f in (0, 1):
            w = fit(halves[1 - f], l)
            res[l][halves[f]] += ndcgs(list(halves[f]), w) / R
print(f"{pf}: {n} users, target in pool {inpool:.3f}")
for l in lams:
    print(f"  ridge {l:g}: {res[l].mean():.4f}" + ("" if l == lams[0] else f"  vs 1e-3 {ci(res[l] - res[lams[0]])}"), flush=True)
