"""Shared by the transition proxies: a sample's splits, transition counts, each
history's top successors (as eval::Transitions::top: the last three items,
weights 0.5^age, the last item left out, ties by the smaller id), NDCG@10 of
lists and a paired bootstrap."""
import json, numpy as np
from collections import defaultdict, Counter
def splits(k):
    """train sequences, valid and test records, whole sequences of runs/<k>/ds."""
    ds = f"/work/main/runs/{k}/ds"
    read = lambda f: [json.loads(l) for l in open(f"{ds}/{f}")]
    return ([t["items"] for t in read("train.jsonl")], read("valid.jsonl"), read("test.jsonl"),
            [s["items"] for s in read("sequences.jsonl")])
def count(seqs, span=1, weight=lambda s, p, d: 1.0, skip_self=False):
    """c[a][b] = sum of weight(sequence, position of a, distance) over a -> b at distance <= span."""
    c = defaultdict(Counter)
    for s in seqs:
        for d in range(1, span + 1):
            for p, (a, b) in enumerate(zip(s, s[d:])):
                if not (skip_self and a == b): c[a][b] += weight(s, p, d)
    return c
def top(c, h, n=20, min_score=None):
    sc = Counter(); w = 1.0
    for it in list(reversed(h))[:3]:
        for j, x in c[it].items(): sc[j] += w * x
        w *= 0.5
    ranked = sorted(sc.items(), key=lambda t: (-t[1], t[0]))
    return [j for j, x in ranked if j != h[-1] and (min_score is None or x >= min_score)][:n]
def ndcg(c, held):
    """Per-user NDCG@10 of the top successors of each record's history."""
    x = np.zeros(len(held))
    for u, r in enumerate(held):
        l = top(c, r["history"])[:10]
        if r["target"] in l: x[u] = 1 / np.log2(l.index(r["target"]) + 2)
    return x
def paired(a, b, n=2000):
    """Mean of b - a and its 95 % percentile-bootstrap interval (seed 0)."""
    d = b - a; rng = np.random.default_rng(0); U = len(d)
    m = [d[rng.integers(0, U, U)].mean() for _ in range(n)]
    return d.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)
