"""Proxy: choosing the blend setting by argmax of validation NDCG against argmax of the NDCG smoothed over neighbouring weights (L1 ≤ r, same k and nudge); cross-fitted on validation halves."""
import json, sys, itertools, numpy as np
k = sys.argv[1]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
exec(open("/work/main/runs/proxy/common.py").read())
setup(d["targets"])
NUD = [0, 2]
pools = [pool([d["beams"], d["texts"][n], d["own"], d["next"]]) for n in NUD]
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(4)]
nd = run(pools, g); cb = crossfit(nd)
W = np.array([w for w, _, _ in g]); K = np.array([(kk, ni) for _, kk, ni in g])
same = (K[:, None, :] == K[None, :, :]).all(-1)
L1 = np.abs(W[:, None, :] - W[None, :, :]).sum(-1)
print(k, "argmax cross-fitted %.4f (in-sample best %.4f)" % (cb.mean(), nd.mean(1).max()))
for r in (0.2, 0.4):
    A = (same & (L1 <= r + 1e-9)).astype(float); A /= A.sum(1, keepdims=True)
    x = np.zeros(U)
    for f in (0, 1):
        tr, te = fold != f, fold == f
        sm = A @ nd[:, tr].mean(1)
        x[te] = nd[sm.argmax(), te]
    print("smoothed r=%.1f cross-fitted %.4f; diff %+.4f [%+.4f, %+.4f]" % (r, x.mean(), *boot(x - cb)))
# other halves: repeat over 5 random fold splits
for seed in range(1, 5):
    fold = np.random.default_rng(seed).permutation(U) % 2
    cb = crossfit(nd)
    A = (same & (L1 <= 0.2 + 1e-9)).astype(float); A /= A.sum(1, keepdims=True)
    x = np.zeros(U)
    for f in (0, 1):
        tr, te = fold != f, fold == f
        x[te] = nd[(A @ nd[:, tr].mean(1)).argmax(), te]
    print("split %d: argmax %.4f smoothed r=0.2 %.4f diff %+.4f" % (seed, cb.mean(), x.mean(), (x - cb).mean()))
