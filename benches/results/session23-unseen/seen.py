"""Proxy: the RRF grid with the user's own (training) items dropped from the fused list, against the grid as it is; cross-fitted."""
import json, sys, itertools, numpy as np
k = sys.argv[1]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
exec(open(__import__("os").path.join(__import__("os").path.dirname(__file__), "../session22-known/common.py")).read())
setup(d["targets"])
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
print(k, "targets seen before:", np.mean([T[u] in set(train[u]) for u in range(U)]).round(4))
NUD = [0, 2]
def drop(l):
    return [[it for it in l[u] if it not in st[u]] for u in range(U)]
st = [set(s) for s in train]
hist = [list(reversed(s)) for s in train]  # latest first
P = [pool([d["beams"], d["texts"][n], d["own"], d["next"], hist]) for n in NUD]
P2 = [pool([drop(d["beams"]), d["texts"][n], drop(d["own"]), d["next"], [[] for _ in range(U)]]) for n in NUD]
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(5)]
a = run(P, g); ca = crossfit(a)
b = run(P2, g); cb = crossfit(b)
both = np.concatenate([a, b]); cc = crossfit(both)
print("grid %.4f (in-sample %.4f); seen dropped %.4f (in-sample %.4f); diff %+.4f [%+.4f, %+.4f]" % (ca.mean(), a.mean(1).max(), cb.mean(), b.mean(1).max(), *boot(cb - ca)))
print("chosen among both: %.4f; diff %+.4f [%+.4f, %+.4f]" % (cc.mean(), *boot(cc - ca)))
