# text-kNN (last item) NDCG@10 on valid and test from a prepared dataset's embeddings
import json, sys, math, numpy as np
from safetensors.numpy import load_file
def run(d):
    E = load_file(f"{d}/embeddings.safetensors")["embeddings"]
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    out = {}
    for split in ("valid", "test"):
        rows = [json.loads(l) for l in open(f"{d}/{split}.jsonl")]
        nd = []
        for i in range(0, len(rows), 512):
            B = rows[i:i+512]
            Q = E[[r["history"][-1] for r in B]]
            S = Q @ E.T
            for b, r in enumerate(B):
                S[b, r["history"]] = -9
                t = S[b, r["target"]]
                rank = int((S[b] > t).sum())
                nd.append(1 / math.log2(rank + 2) if rank < 10 else 0.0)
        out[split] = np.array(nd)
    return out
if __name__ == "__main__":
    base = run(sys.argv[1])
    print(sys.argv[1], {k: round(v.mean(), 4) for k, v in base.items()})
    rng = np.random.default_rng(0)
    for d in sys.argv[2:]:
        o = run(d)
        s = f"{d} " + " ".join(f"{k} {o[k].mean():.4f}" for k in o)
        for k in o:
            dd = o[k] - base[k]; bs = [dd[rng.integers(0, len(dd), len(dd))].mean() for _ in range(1000)]
            s += f" | Δ{k} {dd.mean():+.4f} [{np.quantile(bs,.025):+.4f},{np.quantile(bs,.975):+.4f}]"
        print(s)
