"""Hybrid text-kNN of the last item: MiniLM cosine + a * IDF word-set cosine,
NDCG@10 on valid and test, each user's history left out; paired against a = 0."""
import json, sys, math, re, numpy as np, torch
torch.set_num_threads(1)
from safetensors.numpy import load_file
d = sys.argv[1]; alphas = [float(a) for a in sys.argv[2].split(",")]
E = load_file(f"{d}/embeddings.safetensors")["embeddings"].astype(np.float32)
E /= np.linalg.norm(E, axis=1, keepdims=True)
texts = [json.loads(l)["text"] for l in open(f"{d}/items.jsonl")]
toks = [set(w for w in re.findall(r"\w+", t.lower()) if len(w) > 1 and not re.fullmatch(r"_+", w)) for t in texts]
vocab = {}; rows = []; cols = []
for i, s in enumerate(toks):
    for w in s: rows.append(i); cols.append(vocab.setdefault(w, len(vocab)))
N = len(texts)
idx = torch.tensor([rows, cols]); V = len(vocab)
df = np.bincount(cols, minlength=V).astype(np.float32); idf = np.log(N / df).astype(np.float32)
vals = torch.tensor(idf[cols])
nrm = np.sqrt(np.bincount(rows, weights=idf[cols] ** 2, minlength=N)).astype(np.float32); nrm[nrm == 0] = 1
vals = vals / torch.tensor(nrm[rows])
L = torch.sparse_coo_tensor(idx, vals, (N, V)).coalesce()
def lex_rows(last):
    # dense rows of L for the query items, then scores against all items
    Lq = torch.zeros(len(last), V)
    for b, i in enumerate(last):
        for w in toks[i]:
            j = vocab[w]; Lq[b, j] = float(idf[j] / nrm[i])
    return torch.sparse.mm(L, Lq.T).T.numpy()
rng = np.random.default_rng(0)
for split in ("valid", "test"):
    held = [json.loads(l) for l in open(f"{d}/{split}.jsonl")]
    res = {a: [] for a in alphas}
    for i in range(0, len(held), 500):
        B = held[i:i+500]; last = [h["history"][-1] for h in B]
        S0 = E[last] @ E.T; SL = lex_rows(last)
        for a in alphas:
            S = S0 + a * SL if a < 1e6 else SL + 1e-3 * S0
            for b, h in enumerate(B):
                s = S[b].copy(); s[h["history"]] = -9; t = s[h["target"]]; r = int((s > t).sum())
                res[a].append(1 / math.log2(r + 2) if r < 10 else 0.0)
    base = np.array(res[alphas[0]])
    out = f"{d} {split}:"
    for a in alphas:
        x = np.array(res[a]); dd = x - base; bs = [dd[rng.integers(0, len(dd), len(dd))].mean() for _ in range(1000)]
        out += f" a={a:g} {x.mean():.4f} ({dd.mean():+.4f} [{np.quantile(bs,.025):+.4f},{np.quantile(bs,.975):+.4f}])"
    print(out, flush=True)
