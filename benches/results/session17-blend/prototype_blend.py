#!/usr/bin/env python3
"""Prototype: weighted reciprocal-rank fusion of up to three lists per user
(generator beams, last-item text neighbours, SASRec's top 20) on Amazon Beauty;
settings chosen on validation, test reported with paired bootstrap.
usage: blend.py DATASET_DIR GEN_PREFIX SASREC_DIR"""
import json, sys, itertools
import numpy as np
from safetensors.numpy import load_file

ds, genp, sasd = sys.argv[1], sys.argv[2], sys.argv[3]
items = [json.loads(l) for l in open(f"{ds}/items.jsonl")]
orig = {it["original_id"]: it["id"] for it in items}
emb = load_file(f"{ds}/embeddings.safetensors")["embeddings"].astype(np.float32)
emb /= np.linalg.norm(emb, axis=1, keepdims=True).clip(1e-12)
D = 20

def held(split):
    return [json.loads(l) for l in open(f"{ds}/{split}.jsonl")]

def lists(path):
    return [[orig[i] for i in json.loads(l)["items"]] for l in open(path)]

def knn(h):
    last = np.array([x["history"][-1] for x in h])
    out = []
    for s in range(0, len(h), 2048):
        sc = emb[last[s:s+2048]] @ emb.T
        top = np.argsort(-sc, axis=1)[:, :D + 1]
        for r, row in enumerate(top):
            out.append([int(i) for i in row if i != last[s + r]][:D])
    return out

def rrf(ls, ws, k, top=10):
    res = []
    for per_user in zip(*ls):
        sc = {}
        order = {}
        for li, (l, w) in enumerate(zip(per_user, ws)):
            if w == 0:
                continue
            for r, it in enumerate(l):
                sc[it] = sc.get(it, 0.0) + w / (k + r + 1)
                order.setdefault(it, (li, r))
        res.append(sorted(sc, key=lambda i: (-sc[i], order[i]))[:top])
    return res

def ndcg(lsts, targets):
    out = np.zeros(len(targets))
    rec = np.zeros(len(targets))
    for u, (l, t) in enumerate(zip(lsts, targets)):
        if t in l[:10]:
            r = l[:10].index(t)
            out[u] = 1 / np.log2(r + 2)
            rec[u] = 1
    return out, rec

def boot(d, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(d), (n, len(d)))
    m = d[idx].mean(1)
    return d.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)

grid3 = [(a / 10, b / 10, (10 - a - b) / 10) for a in range(11) for b in range(11 - a)]
res = {}
for split in ["valid", "test"]:
    h = held(split)
    t = [x["target"] for x in h]
    L = {"gen": lists(f"{genp}-{split}.jsonl"), "knn": knn(h), "sas": lists(f"{sasd}/sasrec-{split}.jsonl")}
    res[split] = (t, L)

def run(names, grid, ks):
    tv, Lv = res["valid"]
    best = None
    for ws in grid:
        for k in ks:
            n, _ = ndcg(rrf([Lv[x] for x in names], ws, k), tv)
            if best is None or n.mean() > best[0] + 1e-12:
                best = (n.mean(), ws, k)
    return best

singles = {x: {s: ndcg(res[s][1][x], res[s][0]) for s in res} for x in ["gen", "knn", "sas"]}
for x in singles:
    print(x, {s: (round(singles[x][s][0].mean(), 4), round(singles[x][s][1].mean(), 4)) for s in res})
grid2 = [(w, 1 - w) for w in [1, .75, .6, .5, .4, .25, 0]]
for names, grid in [(("gen", "knn"), grid2), (("gen", "sas"), grid2), (("sas", "knn"), grid2), (("gen", "knn", "sas"), grid3)]:
    v, ws, k = run(names, grid, [2, 10, 60])
    out = {}
    for s in res:
        t, L = res[s]
        n, r = ndcg(rrf([L[x] for x in names], ws, k), t)
        out[s] = n, r
        line = f"{'+'.join(names):12} w={ws} k={k} {s}: NDCG {n.mean():.4f} R {r.mean():.4f}"
        for x in ["sas", "knn", "gen"]:
            m, lo, hi = boot(n - singles[x][s][0])
            line += f" | -{x} {m:+.4f} [{lo:+.4f},{hi:+.4f}]"
        print(line)
    pass

# The generator's own share: the chosen three-way blend against the best
# blend without it (SASRec + text), same users, paired.
for s in ["valid", "test"]:
    t, L = res[s]
    three = ndcg(rrf([L["gen"], L["knn"], L["sas"]], (0.3, 0.3, 0.4), 10), t)
    two = ndcg(rrf([L["sas"], L["knn"]], (0.6, 0.4), 10), t)
    for name, i in [("NDCG", 0), ("Recall", 1)]:
        m, lo, hi = boot(three[i] - two[i])
        print(f"{s}: 3-way(0.3,0.3,0.4,k10) - sas+knn(0.6,0.4,k10) {name} {m:+.4f} [{lo:+.4f},{hi:+.4f}]")
