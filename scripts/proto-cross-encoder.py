#!/usr/bin/env python3
"""Prototype measurement for issue 14's first design (a MiniLM cross-encoder
verifier), in PyTorch + transformers, before it is built in Rust: is reading
the items' text worth its cost on the generator's candidates?

  scripts/proto-cross-encoder.py positions OUT      # sample training positions
  (genrec recommend over them and the valid/test splits: see below)
  scripts/proto-cross-encoder.py run OUT            # fine-tune, AUC, λ on valid, test

Input `[CLS] recent history texts (most recent first) [SEP] candidate text
[SEP]`, truncated to 96 tokens (the history side is cut), a yes/no head on
the mean-pooled last layer, embeddings and the lower 3 layers frozen; yes =
the true next item, no = 2 of the generator's top-10 (hard) + 2 random items.
Reranking: log p_gen + λ · log P(yes) over the generator's top 20, λ chosen
on validation NDCG@10; test reported with the paired bootstrap over users.
Needs `scripts/setup.sh --bench` (transformers). Reference only: genrec never
runs Python.
"""
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DS = ROOT / "data/prepared/ml-100k"
POSITIONS = 3000
# Positions the prototype trains on (of the POSITIONS sampled): 2 CPU cores
# fine-tune about 10 pairs/s at this budget.
TRAIN_POSITIONS = 1200
BUDGET = 96
HISTORY = 10


def read_jsonl(p):
    with open(p) as f:
        return [json.loads(l) for l in f if l.strip()]


def items():
    rows = read_jsonl(DS / "items.jsonl")
    return [r["original_id"] for r in rows], [r["text"] for r in rows]


def positions(out):
    out.mkdir(parents=True, exist_ok=True)
    orig, _ = items()
    rng = random.Random(0)
    train = read_jsonl(DS / "train.jsonl")
    cand = [(u, p) for u, s in enumerate(train) for p in range(1, len(s["items"]))]
    rng.shuffle(cand)
    with open(out / "train-in.jsonl", "w") as f, open(out / "train-targets.jsonl", "w") as g:
        for u, p in cand[:POSITIONS]:
            s = train[u]
            f.write(json.dumps({"user": s["user"], "items": [orig[i] for i in s["items"][:p]]}) + "\n")
            g.write(json.dumps({"history": s["items"][:p], "target": s["items"][p]}) + "\n")


def ndcg10(rank):
    return 1.0 / math.log2(rank + 2) if rank is not None and rank < 10 else 0.0


