# Contrastive fine-tuning of MiniLM on (item, next item) pairs of the training sequences; text-kNN after.
import json, sys, math, time, random, numpy as np, torch
from transformers import AutoModel, PreTrainedTokenizerFast
sys.path.insert(0, "/work/main/runs/s28"); from tknn import run as tknn_run
torch.manual_seed(0); random.seed(0); torch.set_num_threads(2)
d = sys.argv[1]; EPOCHS = float(sys.argv[2]); LR = float(sys.argv[3]); OUT = sys.argv[4]
tok = PreTrainedTokenizerFast(tokenizer_file="tokenizer/all-MiniLM-L6-v2/tokenizer.json", pad_token="[PAD]")
model = AutoModel.from_pretrained("checkpoints/encoders/all-MiniLM-L6-v2")
items = [json.loads(l)["text"] for l in open(f"{d}/items.jsonl")]
seqs = [json.loads(l) for l in open(f"{d}/sequences.jsonl")]
ctx = []
try: ctx = [json.loads(l) for l in open(f"{d}/context.jsonl")]
except FileNotFoundError: pass
pairs = [(a, b) for t in [s["items"][:-2] for s in seqs] + [s["items"] for s in ctx] for a, b in zip(t, t[1:]) if a != b]
print(len(pairs), "pairs", flush=True)
def enc(texts, train):
    b = tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    o = model(**b).last_hidden_state
    m = b["attention_mask"].unsqueeze(-1).float()
    e = (o * m).sum(1) / m.sum(1)
    return torch.nn.functional.normalize(e, dim=1)
opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
B = 64; steps = int(EPOCHS * len(pairs) / B); t0 = time.time()
model.train()
random.shuffle(pairs)
for s in range(steps):
    batch = [pairs[(s * B + i) % len(pairs)] for i in range(B)]
    a = enc([items[x] for x, _ in batch], True); b = enc([items[y] for _, y in batch], True)
    logits = a @ b.T / 0.05
    # the same next item twice in a batch is not a negative
    ys = torch.tensor([y for _, y in batch]); same = (ys.unsqueeze(0) == ys.unsqueeze(1)) & ~torch.eye(B, dtype=torch.bool)
    logits = logits.masked_fill(same, -1e4)
    loss = (torch.nn.functional.cross_entropy(logits, torch.arange(B)) + torch.nn.functional.cross_entropy(logits.T, torch.arange(B))) / 2
    opt.zero_grad(); loss.backward(); opt.step()
    if s % 50 == 0: print(f"step {s}/{steps} loss {loss.item():.3f} {time.time()-t0:.0f}s", flush=True)
model.eval()
import os, shutil
os.makedirs(OUT, exist_ok=True)
for f in ("valid.jsonl", "test.jsonl"): shutil.copy(f"{d}/{f}", OUT)
with torch.no_grad():
    E = torch.cat([enc(items[i:i+256], False) for i in range(0, len(items), 256)])
from safetensors.numpy import save_file
save_file({"embeddings": E.numpy(), "item_ids": np.arange(len(items))}, f"{OUT}/embeddings.safetensors")
print(f"done {time.time()-t0:.0f}s")
