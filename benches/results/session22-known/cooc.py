"""Proxy: a symmetric co-occurrence source (ItemKNN over training sequences) as a sixth blend source; cross-fitted."""
import json, sys, itertools, math, numpy as np
from collections import defaultdict, Counter
exec(open("/work/main/runs/proxy/common.py").read())
k = sys.argv[1]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
valid = [json.loads(l) for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
assert [v["target"] for v in valid] == d["targets"]
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
hist = [list(dict.fromkeys(reversed(v["history"])))[:20] for v in valid]
setup(d["targets"])
def cooc_lists(window, norm, decay, last):
    n = Counter(); c = defaultdict(Counter)
    for s in train:
        for i in set(s): n[i] += 1
        for a in range(len(s)):
            for b in range(max(0, a - window) if window else 0, min(len(s), a + window + 1) if window else len(s)):
                if a != b and s[a] != s[b]: c[s[a]][s[b]] += 1
    out = []
    for v in valid:
        h = v["history"]; seen = set(h[-1:]); sc = Counter()
        for age, q in enumerate(reversed(h[-last:])):
            for j, cnt in c[q].items():
                x = cnt / (math.sqrt(n[q] * n[j]) ** norm)
                sc[j] += x * decay ** age
        out.append([j for j, _ in sorted(sc.items(), key=lambda t: (-t[1], t[0])) if j not in seen][:20])
    return out
NUD = [0, 2]
base_srcs = lambda n: [d["beams"], d["texts"][n], d["own"], d["next"]]
hw = any(t in v["history"] for t, v in zip(d["targets"], valid)) and k == "repeat"
if hw: base_srcs = lambda n: [d["beams"], d["texts"][n], d["own"], d["next"], hist]
S = len(base_srcs(0))
base_pools = [pool(base_srcs(n)) for n in NUD]
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(S)]
base = run(base_pools, g); cb = crossfit(base)
print(k, "base: in-sample best %.4f %s, cross-fitted %.4f" % (base.mean(1).max(), g[base.mean(1).argmax()], cb.mean()), flush=True)
for window, norm, decay, last in [tuple(map(float, a.split(","))) for a in sys.argv[2:]] or [(1, 1, 0.5, 3)]:
    window = int(window); last = int(last); cl = cooc_lists(window, norm, decay, last)
    alone = ndcg_list(cl)
    # coordinate: the base best (chosen on the fold) plus a cooc weight r, the rest scaled by 1 - r
    p6 = [pool(base_srcs(n) + [cl]) for n in NUD]
    RS = [0.05, 0.1, 0.2, 0.3, 0.5]
    ndr = [run(p6, [(tuple(wi * (1 - r) for wi in w) + (r,), kk, ni) for (w, kk, ni) in g]) for r in RS]
    cc = coord(base, ndr)
    print("cooc w=%d norm=%.1f decay=%.1f last=%d: alone %.4f; coordinate cross-fitted %.4f; diff %+.4f [%+.4f, %+.4f]" % (window, norm, decay, last, alone, cc.mean(), *boot(cc - cb)), flush=True)
