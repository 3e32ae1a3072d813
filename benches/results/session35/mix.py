"""Last-item text-kNN over mixes of two embeddings of the same items, name-only N and
full-text F: normalise(a·N + (1 − a)·F) for a in 0, 0.25, …, 1, NDCG@10 on a split,
each a paired against a = 0 (the full text).

  python3 mix.py SPLIT_DIR NAME_DIR FULL_DIR [valid|test]
"""
import json, sys
import numpy as np
from safetensors.numpy import load_file


def rows_of(split_dir, split):
    return [json.loads(l) for l in open(f"{split_dir}/{split}.jsonl")]


def load(d):
    return load_file(f"{d}/embeddings.safetensors")["embeddings"].astype(np.float32)


def ndcg(rows, e):
    """Per-user NDCG@10 of the last item's nearest (cosine; the item itself left out)."""
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


def paired(d, rng, n=1000):
    bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(n)]
    return d.mean(), np.percentile(bs, 2.5), np.percentile(bs, 97.5)


def main(sd, nd, fd, split):
    rows = rows_of(sd, split)
    N, F = load(nd), load(fd)
    base = None
    rng = np.random.default_rng(0)
    for a in (0, 0.25, 0.5, 0.75, 1):
        e = a * N + (1 - a) * F
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        x = ndcg(rows, e)
        if base is None:
            base = x
        m, lo, hi = paired(x - base, rng)
        print(f"{split} a={a}: NDCG@10 {x.mean():.4f}  − full {m:+.4f} [{lo:+.4f}, {hi:+.4f}]")


if __name__ == "__main__":
    main(*sys.argv[1:4], sys.argv[4] if len(sys.argv) > 4 else "valid")
