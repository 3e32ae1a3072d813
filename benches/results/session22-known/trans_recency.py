"""Transitions alone on validation, each transition weighted gamma^(places from its sequence's end)."""
import json, sys, numpy as np
from collections import defaultdict, Counter
k = sys.argv[1]; ds = f"/work/main/runs/{k}/ds"
train = [json.loads(l)["items"] for l in open(f"{ds}/train.jsonl")]
valid = [json.loads(l) for l in open(f"{ds}/valid.jsonl")]
def count(ss, g):
    c = defaultdict(Counter)
    for s in ss:
        L = len(s)
        for p, (a, b) in enumerate(zip(s, s[1:])): c[a][b] += g ** (L - 2 - p)
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
base = nd(count(train, 1.0)); rng = np.random.default_rng(0); U = len(base)
for g in (0.9, 0.7, 0.5):
    d = nd(count(train, g)) - base
    m = [d[rng.integers(0, U, U)].mean() for _ in range(1000)]
    print(k, "gamma %.1f: %+.4f [%+.4f, %+.4f] (base %.4f)" % (g, d.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5), base.mean()))
