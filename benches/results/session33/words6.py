"""A sixth source for the blend's pool, prototyped over dumped pools
(GENREC_DUMP_POOLS, 27 features): the last item's nearest by words (IDF
cosine of word sets, genrec's `Lexical::nearest`), DEPTH deep, the user's
own items left out. Recomputes the 7 item features (popularity, text
cosines, transitions, words) for the items it adds, checked against the dump
on pooled items; adds the source's 4 rank features; the linear ListNet
rescoring cross-fitted on the dump's halves, paired against the 27-feature
rescoring of the five-source pool.
words6.py DATASET_DIR POOLS.jsonl ADAPTER.safetensors|- DEPTH"""
import json, sys, math, re, os, numpy as np, torch
from collections import Counter, defaultdict
from safetensors.numpy import load_file
torch.set_num_threads(2)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../session31-pool")); from listnet import cross_fitted, ci
ds, pf, ad, DEPTH = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
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
texts = [json.loads(l)["text"] for l in open(f"{ds}/items.jsonl")]
T = [set(w for w in re.findall(r"[^\W_]+", t.lower()) if len(w) > 1) for t in texts]
df = Counter(w for s in T for w in s); N = len(T); idf = {w: math.log(N / c) for w, c in df.items()}
norm = [math.sqrt(sum(idf[w] ** 2 for w in s)) or 1.0 for s in T]
inv = defaultdict(list)
for i, s in enumerate(T):
    for w in s: inv[w].append(i)
skip = max(N / 5, 1000) if N > 5000 else float("inf")
def lexcos(a, b): return sum(idf[w] ** 2 for w in T[a] & T[b]) / (norm[a] * norm[b])
def profile(h):
    S = Counter()
    for it in h[-5:]:
        for w in T[it]: S[w] += 1.0
    return S, math.sqrt(sum((x * idf[w]) ** 2 for w, x in S.items())) or 1.0
def lexprof(P, b):
    S, n = P; return sum(S.get(w, 0.0) * idf[w] ** 2 for w in T[b]) / (n * norm[b])
def nearest(a, m):
    sc = defaultdict(float)
    for w in T[a]:
        if df[w] > skip: continue
        for j in inv[w]: sc[j] += idf[w] ** 2
    return [j for _, j in sorted(((-v / (norm[a] * norm[j]), j) for j, v in sc.items() if j != a))][:m]
def q(h, win):
    v = E[h[-win:]].sum(0); return v / max(np.linalg.norm(v), 1e-12)
def item_feats(h, it, P):
    f = [math.log1p(cnt[it]) / 10, float(E[it] @ q(h, 1)), float(E[it] @ q(h, 10))]
    score = sum(0.5 ** a * nxt[x][it] for a, x in enumerate(reversed(h[-3:])))
    return f + [math.log1p(nxt[h[-1]][it]), math.log1p(score), lexcos(h[-1], it), lexprof(P, it)]
def rank_feats(r):
    return [0.0] * 4 if r == 0 else [1.0] + [1 / (k + r) for k in (1.0, 5.0, 20.0)]
F = 27; err = np.zeros(7); pools = []; added = 0; newhit = 0
for r in rows:
    h = r["history"]; n = len(r["items"]); x = np.array(r["x"]).reshape(n, F); P = profile(h)
    hs = set(h)
    six = [j for j in nearest(h[-1], DEPTH + len(hs)) if j not in hs][:DEPTH]
    rank6 = {it: k + 1 for k, it in enumerate(six)}
    for c in range(min(n, 3)): err = np.maximum(err, np.abs(np.array(item_feats(h, r["items"][c], P)) - x[c, 20:]))
    items = list(r["items"]); rowsx = [list(x[c]) + rank_feats(rank6.get(it, 0)) for c, it in enumerate(items)]
    for it in six:
        if it in r["items"]: continue
        items.append(it); rowsx.append([0.0] * 20 + item_feats(h, it, P) + rank_feats(rank6[it])); added += 1
        newhit += it == r["target"]
    pools.append((items, np.array(rowsx)))
inpool = np.mean([r["target"] in r["items"] for r in rows])
print(ds, f"max feature mismatch on pooled items {np.array2string(err, precision=1)}; items added per user {added/len(rows):.1f}; target in pool {inpool:.4f}, added {newhit/len(rows):.4f}")
half = np.array([r["half"] for r in rows])
def run(G, six):
    P = max(len(p[0]) if six else len(r["items"]) for p, r in zip(pools, rows))
    X = torch.zeros(len(rows), P, G, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
    Tg = torch.full((len(rows),), -1)
    for u, (items, x) in enumerate(pools):
        m = len(items) if six else len(rows[u]["items"])
        X[u, :m] = torch.tensor(x[:m, :G]); M[u, :m] = True
        if rows[u]["target"] in items[:m]: Tg[u] = items[:m].index(rows[u]["target"])
    return cross_fitted(X, M, Tg, half)
fused = np.array([(1 / math.log2(r["fused"].index(r["target"]) + 2) if r["target"] in r["fused"][:10] else 0) for r in rows])
b = run(27, False); s6 = run(31, True)
print(f"  fused {fused.mean():.4f}; rescored, 5 sources {b.mean():.4f} ({ci(b - fused)} over fused); 6 sources {s6.mean():.4f}: {ci(s6 - b)} over 5", flush=True)
