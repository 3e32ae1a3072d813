# Learned text query: a linear map of recency-weighted history text embeddings, cosine/temperature
# softmax over the whole catalogue, trained on the training sequences' next items.
import json, sys, math, time, numpy as np, torch
from safetensors.numpy import load_file
torch.manual_seed(0); torch.set_num_threads(2)
d = sys.argv[1]; EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else 10; MODE = sys.argv[3] if len(sys.argv) > 3 else "lin"
seqs = [json.loads(l) for l in open(f"{d}/sequences.jsonl")]
ctx = []
try: ctx = [json.loads(l) for l in open(f"{d}/context.jsonl")]
except FileNotFoundError: pass
E = torch.tensor(load_file(f"{d}/embeddings.safetensors")["embeddings"]); E = E / E.norm(dim=1, keepdim=True)
n, D = E.shape; L = 20
train = [s["items"][:-2] for s in seqs] + [s["items"] for s in ctx]
X, Y = [], []
for t in train:
    for i in range(1, len(t)):
        X.append(t[max(0, i - L):i]); Y.append(t[i])
def pad(hs):
    out = torch.full((len(hs), L), n, dtype=torch.long)
    for r, h in enumerate(hs):
        h = h[-L:]; out[r, L - len(h):] = torch.tensor(h)
    return out
Xp = pad(X); Yt = torch.tensor(Y)
Epad = torch.cat([E, torch.zeros(1, D)])
class M(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.pos = torch.nn.Parameter(torch.linspace(-3, 0, L))  # logits of position weights, last = highest
        s.W = torch.nn.Parameter(torch.eye(D)); s.U = torch.nn.Parameter(torch.eye(D))
        s.logt = torch.nn.Parameter(torch.tensor(math.log(20.0)))
        s.idemb = torch.nn.Parameter(torch.zeros(n, D)) if MODE == "id" else None
    def items(s):
        I = E @ s.U
        if s.idemb is not None: I = I + s.idemb
        return torch.nn.functional.normalize(I, dim=1)
    def query(s, xp):
        H = Epad[xp]                                    # B L D
        mask = (xp < n).float()
        w = torch.softmax(s.pos.expand_as(mask).masked_fill(mask == 0, -1e9), dim=1)
        q = (w.unsqueeze(-1) * H).sum(1) @ s.W
        return torch.nn.functional.normalize(q, dim=1)
    def forward(s, xp):
        return s.query(xp) @ s.items().T * s.logt.exp()
m = M(); opt = torch.optim.Adam(m.parameters(), lr=1e-3, weight_decay=0)
rows = {}
for split, cut in (("valid", 2), ("test", 1)):
    hs, ts = [], []
    for s in seqs:
        h = s["items"][:-cut]
        if h: hs.append(h); ts.append(s["items"][-cut])
    rows[split] = (hs, ts)
def evaluate(split, model=True):
    hs, ts = rows[split]; nd = []
    with torch.no_grad():
        I = m.items() if model else E
        for i in range(0, len(hs), 1024):
            B = hs[i:i+1024]
            if model: S = m.query(pad(B)) @ I.T
            else: S = E[[h[-1] for h in B]] @ E.T
            for b, h in enumerate(B): S[b, h] = -9
            t = torch.tensor(ts[i:i+1024])
            r = (S > S[torch.arange(len(B)), t].unsqueeze(1)).sum(1)
            nd += [1 / math.log2(x + 2) if x < 10 else 0.0 for x in r.tolist()]
    return np.array(nd)
base = {s: evaluate(s, False) for s in rows}
print(f"{d}: {len(X)} examples; text-kNN valid {base['valid'].mean():.4f} test {base['test'].mean():.4f}")
rng = np.random.default_rng(0)
best = (-1, None)
for ep in range(EPOCHS):
    t0 = time.time(); perm = torch.randperm(len(X)); tot = 0
    for i in range(0, len(X), 256):
        idx = perm[i:i+256]
        loss = torch.nn.functional.cross_entropy(m(Xp[idx]), Yt[idx])
        opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item() * len(idx)
    v = evaluate("valid")
    dd = v - base["valid"]; bs = [dd[rng.integers(0, len(dd), len(dd))].mean() for _ in range(300)]
    print(f"epoch {ep} loss {tot/len(X):.3f} valid {v.mean():.4f} Δ {dd.mean():+.4f} [{np.quantile(bs,.025):+.4f},{np.quantile(bs,.975):+.4f}] τ⁻¹ {m.logt.exp().item():.1f} {time.time()-t0:.0f}s", flush=True)
    if v.mean() > best[0]:
        best = (v.mean(), ep); te = evaluate("test")
dd = te - base["test"]; bs = [dd[rng.integers(0, len(dd), len(dd))].mean() for _ in range(1000)]
print(f"best epoch {best[1]}: test {te.mean():.4f} Δ {dd.mean():+.4f} [{np.quantile(bs,.025):+.4f},{np.quantile(bs,.975):+.4f}]")
