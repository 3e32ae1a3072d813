# Adapter prototypes over frozen item embeddings, trained on (item, next) pairs.
# KIND: lin (shared map, session 28's), asym (query map for the last item, key map for candidates)
import json, sys, math, random, os, numpy as np, torch
from safetensors.numpy import load_file
torch.manual_seed(0); random.seed(0); torch.set_num_threads(2)
d = sys.argv[1]; EPOCHS = int(sys.argv[2]); KIND = sys.argv[3]
E = torch.tensor(load_file(f"{d}/embeddings.safetensors")["embeddings"]); E = torch.nn.functional.normalize(E, dim=1)
n, D = E.shape
seqs = [json.loads(l) for l in open(f"{d}/sequences.jsonl")]
ctx = []
try: ctx = [json.loads(l) for l in open(f"{d}/context.jsonl")]
except FileNotFoundError: pass
pairs = torch.tensor([(a, b) for t in [s["items"][:-2] for s in seqs] + [s["items"] for s in ctx] for a, b in zip(t, t[1:]) if a != b])
def lin():
    f = torch.nn.Linear(D, D); torch.nn.init.eye_(f.weight); torch.nn.init.zeros_(f.bias); return f
TAU = float(os.environ.get("TAU", "0.05"))
if KIND in ("lin", "asym"):
    fq = lin(); fk = fq if KIND == "lin" else lin()
    params = list(fq.parameters()) + ([] if KIND == "lin" else list(fk.parameters()))
    gq = lambda x: torch.nn.functional.normalize(fq(x), dim=1)
    gk = lambda x: torch.nn.functional.normalize(fk(x), dim=1)
else:  # free: shared map plus a per-item residual (rows indexed by item id; E rows are items)
    fq = lin(); V = torch.nn.Parameter(torch.zeros(n, D)); params = list(fq.parameters()) + [V]
    IDX = None
    def gq(x, idx=None):
        y = fq(x)
        if idx is not None: y = y + V[idx]
        else: y = y + V
        return torch.nn.functional.normalize(y, dim=1)
    gk = gq
opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
B = 256
def evaluate():
    with torch.no_grad(): Q = gq(E).numpy(); K = Q if KIND != "asym" else gk(E).numpy()
    out = {}
    for split in ("valid", "test"):
        rows = [json.loads(l) for l in open(f"{d}/{split}.jsonl")]
        nd = []
        for i in range(0, len(rows), 512):
            Bt = rows[i:i+512]
            S = Q[[r["history"][-1] for r in Bt]] @ K.T
            for b, r in enumerate(Bt):
                S[b, r["history"]] = -9
                t = S[b, r["target"]]; rank = int((S[b] > t).sum())
                nd.append(1 / math.log2(rank + 2) if rank < 10 else 0.0)
        out[split] = np.array(nd)
    return out
for ep in range(EPOCHS):
    perm = torch.randperm(len(pairs)); tot = 0
    for i in range(0, len(pairs), B):
        p = pairs[perm[i:i+B]]
        if KIND == "free": a, b = gq(E[p[:, 0]], p[:, 0]), gq(E[p[:, 1]], p[:, 1])
        else: a, b = gq(E[p[:, 0]]), gk(E[p[:, 1]])
        logits = a @ b.T / TAU
        same = (p[:, 1].unsqueeze(0) == p[:, 1].unsqueeze(1)) & ~torch.eye(len(p), dtype=torch.bool)
        logits = logits.masked_fill(same, -1e4); y = torch.arange(len(p))
        loss = (torch.nn.functional.cross_entropy(logits, y) + torch.nn.functional.cross_entropy(logits.T, y)) / 2
        opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item()
o = evaluate()
np.savez(f"{sys.argv[4]}.npz", valid=o["valid"], test=o["test"])
print(f"{d} {KIND} ep{EPOCHS} valid {o['valid'].mean():.4f} test {o['test'].mean():.4f}", flush=True)