def auc(pos, neg):
    allv = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        rank_sum += (i + j + 1) / 2 * sum(1 for x in allv[i:j] if x[1])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def run(out):
    import torch
    from transformers import BertModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    torch.set_num_threads(2)
    rng = random.Random(1)
    orig, text = items()
    index = {o: i for i, o in enumerate(orig)}
    n_items = len(orig)
    tok = PreTrainedTokenizerFast(
        tokenizer_file=str(ROOT / "tokenizer/all-MiniLM-L6-v2/tokenizer.json"),
        cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", unk_token="[UNK]",
    )
    bert = BertModel.from_pretrained(str(ROOT / "checkpoints/encoders/all-MiniLM-L6-v2"), add_pooling_layer=False)
    head = torch.nn.Linear(bert.config.hidden_size, 2)
    for n, p in bert.named_parameters():
        p.requires_grad = not (n.startswith("embeddings") or any(n.startswith(f"encoder.layer.{k}.") for k in range(3)))

    def hist_text(h):
        return " ; ".join(text[i] for i in reversed(h[-HISTORY:]))

    def logits(pairs, train):
        enc = tok([hist_text(h) for h, _ in pairs], [text[c] for _, c in pairs], truncation="only_first",
                  max_length=BUDGET, padding=True, return_tensors="pt")
        bert.train(train)
        hs = bert(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        return head((hs * m).sum(1) / m.sum(1))

    def log_p_yes(pairs, bs=128):
        outv = []
        with torch.no_grad():
            for i in range(0, len(pairs), bs):
                outv += torch.log_softmax(logits(pairs[i:i + bs], False), -1)[:, 0].tolist()
        return outv

    # Training pairs: the target (yes), 2 of the generator's top-10 and 2 random items (no).
    targets = read_jsonl(out / "train-targets.jsonl")
    cands = read_jsonl(out / "train-cands.jsonl")
    ex = []
    for t, c in list(zip(targets, cands))[:TRAIN_POSITIONS]:
        h, y = t["history"], t["target"]
        ex.append((h, y, 0))
        hard = [index[i] for i in c["items"] if index[i] != y]
        for c2 in rng.sample(hard, min(2, len(hard))):
            ex.append((h, c2, 1))
        for _ in range(2):
            r = rng.randrange(n_items)
            while r == y:
                r = rng.randrange(n_items)
            ex.append((h, r, 1))
    rng.shuffle(ex)
    params = [p for p in bert.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": params, "lr": 1e-4}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01)
    bs, t0 = 32, time.time()
    steps = math.ceil(len(ex) / bs)
    for s in range(steps):
        b = ex[s * bs:(s + 1) * bs]
        lr_scale = min(1.0, (s + 1) / 30) * (1 - s / steps)
        for g, base in zip(opt.param_groups, (1e-4, 1e-3)):
            g["lr"] = base * lr_scale
        loss = torch.nn.functional.cross_entropy(logits([(h, c) for h, c, _ in b], True), torch.tensor([y for _, _, y in b]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s % 50 == 0:
            print(f"step {s}/{steps} loss {loss.item():.4f} {(s + 1) * bs / (time.time() - t0):.1f} pairs/s", flush=True)
    train_secs = time.time() - t0

    def split(name):
        held = read_jsonl(DS / f"{name}.jsonl")
        recs = read_jsonl(out / f"cands-{name}.jsonl")
        assert [h["user"] for h in held] == [r["user"] for r in recs]
        cand = [[index[i] for i in r["items"]] for r in recs]
        gen = [r["scores"] for r in recs]
        t = time.time()
        flat = log_p_yes([(h["history"], c) for h, cs in zip(held, cand) for c in cs])
        secs = time.time() - t
        ys, at = [], 0
        for cs in cand:
            ys.append(flat[at:at + len(cs)])
            at += len(cs)
        return held, cand, gen, ys, secs

    def ranked(held, cand, gen, ys, lam):
        res = []
        for h, cs, g, y in zip(held, cand, gen, ys):
            order = sorted(range(len(cs)), key=lambda k: -(g[k] + lam * y[k]))
            l = [cs[k] for k in order][:10]
            res.append(ndcg10(l.index(h["target"]) if h["target"] in l else None))
        return res

    report = {"train_pairs": len(ex), "train_secs": train_secs}
    held, cand, gen, ys, secs = split("valid")
    # AUC on validation: target vs 2 hard (top beams) and 2 random.
    pos_pairs, hard_pairs, rnd_pairs = [], [], []
    for h, cs in zip(held, cand):
        pos_pairs.append((h["history"], h["target"]))
        hard_pairs += [(h["history"], c) for c in [c for c in cs if c != h["target"]][:2]]
        for _ in range(2):
            r = rng.randrange(n_items)
            while r == h["target"]:
                r = rng.randrange(n_items)
            rnd_pairs.append((h["history"], r))
    p, hd, rd = log_p_yes(pos_pairs), log_p_yes(hard_pairs), log_p_yes(rnd_pairs)
    report["valid_auc"] = auc(p, hd + rd)
    report["valid_auc_hard"] = auc(p, hd)
    report["valid_auc_random"] = auc(p, rd)
    lams = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    sweep = {lam: sum(ranked(held, cand, gen, ys, lam)) / len(held) for lam in lams}
    best = max(lams, key=lambda l: (sweep[l], -l))
    report["valid_sweep"] = sweep
    report["lambda"] = best
    report["valid_pairs_per_s"] = len(held) * 20 / secs

    def paired(a, b):
        d = [x - y for x, y in zip(a, b)]
        r = random.Random(0)
        bs = sorted(sum(d[r.randrange(len(d))] for _ in d) / len(d) for _ in range(1000))
        return sum(d) / len(d), bs[25], bs[974]

    report["valid_diff"] = paired(ranked(held, cand, gen, ys, best), ranked(held, cand, gen, ys, 0.0))
    held, cand, gen, ys, secs = split("test")
    base, rr = ranked(held, cand, gen, ys, 0.0), ranked(held, cand, gen, ys, best)
    report["test_ndcg10_generator"] = sum(base) / len(base)
    report["test_ndcg10_reranked"] = sum(rr) / len(rr)
    report["test_diff"] = paired(rr, base)
    print(json.dumps(report, indent=1))
    (out / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    {"positions": positions, "run": run}[sys.argv[1]](Path(sys.argv[2]))
