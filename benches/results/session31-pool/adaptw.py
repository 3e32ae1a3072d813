# The session-28 linear adapter, trained on pairs (item, item d later) for d <= W, weighting
# nothing: more pairs per user where sequences are short. Prints per-pass text-kNN.
# adaptw.py DATASET PASSES W OUT [decay: keep a d-pair with prob decay^(d-1)]
import json, sys, os, shutil, random, numpy as np, torch
from safetensors.numpy import load_file, save_file
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "session28-adapter")); from tknn import run as tknn_run
torch.manual_seed(0); random.seed(0); torch.set_num_threads(2)
d = sys.argv[1]; EPOCHS = int(sys.argv[2]); W = int(sys.argv[3]); OUT = sys.argv[4]
E = torch.tensor(load_file(f"{d}/embeddings.safetensors")["embeddings"]); E = torch.nn.functional.normalize(E, dim=1)
n, D = E.shape
seqs = [json.loads(l)["items"] for l in open(f"{d}/train.jsonl")]
seqs += [json.loads(l)["items"] for l in open(f"{d}/context.jsonl")]
pairs = torch.tensor([(t[i], t[i + k]) for t in seqs for k in range(1, W + 1) for i in range(len(t) - k) if t[i] != t[i + k]])
print("pairs", len(pairs), flush=True)
f = torch.nn.Linear(D, D); torch.nn.init.eye_(f.weight); torch.nn.init.zeros_(f.bias)
g = lambda x: torch.nn.functional.normalize(f(x), dim=1)
opt = torch.optim.AdamW(f.parameters(), lr=1e-3, weight_decay=0.01)
B = 256
steps = 0
for ep in range(EPOCHS):
    perm = torch.randperm(len(pairs)); tot = 0
    for i in range(0, len(pairs), B):
        p = pairs[perm[i:i+B]]
        a, b = g(E[p[:, 0]]), g(E[p[:, 1]])
        logits = a @ b.T / 0.05
        same = (p[:, 1].unsqueeze(0) == p[:, 1].unsqueeze(1)) & ~torch.eye(len(p), dtype=torch.bool)
        logits = logits.masked_fill(same, -1e4); y = torch.arange(len(p))
        loss = (torch.nn.functional.cross_entropy(logits, y) + torch.nn.functional.cross_entropy(logits.T, y)) / 2
        opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item(); steps += 1
    if ep % 2 == 1 or ep == EPOCHS - 1:
        os.makedirs(OUT, exist_ok=True)
        for fn in ("valid.jsonl", "test.jsonl"): shutil.copy(f"{d}/{fn}", OUT)
        with torch.no_grad(): save_file({"embeddings": g(E).numpy(), "item_ids": np.arange(n)}, f"{OUT}/embeddings.safetensors")
        o = tknn_run(OUT)
        print(f"W {W} pass {ep} steps {steps} valid {o['valid'].mean():.4f} test {o['test'].mean():.4f}", flush=True)
