"""Last-item text-kNN (cosine over genrec's embeddings, the query item itself excluded,
seen items rankable) of two embedded copies of one prepared dataset, paired over the
split's users: NDCG@10 of each and B − A with a 95 % paired-bootstrap interval.

  python3 knn.py A_DIR B_DIR [valid|test]
"""
import json, sys
import numpy as np
from safetensors.numpy import load_file

a, b = sys.argv[1], sys.argv[2]
split = sys.argv[3] if len(sys.argv) > 3 else "valid"
rows = [json.loads(l) for l in open(f"{a}/{split}.jsonl")]


def ndcg(d):
    t = load_file(f"{d}/embeddings.safetensors")
    e = next(iter(t.values())) if "embeddings" not in t else t["embeddings"]
    e = e.astype(np.float32)
    out = []
    for r in rows:
        q = r["history"][-1]
        s = e @ e[q]
        s[q] = -np.inf
        top = np.argpartition(-s, 10)[:10]
        top = top[np.argsort(-s[top])]
        hit = np.where(top == r["target"])[0]
        out.append(1 / np.log2(hit[0] + 2) if len(hit) else 0.0)
    return np.array(out)


x, y = ndcg(a), ndcg(b)
d = y - x
rng = np.random.default_rng(0)
bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
print(f"{split}: A {x.mean():.4f}  B {y.mean():.4f}  B − A {d.mean():+.4f} [{np.percentile(bs, 2.5):+.4f}, {np.percentile(bs, 97.5):+.4f}] over {len(d)} users")
