"""text-kNN (last item, cosine) validation/test NDCG@10 per embedding variant; paired bootstrap vs the first."""
import json, sys, numpy as np
from safetensors.numpy import load_file
def load(ds):
    E = load_file(f"{ds}/embeddings.safetensors")["embeddings"].astype(np.float32)
    return E / (np.linalg.norm(E, axis=1, keepdims=True) + 1e-12)
def nd(ds, E, split, prof=1):
    rows = [json.loads(l) for l in open(f"{ds}/{split}.jsonl")]
    out = np.zeros(len(rows))
    for s in range(0, len(rows), 512):
        b = rows[s:s+512]
        Q = np.stack([E[r["history"][-prof:]].mean(0) for r in b])
        S = Q @ E.T
        for i, r in enumerate(b):
            S[i, r["history"][-1]] = -9
        t = np.array([r["target"] for r in b])
        ts = S[np.arange(len(b)), t]
        pos = (S > ts[:, None]).sum(1)
        out[s:s+len(b)] = np.where(pos < 10, 1 / np.log2(pos + 2), 0)
    return out
def boot(x, n=2000, seed=0):
    r = np.random.default_rng(seed); m = [x[r.integers(0, len(x), len(x))].mean() for _ in range(n)]
    return x.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)
base = sys.argv[1]; others = sys.argv[2:]
for split in ("valid", "test"):
    b = nd(base, load(base), split)
    print(split, base, "%.4f" % b.mean())
    for o in others:
        x = nd(o, load(o), split)
        print(split, o, "%.4f" % x.mean(), "diff %+.4f [%+.4f, %+.4f]" % boot(x - b))
