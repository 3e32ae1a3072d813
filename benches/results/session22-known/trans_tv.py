"""Transitions alone on test: counts from the training split vs training + validation (each user's sequence but the test item)."""
import json, sys, numpy as np
from collections import defaultdict, Counter
k = sys.argv[1]
ds = f"/work/main/runs/{k}/ds"
train = [json.loads(l)["items"] for l in open(f"{ds}/train.jsonl")]
valid = [json.loads(l) for l in open(f"{ds}/valid.jsonl")]
test = [json.loads(l) for l in open(f"{ds}/test.jsonl")]
seqs = [json.loads(l)["items"] for l in open(f"{ds}/sequences.jsonl")]
def count(ss):
    c = defaultdict(Counter)
    for s in ss:
        for a, b in zip(s, s[1:]): c[a][b] += 1
    return c
def top(c, h, n=20):
    sc = Counter(); w = 1.0
    for it in list(reversed(h))[:3]:
        for j, x in c[it].items(): sc[j] += w * x
        w *= 0.5
    return [j for j, _ in sorted(sc.items(), key=lambda t: (-t[1], t[0])) if j != h[-1]][:n]
def ndcg(c, held):
    x = np.zeros(len(held))
    for u, r in enumerate(held):
        l = top(c, r["history"])[:10]
        if r["target"] in l: x[u] = 1 / np.log2(l.index(r["target"]) + 2)
    return x
ct = count(train); ctv = count([s[:-1] for s in seqs])
a, b = ndcg(ct, test), ndcg(ctv, test)
rng = np.random.default_rng(0); U = len(a)
m = [(b - a)[rng.integers(0, U, U)].mean() for _ in range(2000)]
print(k, "valid (train counts) %.4f | test: train counts %.4f, train+valid counts %.4f, diff %+.4f [%+.4f, %+.4f]" % (ndcg(ct, valid).mean(), a.mean(), b.mean(), (b - a).mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)))
