"""Proxy: per-history-length blend weights vs one global blend, cross-fitted on validation."""
import json, sys, numpy as np
d = json.load(open(sys.argv[1]))
T = np.array(d["targets"]); H = np.array(d["hist"]); U = len(T)
NUDGES = [0.0, 0.02, 0.04, 0.08]
def grid():
    g = [((1.0, 0, 0, 0), 60.0, 0)]
    for ni, n in enumerate(NUDGES):
        for k in (2.0, 10.0, 60.0):
            for a in range(11):
                for b in range(11 - a):
                    if b == 0 and n > 0: continue
                    for c in range(11 - a - b):
                        g.append(((a/10, b/10, c/10, (10-a-b-c)/10), k, ni))
    return g
G = grid()
M = 80
def pool(text):
    ranks = np.zeros((U, M, 4)); valid = np.zeros((U, M), bool); tpos = -np.ones(U, int)
    for u in range(U):
        at = {}
        for s, l in enumerate([d["beams"][u], text[u], d["own"][u], d["next"][u]]):
            for r, it in enumerate(l):
                if it not in at: at[it] = len(at)
                i = at[it]
                if ranks[u, i, s] == 0: ranks[u, i, s] = r + 1
        for it, i in at.items(): valid[u, i] = True
        tpos[u] = at.get(T[u], -1)
    return ranks, valid, tpos
pools = [pool(t) for t in d["texts"]]
order_eps = np.arange(M) * 1e-12
def ndcg_all(setting):
    w, k, ni = setting
    ranks, valid, tpos = pools[ni]
    inv = np.where(ranks > 0, 1.0 / (k + np.maximum(ranks, 1)), 0.0)
    sc = (inv * np.array(w)).sum(-1) - order_eps
    sc = np.where(valid, sc, -1e9)
    out = np.zeros(U)
    has = tpos >= 0
    ts = sc[np.arange(U), np.maximum(tpos, 0)]
    pos = (sc > ts[:, None]).sum(1)
    ok = has & (pos < 10)
    out[ok] = 1 / np.log2(pos[ok] + 2)
    return out
print("users", U, "hist mean", H.mean(), "quantiles", np.percentile(H, [25, 50, 75, 90]))
NDCG = np.stack([ndcg_all(s) for s in G])  # [S, U]
rr = d["reranked"]
rrn = np.array([ (1/np.log2(l.index(t)+2) if t in l[:10] else 0.0) for l, t in zip(rr, T)])
print("reranked", rrn.mean(), "best global (in-sample)", NDCG.mean(1).max(), G[NDCG.mean(1).argmax()])
rng = np.random.default_rng(0)
fold = rng.permutation(U) % 2
def boot(x, n=2000):
    m = [x[rng.integers(0, len(x), len(x))].mean() for _ in range(n)]
    return x.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)
for cuts in ([2], [3], [5], [2, 5], [3, 10], [10]):
    b = np.digitize(H, np.array(cuts) + 0.5)  # bucket id
    glob = np.zeros(U); buck = np.zeros(U)
    for f in (0, 1):
        tr, te = fold != f, fold == f
        gbest = NDCG[:, tr].mean(1).argmax()
        glob[te] = NDCG[gbest, te]
        for bi in range(len(cuts) + 1):
            trb, teb = tr & (b == bi), te & (b == bi)
            if trb.sum() == 0: 
                buck[teb] = NDCG[gbest, teb]; continue
            best = NDCG[:, trb].mean(1).argmax()
            buck[teb] = NDCG[best, teb]
    sizes = [(b == i).sum() for i in range(len(cuts) + 1)]
    bests = [G[NDCG[:, b == i].mean(1).argmax()] for i in range(len(cuts)+1)]
    print("cuts", cuts, "sizes", sizes, "glob %.4f buck %.4f diff %+.4f [%+.4f, %+.4f]" % (glob.mean(), buck.mean(), *boot(buck - glob)))
    for s in bests: print("   ", s)
