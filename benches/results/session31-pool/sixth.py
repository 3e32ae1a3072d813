"""A sixth source for the blend's pool, prototyped over dumped pools
(GENREC_DUMP_POOLS): the text neighbours of a recency-weighted mean of the
last items (not only the last one). Recomputes genrec's 25 rescoring features
for the items it adds (checked against the dump on the pooled ones), adds the
new source's 4 rank features, and measures the linear ListNet rescoring
(ridge 1e-3) cross-fitted on the dump's halves, paired against the 25-feature
rescoring of the five-source pool.
sixth.py DATASET_DIR POOLS.jsonl ADAPTER.safetensors|- WINDOW DECAY DEPTH"""
import json, sys, math, numpy as np, torch
from collections import Counter, defaultdict
from safetensors.numpy import load_file
torch.set_num_threads(2)
import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from listnet import cross_fitted, ci
ds, pf, ad = sys.argv[1:4]; WIN, DEC, DEPTH = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]); COLD = len(sys.argv) > 7
rows = [json.loads(l) for l in open(pf)]
E = load_file(f"{ds}/embeddings.safetensors")["embeddings"].astype(np.float32)
E /= np.linalg.norm(E, axis=1, keepdims=True)
if ad != "-":
    a = load_file(ad); E = E @ a["weight"].T + a["bias"]; E /= np.linalg.norm(E, axis=1, keepdims=True)
jl = lambda p: [json.loads(l)["items"] for l in open(p)]
known = jl(f"{ds}/train.jsonl") + jl(f"{ds}/context.jsonl")
cnt = Counter(i for s in known for i in s)
nxt = defaultdict(Counter)
for s in known:
    for x, y in zip(s, s[1:]): nxt[x][y] += 1
def q(h, win, dec):
    v = np.zeros(E.shape[1], np.float32)
    for age, it in enumerate(reversed(h[-win:])): v += dec ** age * E[it]
    return v / max(np.linalg.norm(v), 1e-12)
def base_feats(h, it):
    f = [math.log1p(cnt[it]) / 10, float(E[it] @ q(h, 1, 1.0)), float(E[it] @ q(h, 10, 1.0))]
    after = nxt[h[-1]][it]; score = sum(0.5 ** a * nxt[x][it] for a, x in enumerate(reversed(h[-3:])))
    return f + [math.log1p(after), math.log1p(score)]
def rank_feats(r):
    return [0.0] * 4 if r == 0 else [1.0] + [1 / (k + r) for k in (1.0, 5.0, 20.0)]
def cold_feats(x):
    return [float(x[20] == 0), float(x[20] == 0) * x[21]] if COLD else []
F = 25; err = 0.0; pools = []; added = 0; newhit = 0
for r in rows:
    h = r["history"]; n = len(r["items"]); x = np.array(r["x"]).reshape(n, F)
    s = E @ q(h, WIN, DEC); s[h] = -9
    six = [int(i) for i in np.argsort(-s, kind="stable")[:DEPTH]]
    rank6 = {it: k + 1 for k, it in enumerate(six)}
    for c in range(min(n, 3)): err = max(err, np.abs(np.array(base_feats(h, r["items"][c])) - x[c, 20:]).max())
    items = list(r["items"]); rowsx = [list(x[c]) + rank_feats(rank6.get(it, 0)) + cold_feats(x[c]) for c, it in enumerate(items)]
    for it in six:
        if it not in rank6 or it in r["items"]: continue
        items.append(it); bf = base_feats(h, it); rowsx.append([0.0] * 20 + bf + rank_feats(rank6[it]) + cold_feats([0.0] * 20 + bf)); added += 1
        newhit += it == r["target"]
    pools.append((items, np.array(rowsx)))
print(ds, f"max feature mismatch on pooled items {err:.2e}; items added per user {added/len(rows):.1f}; targets added {newhit/len(rows):.4f}")
half = np.array([r["half"] for r in rows])
def run(cols):
    P = max(len(p[0]) for p in pools); G = len(cols)
    X = torch.zeros(len(rows), P, G, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
    T = torch.full((len(rows),), -1)
    for u, (items, x) in enumerate(pools):
        use = [c for c in range(len(items)) if cols[-1] < 25 and c < len(rows[u]["items"]) or cols[-1] >= 25]
        X[u, :len(use)] = torch.tensor(x[use][:, cols]); M[u, :len(use)] = True
        its = [items[c] for c in use]
        if rows[u]["target"] in its: T[u] = its.index(rows[u]["target"])
    return cross_fitted(X, M, T, half)
fused = np.array([(1 / math.log2(r["fused"].index(r["target"]) + 2) if r["target"] in r["fused"][:10] else 0) for r in rows])
b = run(list(range(25))); s6 = run(list(range(29 + 2 * COLD)))
print(f"  fused {fused.mean():.4f}; rescored, 5 sources {b.mean():.4f} ({ci(b - fused)} over fused); 6 sources {s6.mean():.4f}: {ci(s6 - b)} over 5")
