"""The linear ListNet rescoring genrec fits (`eval::rescore`: the mean over
users of −log softmax(x·w)[target] plus 1e-3·‖w‖²), by full-batch L-BFGS
over padded pools, and its cross-fitted NDCG@10 (fitted on one half of the
users, measured on the other). Shared by feat.py, seg.py, sixth.py, curve.py."""
import math, numpy as np, torch

def fit(X, M, T, users, max_iter=200):
    """Weights fitted on `users` whose target (index `T[u]`, −1: none) is in the pool."""
    us = [u for u in users if T[u] >= 0]
    w = torch.zeros(X.shape[2], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=max_iter, tolerance_grad=1e-10, history_size=20, line_search_fn="strong_wolfe")
    def closure():
        opt.zero_grad(); s = (X[us] @ w).masked_fill(~M[us], -1e30)
        loss = (torch.logsumexp(s, 1) - s.gather(1, T[us][:, None]).squeeze(1)).mean() + 1e-3 * (w * w).sum()
        loss.backward(); return loss
    opt.step(closure)
    return w.detach()

def ndcg(X, M, T, u, w):
    """User u's NDCG@10 when its pool is ranked by x·w (ties: pool order)."""
    n = int(M[u].sum()); s = (X[u, :n] @ w).numpy(); o = list(np.argsort(-s, kind="stable")[:10])
    t = int(T[u]); return 1 / math.log2(o.index(t) + 2) if t >= 0 and t in o else 0.0

def cross_fitted(X, M, T, half, max_iter=200):
    """Each user's NDCG@10 under the weights fitted on the other half."""
    out = np.zeros(len(half))
    for f in (0, 1):
        w = fit(X, M, T, np.where(half != f)[0], max_iter)
        for u in np.where(half == f)[0]: out[u] = ndcg(X, M, T, u, w)
    return out

def ci(d, seed=0):
    rng = np.random.default_rng(seed); bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
    return f"{d.mean():+.4f} [{np.quantile(bs,.025):+.4f}, {np.quantile(bs,.975):+.4f}]"
