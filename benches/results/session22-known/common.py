M = 120
def setup(targets):
    global T, U, rng, fold, eps
    T = np.array(targets); U = len(T)
    rng = np.random.default_rng(0); fold = rng.permutation(U) % 2
    eps = np.arange(M) * 1e-12
def simplex(n, step=10):
    for c in itertools.product(range(step + 1), repeat=n - 1):
        if sum(c) <= step: yield tuple(x / step for x in c) + ((step - sum(c)) / step,)
def pool(srcs):
    S = len(srcs); ranks = np.zeros((U, M, S)); valid = np.zeros((U, M), bool); tpos = -np.ones(U, int)
    for u in range(U):
        at = {}
        for s, l in enumerate(srcs):
            for r, it in enumerate(l[u][:20]):
                if it not in at: at[it] = len(at)
                i = at[it]
                if ranks[u, i, s] == 0: ranks[u, i, s] = r + 1
        for it, i in at.items(): valid[u, i] = True
        tpos[u] = at.get(int(T[u]), -1)
    return ranks, valid, tpos
def run(pools, grid):
    out = np.zeros((len(grid), U))
    cache = {}
    for gi, (w, kk, ni) in enumerate(grid):
        ranks, valid, tpos = pools[ni]
        if (ni, kk) not in cache:
            cache[(ni, kk)] = np.where(ranks > 0, 1.0 / (kk + np.maximum(ranks, 1)), 0.0)
        sc = (cache[(ni, kk)] * np.array(w)).sum(-1) - eps
        sc = np.where(valid, sc, -1e9)
        ts = sc[np.arange(U), np.maximum(tpos, 0)]
        pos = (sc > ts[:, None]).sum(1)
        ok = (tpos >= 0) & (pos < 10)
        out[gi, ok] = 1 / np.log2(pos[ok] + 2)
    return out
def ndcg_list(lists):
    x = np.zeros(U)
    for u, l in enumerate(lists):
        if T[u] in l[:10]: x[u] = 1 / np.log2(l.index(T[u]) + 2)
    return x.mean()
def crossfit(nd):
    x = np.zeros(U)
    for f in (0, 1):
        tr, te = fold != f, fold == f
        x[te] = nd[nd[:, tr].mean(1).argmax(), te]
    return x
def boot(x, n=2000):
    m = [x[rng.integers(0, U, U)].mean() for _ in range(n)]
    return x.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)
def coord(nd4, ndr):
    x = np.zeros(U)
    for f in (0, 1):
        tr, te = fold != f, fold == f
        b = nd4[:, tr].mean(1).argmax()
        cands = [nd4[b]] + [r[b] for r in ndr]
        best = max(range(len(cands)), key=lambda i: cands[i][tr].mean())
        x[te] = cands[best][te]
    return x
