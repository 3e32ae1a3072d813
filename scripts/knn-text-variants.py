"""Text-kNN (last history item → nearest items by cosine, the item itself
excluded; as `genrec evaluate`'s baseline) on one split for several prepared
copies of a dataset that differ only in their item texts, each with its paired
bootstrap difference of NDCG@10 to the first. Used to choose prepare's default
text on validation.
Usage: knn-text-variants.py SPLIT NAME=DATASET_DIR [NAME=DATASET_DIR ...]"""
import json, sys
import numpy as np
from safetensors.numpy import load_file


def run(ds, split):
    e = load_file(f"{ds}/embeddings.safetensors")["embeddings"].astype(np.float32)
    rows = [json.loads(l) for l in open(f"{ds}/{split}.jsonl")]
    q = np.array([r["history"][-1] for r in rows])
    t = np.array([r["target"] for r in rows])
    rec, nd = np.zeros(len(rows)), np.zeros(len(rows))
    for s in range(0, len(rows), 2048):
        sc = e[q[s:s + 2048]] @ e.T
        sc[np.arange(len(sc)), q[s:s + 2048]] = -np.inf
        top = np.argsort(-sc, axis=1, kind="stable")[:, :10]
        for i, row in enumerate(top):
            hit = np.where(row == t[s + i])[0]
            if len(hit):
                rec[s + i], nd[s + i] = 1, 1 / np.log2(hit[0] + 2)
    return rec, nd


split = sys.argv[1]
variants = [a.split("=", 1) for a in sys.argv[2:]]
res = {n: run(d, split) for n, d in variants}
rng = np.random.default_rng(0)
ref = variants[0][0]
for n, (r, d) in res.items():
    line = f"{split} {n}: recall@10 {r.mean():.4f} ndcg@10 {d.mean():.4f}"
    if n != ref:
        diff = d - res[ref][1]
        boot = diff[rng.integers(0, len(diff), (1000, len(diff)))].mean(1)
        line += f"  NDCG@10 - {ref}: {diff.mean():+.4f} [{np.percentile(boot, 2.5):+.4f}, {np.percentile(boot, 97.5):+.4f}]"
    print(line)
