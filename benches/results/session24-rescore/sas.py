"""Proxy: SASRec (RecBole's recipe, as genrec's harness) against SASRec whose item
vectors add a learned projection of the frozen text embedding; validation NDCG@10,
full catalogue, seen items rankable. Dumps each variant's top-50 validation lists."""
import json, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from safetensors.numpy import load_file
import os; torch.set_num_threads(int(os.environ.get("TH", "2")))
k, variant = sys.argv[1], sys.argv[2]
maxep = int(sys.argv[3]) if len(sys.argv) > 3 else 200
D = f"/work/main/runs/{k}/ds"
train = [json.loads(l)["items"] for l in open(f"{D}/train.jsonl")]
valid = [json.loads(l) for l in open(f"{D}/valid.jsonl")]
N = sum(1 for _ in open(f"{D}/items.jsonl"))
E = torch.tensor(load_file(f"{D}/embeddings.safetensors")["embeddings"], dtype=torch.float32)
E = E / (E.norm(dim=1, keepdim=True) + 1e-12)
torch.manual_seed(42); np.random.seed(42)
H, L, DROP = 64, 50, 0.5
class SAS(nn.Module):
    def __init__(s):
        super().__init__()
        s.items = nn.Embedding(N + 1, H, padding_idx=0); nn.init.normal_(s.items.weight, 0, 0.02)
        s.pos = nn.Embedding(L, H); nn.init.normal_(s.pos.weight, 0, 0.02)
        s.ln = nn.LayerNorm(H, eps=1e-12); s.drop = nn.Dropout(DROP)
        layer = nn.TransformerEncoderLayer(H, 2, 256, DROP, activation="gelu", batch_first=True, norm_first=False, layer_norm_eps=1e-12)
        s.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        if variant != "id":
            s.proj = nn.Linear(E.shape[1], H, bias=False); nn.init.normal_(s.proj.weight, 0, 0.02)
            s.tln = nn.LayerNorm(H, eps=1e-12)
    def table(s):
        w = s.items.weight
        if variant == "id": return w
        t = torch.cat([torch.zeros(1, E.shape[1]), E]) @ s.proj.weight.T
        if variant == "text": return t
        return w + t
    def forward(s, seq):
        T = s.table(); b, l = seq.shape
        x = T[seq] + s.pos.weight[:l][None]
        x = s.drop(s.ln(x))
        causal = torch.triu(torch.full((l, l), float("-inf")), 1)
        x = s.enc(x, mask=causal, src_key_padding_mask=(seq == 0))
        return x, T
# examples: each training sequence, last L+1 items (sequences here are short)
seqs = [s[-(L + 1):] for s in train if len(s) >= 2]
m = SAS(); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
def batches(order, bt=2048):
    cur, n = [], 0
    for i in order:
        cur.append(seqs[i]); n += len(seqs[i]) - 1
        if n >= bt: yield cur; cur, n = [], 0
    if cur: yield cur
def pad(rows, l):
    out = torch.zeros(len(rows), l, dtype=torch.long)
    for r, s in enumerate(rows): out[r, :len(s)] = torch.tensor(s) + 1
    return out
def evaluate(dump=False):
    m.eval(); nd = []; lists = []
    with torch.no_grad():
        for i in range(0, len(valid), 512):
            ch = valid[i:i + 512]; hs = [v["history"][-L:] for v in ch]
            l = max(len(h) for h in hs); seq = pad(hs, l)
            x, T = m(seq); st = x[torch.arange(len(hs)), torch.tensor([len(h) - 1 for h in hs])]
            sc = st @ T[1:].T
            top = sc.topk(50, dim=1).indices
            for v, t in zip(ch, top.tolist()):
                nd.append(1 / np.log2(t.index(v["target"]) + 2) if v["target"] in t[:10] else 0.0)
                lists.append(t)
    m.train(); return np.mean(nd), lists, np.array(nd)
best, bad, t0 = -1, 0, time.time()
for ep in range(maxep):
    order = np.random.permutation(len(seqs))
    for rows in batches(order):
        l = max(len(r) for r in rows) - 1
        inp = pad([r[:-1] for r in rows], l); tgt = pad([r[1:] for r in rows], l) - 1
        x, T = m(inp); mask = tgt >= 0
        logits = x[mask] @ T[1:].T
        loss = F.cross_entropy(logits, tgt[mask])
        opt.zero_grad(); loss.backward(); opt.step()
    v, lists, per = evaluate()
    if v > best: best, bad, bl, bper = v, 0, lists, per
    else: bad += 1
    print(f"{k} {variant} epoch {ep+1} valid ndcg@10 {v:.4f} best {best:.4f} ({time.time()-t0:.0f} s)", flush=True)
    if bad >= 10: break
json.dump({"lists": bl, "ndcg": bper.tolist()}, open(f"/work/main/runs/tsas/{k}-{variant}.json", "w"))
print(f"{k} {variant} BEST {best:.4f}")
