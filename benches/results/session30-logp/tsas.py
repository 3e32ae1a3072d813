"""Prototype: SASRec (RecBole's recipe) with item vectors from the frozen text
embeddings, against ID-only SASRec, on a prepared genrec dataset.
  tsas.py DATASET_DIR VARIANT [EPOCHS]   VARIANT: id | text | both
Item vector: id: a free embedding; text: W·e (e the L2-normalised text
embedding, W learned); both: the sum. Validation NDCG@10 each epoch (full
catalogue, seen items rankable), early stop after 10 without a better one;
then test NDCG@10 of the best epoch; per-user lists saved for pairing."""
import json, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from safetensors.numpy import load_file
torch.set_num_threads(2); torch.manual_seed(0); np.random.seed(0)
ds, var = sys.argv[1], sys.argv[2]; EP = int(sys.argv[3]) if len(sys.argv) > 3 else 200
rd = lambda f: [json.loads(l) for l in open(f"{ds}/{f}")]
train = [r["items"] for r in rd("train.jsonl")]
valid, test = rd("valid.jsonl"), rd("test.jsonl")
E = load_file(f"{ds}/embeddings.safetensors"); ids = E["item_ids"]; emb = E["embeddings"]
N = int(max(ids.max(), max(max(s) for s in train))) + 1
T = np.zeros((N + 1, emb.shape[1]), np.float32); T[ids + 1] = emb / np.linalg.norm(emb, axis=1, keepdims=True)
T = torch.tensor(T)
L, H = 50, 64
# RecBole: every prefix of every training sequence a target.
X, Y = [], []
for s in train:
    for t in range(1, len(s)):
        h = s[max(0, t - L):t]; X.append([i + 1 for i in h] + [0] * (L - len(h))); Y.append(s[t] + 1)
X, Y = torch.tensor(X), torch.tensor(Y)
print(f"{len(Y)} training targets, {N} items", flush=True)
class SAS(nn.Module):
    def __init__(s):
        super().__init__()
        s.id = nn.Embedding(N + 1, H) if var in ("id", "both") else None
        s.w = nn.Linear(T.shape[1], H, bias=False) if var in ("text", "both") else None
        if s.id is not None: nn.init.normal_(s.id.weight, 0, 0.02)
        if s.w is not None: nn.init.normal_(s.w.weight, 0, 0.02 if var == "both" else 1 / T.shape[1] ** 0.5)
        s.pos = nn.Embedding(L, H); nn.init.normal_(s.pos.weight, 0, 0.02)
        s.ln = nn.LayerNorm(H, eps=1e-12); s.dp = nn.Dropout(0.5)
        s.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(H, 2, 256, 0.5, activation="gelu", batch_first=True), 2, enable_nested_tensor=False)
    def table(s):
        t = 0
        if s.id is not None: t = t + s.id.weight
        if s.w is not None: t = t + s.w(T)
        return t
    def forward(s, x, tab):
        lens = (x > 0).sum(1).clamp(min=1)
        h = s.dp(s.ln(tab[x] + s.pos.weight[None]))
        l = x.shape[1]; causal = torch.triu(torch.ones(l, l, dtype=torch.bool), 1)
        h = s.enc(h, mask=causal, src_key_padding_mask=(x == 0) & (torch.arange(l)[None] >= lens[:, None]))
        return h[torch.arange(len(x)), lens - 1]
def batch(hs):
    return torch.tensor([[i + 1 for i in h[-L:]] + [0] * (L - len(h[-L:])) for h in hs])
m = SAS(); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
def rank(rows):
    m.eval(); out = []
    with torch.no_grad():
        tab = m.table()
        for i in range(0, len(rows), 512):
            st = m(batch([r["history"] for r in rows[i:i + 512]]), tab)
            sc = st @ tab.T; sc[:, 0] = -1e9
            out += (sc.topk(10).indices - 1).tolist()
    return out
def ndcg(rows, lists):
    return np.array([1 / np.log2(l.index(r["target"]) + 2) if r["target"] in l else 0.0 for r, l in zip(rows, lists)])
best, bad, t0 = -1, 0, time.time()
for ep in range(EP):
    m.train(); perm = torch.randperm(len(Y))
    for i in range(0, len(Y), 2048):
        b = perm[i:i + 2048]; tab = m.table()
        loss = F.cross_entropy(m(X[b], tab) @ tab[1:].T, Y[b] - 1)
        opt.zero_grad(); loss.backward(); opt.step()
    v = ndcg(valid, rank(valid)).mean()
    if v > best: best, bad, state = v, 0, {k: x.clone() for k, x in m.state_dict().items()}; be = ep
    else: bad += 1
    print(f"epoch {ep} loss {loss.item():.3f} valid {v:.4f} {'*' if bad == 0 else ''} {time.time() - t0:.0f}s", flush=True)
    if bad >= 10: break
m.load_state_dict(state)
lv, lt = rank(valid), rank(test)
print(f"{var}: best epoch {be} valid NDCG@10 {ndcg(valid, lv).mean():.4f} test {ndcg(test, lt).mean():.4f}")
json.dump({"valid": lv, "test": lt}, open(f"/work/main/runs/tsas-{ds.split('/')[-1]}-{var}.json", "w"))
