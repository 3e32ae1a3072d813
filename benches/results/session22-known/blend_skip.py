"""Proxy: the blend with the transitions counting successors up to D places later (weight 0.5^(d-1)) in place of the next item only; cross-fitted on validation halves."""
import json, sys, itertools, numpy as np
from collections import defaultdict, Counter
exec(open("/work/main/runs/proxy/common.py").read())
k = sys.argv[1]; D = int(sys.argv[2]) if len(sys.argv) > 2 else 4
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
valid = [json.loads(l) for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
assert [v["target"] for v in valid] == d["targets"]
setup(d["targets"])
def count(D):
    c = defaultdict(Counter)
    for s in train:
        for dd in range(1, D + 1):
            for a, b in zip(s, s[dd:]): c[a][b] += 0.5 ** (dd - 1)
    return c
def lists(c):
    out = []
    for v in valid:
        h = v["history"]; sc = Counter(); w = 1.0
        for it in list(reversed(h))[:3]:
            for j, x in c[it].items(): sc[j] += w * x
            w *= 0.5
        out.append([j for j, _ in sorted(sc.items(), key=lambda t: (-t[1], t[0])) if j != h[-1]][:20])
    return out
one = lists(count(1))
print(k, "python D=1 equals the dump's transitions for %.3f of users" % np.mean([a == b for a, b in zip(one, d["next"])]), flush=True)
skip = lists(count(D))
print("transitions alone: %.4f -> %.4f" % (ndcg_list(d["next"]), ndcg_list(skip)), flush=True)
hist = [list(dict.fromkeys(reversed(v["history"])))[:20] for v in valid]
five = k == "repeat"
NUD = [0, 2]
def srcs(n, nx):
    s = [d["beams"], d["texts"][n], d["own"], nx]
    return s + [hist] if five else s
S = 5 if five else 4
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(S)]
base = run([pool(srcs(n, d["next"])) for n in NUD], g); cb = crossfit(base)
print("base: in-sample %.4f %s, cross-fitted %.4f" % (base.mean(1).max(), g[base.mean(1).argmax()], cb.mean()), flush=True)
sw = run([pool(srcs(n, skip)) for n in NUD], g); cs = crossfit(sw)
print("skip D=%d: in-sample %.4f %s, cross-fitted %.4f, diff %+.4f [%+.4f, %+.4f]" % (D, sw.mean(1).max(), g[sw.mean(1).argmax()], cs.mean(), *boot(cs - cb)), flush=True)
