"""Proxy: the blend's transitions cut to the items with a weighted count of at least T (weak evidence left out), in place of the full list; cross-fitted."""
import json, sys, itertools, numpy as np
exec(open("/work/main/runs/proxy/common.py").read())
exec(open("/work/main/runs/proxy/trans_common.py").read())
k = sys.argv[1]; TS = [float(x) for x in sys.argv[2:]]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
train, valid, _, _ = splits(k)
setup(d["targets"])
c = count(train)
lists = lambda thr: [top(c, v["history"], 20, thr) for v in valid]
assert lists(0) == d["next"]
NUD = [0, 2]
def srcs(n, nx): return [d["beams"], d["texts"][n], d["own"], nx]
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(4)]
base = run([pool(srcs(n, d["next"])) for n in NUD], g); cb = crossfit(base)
print(k, "base cross-fitted %.4f" % cb.mean(), flush=True)
for thr in TS:
    l = lists(thr)
    sw = run([pool(srcs(n, l)) for n in NUD], g); cs = crossfit(sw)
    print("T %.2f (users with a list %.2f): cross-fitted %.4f, diff %+.4f [%+.4f, %+.4f]" % (thr, np.mean([len(x) > 0 for x in l]), cs.mean(), *boot(cs - cb)), flush=True)
