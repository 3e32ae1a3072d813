"""The blend's fusion recomputed from a dumped pool with another text list:
the sources' ranks from the dump, the text neighbours of the last item
recomputed over the adapted embeddings with the nudge cos + β·ln(1 + max(count, c0))
(c0 = 0: genrec's nudge), fused with the card's weights. Validation NDCG@10,
paired against the dump's own text list.
nudge.py DATASET_DIR POOLS.jsonl ADAPTER W_GEN W_TEXT W_SAS W_NEXT K"""
import json, sys, math, numpy as np
from collections import Counter
from safetensors.numpy import load_file
ds, pf, ad = sys.argv[1:4]; W = [float(x) for x in sys.argv[4:8]]; K = float(sys.argv[8])
rows = [json.loads(l) for l in open(pf)]
E = load_file(f"{ds}/embeddings.safetensors")["embeddings"].astype(np.float32); E /= np.linalg.norm(E, axis=1, keepdims=True)
a = load_file(ad); E = E @ a["weight"].T + a["bias"]; E /= np.linalg.norm(E, axis=1, keepdims=True)
jl = lambda p: [json.loads(l)["items"] for l in open(p)]
cnt = Counter(i for s in jl(f"{ds}/train.jsonl") + jl(f"{ds}/context.jsonl") for i in s)
C = np.array([cnt[i] for i in range(len(E))], dtype=np.float64)
def fused(r, text):
    sc = {}
    n = len(r["items"]); x = np.array(r["x"]).reshape(n, 25)
    for c, it in enumerate(r["items"]):
        for s, w in ((0, W[0]), (2, W[2]), (3, W[3])):
            rank = x[c, 4 * s]  # present
            if rank > 0: sc[it] = sc.get(it, 0) + w / (K + (1 / x[c, 4 * s + 1] - 1))
    for rk, it in enumerate(text):
        sc[it] = sc.get(it, 0) + W[1] / (K + rk + 1)
    return sorted(sc, key=lambda i: -sc[i])[:10]
def nd(l, t): return 1 / math.log2(l.index(t) + 2) if t in l else 0.0
def run(beta, c0):
    out = []
    for r in rows:
        h = r["history"]; s = E @ E[h[-1]] + beta * np.log1p(np.maximum(C, c0)); s[h] = -9
        text = [int(i) for i in np.argsort(-s, kind="stable")[:20]]
        out.append(nd(fused(r, text), r["target"]))
    return np.array(out)
def ci(d):
    rng = np.random.default_rng(0); bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
    return f"{d.mean():+.4f} [{np.quantile(bs,.025):+.4f}, {np.quantile(bs,.975):+.4f}]"
base = run(float(sys.argv[9]) if len(sys.argv) > 9 else 0.04, 0)
print(ds, "recomputed blend", round(base.mean(), 4))
for beta, c0 in [(0.0, 0), (0.04, 1), (0.04, 2), (0.04, 4), (0.08, 2), (0.08, 4)]:
    o = run(beta, c0); print(f"  β {beta} c0 {c0}: {o.mean():.4f} {ci(o - base)}", flush=True)
