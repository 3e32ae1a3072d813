"""Last-item text-kNN over mixes of two embeddings of the same items, name-only N and
full-text F: normalise(a·N + (1 − a)·F) for a in 0, 0.25, …, 1, NDCG@10 on a split,
each a paired against a = 0 (the full text).

  python3 mix.py SPLIT_DIR NAME_DIR FULL_DIR [valid|test]
"""
import json, sys
import numpy as np
from safetensors.numpy import load_file

sd, nd, fd = sys.argv[1:4]
split = sys.argv[4] if len(sys.argv) > 4 else "valid"
rows = [json.loads(l) for l in open(f"{sd}/{split}.jsonl")]
N = load_file(f"{nd}/embeddings.safetensors")["embeddings"].astype(np.float32)
F = load_file(f"{fd}/embeddings.safetensors")["embeddings"].astype(np.float32)


def ndcg(e):
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


base = None
rng = np.random.default_rng(0)
for a in (0, 0.25, 0.5, 0.75, 1):
    e = a * N + (1 - a) * F
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    x = ndcg(e)
    if base is None:
        base = x
    d = x - base
    bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
    print(f"{split} a={a}: NDCG@10 {x.mean():.4f}  − full {d.mean():+.4f} [{np.percentile(bs, 2.5):+.4f}, {np.percentile(bs, 97.5):+.4f}]")
