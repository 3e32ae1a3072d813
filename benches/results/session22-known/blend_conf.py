"""Proxy: the blend's transitions cut to the items with a weighted count of at least T (weak evidence left out), in place of the full list; cross-fitted."""
import json, sys, itertools, numpy as np
from collections import defaultdict, Counter
exec(open("/work/main/runs/proxy/common.py").read())
k = sys.argv[1]; TS = [float(x) for x in sys.argv[2:]]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
valid = [json.loads(l) for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
setup(d["targets"])
c = defaultdict(Counter)
for s in train:
    for a, b in zip(s, s[1:]): c[a][b] += 1
def lists(T):
    out = []
    for v in valid:
        h = v["history"]; sc = Counter(); w = 1.0
        for it in list(reversed(h))[:3]:
            for j, x in c[it].items(): sc[j] += w * x
            w *= 0.5
        out.append([j for j, x in sorted(sc.items(), key=lambda t: (-t[1], t[0])) if j != h[-1] and x >= T][:20])
    return out
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
