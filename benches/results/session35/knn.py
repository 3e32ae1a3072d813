"""Last-item text-kNN (cosine over genrec's embeddings, the query item itself excluded,
seen items rankable) of two embedded copies of one prepared dataset, paired over the
split's users: NDCG@10 of each and B − A with a 95 % paired-bootstrap interval.

  python3 knn.py A_DIR B_DIR [valid|test]
"""
import sys
import numpy as np
from mix import load, ndcg, paired, rows_of

a, b = sys.argv[1], sys.argv[2]
split = sys.argv[3] if len(sys.argv) > 3 else "valid"
rows = rows_of(a, split)
x, y = ndcg(rows, load(a)), ndcg(rows, load(b))
m, lo, hi = paired(y - x, np.random.default_rng(0), 2000)
print(f"{split}: A {x.mean():.4f}  B {y.mean():.4f}  B − A {m:+.4f} [{lo:+.4f}, {hi:+.4f}] over {len(x)} users")
