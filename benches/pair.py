"""Paired NDCG@10 / Recall@10 of two recommend outputs: pair.py DATASET_DIR SPLIT NEW OLD."""
import json, sys, numpy as np
ds, sp, fa, fb = sys.argv[1:5]
ids = [json.loads(l) for l in open(f"{ds}/items.jsonl")]
orig = {i["id"]: i["original_id"] for i in ids}
held = [json.loads(l) for l in open(f"{ds}/{sp}.jsonl")]
def nd(f):
    rows = {json.loads(l)["user"]: json.loads(l)["items"] for l in open(f)}
    n, r = [], []
    for h in held:
        t = orig[h["target"]]; l = rows[h["user"]][:10]
        n.append(1 / np.log2(l.index(t) + 2) if t in l else 0.0); r.append(float(t in l))
    return np.array(n), np.array(r)
(a, ra), (b, rb) = nd(fa), nd(fb)
rng = np.random.default_rng(0); U = len(a)
def ci(d):
    m = [d[rng.integers(0, U, U)].mean() for _ in range(2000)]
    return d.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)
print(f"{ds} {sp}: NDCG@10 {a.mean():.4f} vs {b.mean():.4f}: {'%+.4f [%+.4f, %+.4f]' % ci(a - b)}; Recall@10 {ra.mean():.4f} vs {rb.mean():.4f}: {'%+.4f [%+.4f, %+.4f]' % ci(ra - rb)}")
