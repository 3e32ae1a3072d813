"""Transitions alone on validation: also counting successors 2 or 3 places later, weight w^(distance-1)."""
import json, sys, numpy as np
from collections import defaultdict, Counter
k = sys.argv[1]; ds = f"/work/main/runs/{k}/ds"
train = [json.loads(l)["items"] for l in open(f"{ds}/train.jsonl")]
valid = [json.loads(l) for l in open(f"{ds}/valid.jsonl")]
def count(ss, w, D):
    c = defaultdict(Counter)
    for s in ss:
        for d in range(1, D + 1):
            for a, b in zip(s, s[d:]):
                if a != b: c[a][b] += w ** (d - 1)
    return c
def top(c, h, n=10):
    sc = Counter(); w = 1.0
    for it in list(reversed(h))[:3]:
        for j, x in c[it].items(): sc[j] += w * x
        w *= 0.5
    return [j for j, _ in sorted(sc.items(), key=lambda t: (-t[1], t[0])) if j != h[-1]][:n]
def nd(c):
    x = np.zeros(len(valid))
    for u, r in enumerate(valid):
        l = top(c, r["history"])
        if r["target"] in l: x[u] = 1 / np.log2(l.index(r["target"]) + 2)
    return x
base = nd(count(train, 1.0, 1)); rng = np.random.default_rng(0); U = len(base)
for w, D in [tuple(map(float, a.split(","))) for a in sys.argv[2:]]:
    D = int(D); d = nd(count(train, w, D)) - base
    m = [d[rng.integers(0, U, U)].mean() for _ in range(1000)]
    print(k, "w %.2f D %d: %+.4f [%+.4f, %+.4f] (base %.4f)" % (w, D, d.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5), base.mean()))
