"""Proxy: the blend with a fifth source, cross-fitted on validation (weights chosen on
one half of the users, measured on the other, both ways).

  fuse5.py K "(30, 10, 0)"   the transitions smoothed through the text (smooth.py's key):
                             swapped for `next`, and added as a fifth source
  fuse5.py K history         the user's own items, latest first: added as a fifth source
                             (the whole grid, and its weight searched alone)
"""
import json, sys, itertools, numpy as np
k = sys.argv[1]; key = sys.argv[2] if len(sys.argv) > 2 else "(30, 10, 0)"
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
if key == "history":
    valid = [json.loads(l) for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
    assert [v["target"] for v in valid] == d["targets"]
    sm = [list(dict.fromkeys(reversed(v["history"])))[:20] for v in valid]
    print("target in history", np.mean([v["target"] in v["history"] for v in valid]))
else:
    sm = json.load(open(f"/work/main/runs/proxy/{k}-smooth.json"))[key]
T = np.array(d["targets"]); U = len(T); M = 100
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
eps = np.arange(M) * 1e-12
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
rng = np.random.default_rng(0); fold = rng.permutation(U) % 2
def crossfit(nd):
    x = np.zeros(U)
    for f in (0, 1):
        tr, te = fold != f, fold == f
        x[te] = nd[nd[:, tr].mean(1).argmax(), te]
    return x
def boot(x, n=2000):
    m = [x[rng.integers(0, U, U)].mean() for _ in range(n)]
    return x.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)
NUD = [0, 2]  # nudge 0 and 0.04
base_pools = [pool([d["beams"], d["texts"][n], d["own"], d["next"]]) for n in NUD]
g4 = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(4)]
base = run(base_pools, g4); cb = crossfit(base)
print(k, "base: in-sample best %.4f %s, cross-fitted %.4f" % (base.mean(1).max(), g4[base.mean(1).argmax()], cb.mean()), flush=True)
if key != "history":
    swap_pools = [pool([d["beams"], d["texts"][n], d["own"], sm]) for n in NUD]
    sw = run(swap_pools, g4); cs = crossfit(sw)
    print("swap next→smoothed: in-sample %.4f %s; cross-fitted %.4f; diff %+.4f [%+.4f, %+.4f]" % (sw.mean(1).max(), g4[sw.mean(1).argmax()], cs.mean(), *boot(cs - cb)), flush=True)
p5 = [pool([d["beams"], d["texts"][n], d["own"], d["next"], sm]) for n in NUD]
g5 = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(5)]
f5 = run(p5, g5); c5 = crossfit(f5)
print("add fifth: in-sample %.4f %s; cross-fitted %.4f; diff %+.4f [%+.4f, %+.4f]" % (f5.mean(1).max(), g5[f5.mean(1).argmax()], c5.mean(), *boot(c5 - cb)), flush=True)
if key == "history":
    # coordinate: the 4-way best (chosen on the fold) plus a history weight r, the four scaled by 1 - r
    def coord(nd4, ndr):
        x = np.zeros(U)
        for f in (0, 1):
            tr, te = fold != f, fold == f
            b = nd4[:, tr].mean(1).argmax()
            cands = [nd4[b]] + [r[b] for r in ndr]
            best = max(range(len(cands)), key=lambda i: cands[i][tr].mean())
            x[te] = cands[best][te]
        return x
    RS = [0.05, 0.1, 0.2, 0.3, 0.5]
    ndr = [run(p5, [(tuple(wi * (1 - r) for wi in w) + (r,), kk, ni) for (w, kk, ni) in g4]) for r in RS]
    cc = coord(base, ndr)
    print("coordinate: cross-fitted %.4f; diff %+.4f [%+.4f, %+.4f]" % (cc.mean(), *boot(cc - cb)))
