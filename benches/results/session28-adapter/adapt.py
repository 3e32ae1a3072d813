# Contrastive adapter over frozen item embeddings: e' = normalize(e + MLP(e)) or W e, trained on (item, next) pairs.
# adapt.py DATASET PASSES lin|mlp OUT [W]: with W (session 31), pairs (item, item d later) for every d <= W (default 1).
import json, sys, math, time, random, os, shutil, numpy as np, torch
from safetensors.numpy import load_file, save_file
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from tknn import run as tknn_run
torch.manual_seed(0); random.seed(0); torch.set_num_threads(2)
d = sys.argv[1]; EPOCHS = int(sys.argv[2]); KIND = sys.argv[3]; OUT = sys.argv[4]; W = int(sys.argv[5]) if len(sys.argv) > 5 else 1
E = torch.tensor(load_file(f"{d}/embeddings.safetensors")["embeddings"]); E = torch.nn.functional.normalize(E, dim=1)
n, D = E.shape
seqs = [json.loads(l) for l in open(f"{d}/sequences.jsonl")]
ctx = []
try: ctx = [json.loads(l) for l in open(f"{d}/context.jsonl")]
except FileNotFoundError: pass
pairs = torch.tensor([(t[i], t[i + k]) for t in [s["items"][:-2] for s in seqs] + [s["items"] for s in ctx] for k in range(1, W + 1) for i in range(len(t) - k) if t[i] != t[i + k]])
if KIND == "lin":
    f = torch.nn.Linear(D, D); torch.nn.init.eye_(f.weight); torch.nn.init.zeros_(f.bias)
    g = lambda x: torch.nn.functional.normalize(f(x), dim=1); params = f.parameters()
else:
    f = torch.nn.Sequential(torch.nn.Linear(D, 4 * D), torch.nn.GELU(), torch.nn.Linear(4 * D, D))
    torch.nn.init.zeros_(f[2].weight); torch.nn.init.zeros_(f[2].bias)
    g = lambda x: torch.nn.functional.normalize(x + f(x), dim=1); params = f.parameters()
opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
B = 256
for ep in range(EPOCHS):
    perm = torch.randperm(len(pairs)); tot = 0
    for i in range(0, len(pairs), B):
        p = pairs[perm[i:i+B]]
        a, b = g(E[p[:, 0]]), g(E[p[:, 1]])
        logits = a @ b.T / 0.05
        same = (p[:, 1].unsqueeze(0) == p[:, 1].unsqueeze(1)) & ~torch.eye(len(p), dtype=torch.bool)
        logits = logits.masked_fill(same, -1e4); y = torch.arange(len(p))
        loss = (torch.nn.functional.cross_entropy(logits, y) + torch.nn.functional.cross_entropy(logits.T, y)) / 2
        opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item()
    os.makedirs(OUT, exist_ok=True)
    for fn in ("valid.jsonl", "test.jsonl"): shutil.copy(f"{d}/{fn}", OUT)
    with torch.no_grad(): save_file({"embeddings": g(E).numpy(), "item_ids": np.arange(n)}, f"{OUT}/embeddings.safetensors")
    o = tknn_run(OUT)
    print(f"epoch {ep} loss {tot/ (len(pairs)/B):.3f} valid {o['valid'].mean():.4f} test {o['test'].mean():.4f}", flush=True)
