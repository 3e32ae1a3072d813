"""Lexical match as rescoring features: the IDF-weighted cosine of the word
sets of each pooled item and the user's last item (and last five items),
added to the 25 features, cross-fitted, paired against them. Also: how
often the IDF cosine's own top 20 of the last item holds a validation target
the pool lacks, and that list's NDCG@10 against the MiniLM cosine's."""
import json, sys, math, re, os, numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../session31-pool")); from listnet import cross_fitted, ci
pools, ds = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(pools)]
texts = [json.loads(l)["text"] for l in open(f"{ds}/items.jsonl")]
tok = lambda s: set(w for w in re.findall(r"[a-z0-9]+", s.lower()) if len(w) > 1)
T = [tok(t) for t in texts]
df = {}
for s in T:
    for w in s: df[w] = df.get(w, 0) + 1
N = len(T); idf = {w: math.log(N / c) for w, c in df.items()}
norm = [math.sqrt(sum(idf[w] ** 2 for w in s)) or 1.0 for s in T]
def lexcos(a, b):
    return sum(idf[w] ** 2 for w in T[a] & T[b]) / (norm[a] * norm[b])
def lexcos_set(S, b):
    # S: dict word -> weight (summed over history items)
    v = sum(S.get(w, 0.0) * idf[w] ** 2 for w in T[b]); n = math.sqrt(sum((x * idf[w]) ** 2 for w, x in S.items())) or 1.0
    return v / (n * norm[b])
F = 25; P = max(len(r["items"]) for r in rows)
def build(extra):
    G = F + extra
    X = torch.zeros(len(rows), P, G, dtype=torch.float64); M = torch.zeros(len(rows), P, dtype=torch.bool)
    for u, r in enumerate(rows):
        n = len(r["items"]); x = torch.tensor(r["x"], dtype=torch.float64).view(n, F)
        X[u, :n, :F] = x; M[u, :n] = True
        if extra:
            last = r["history"][-1]
            X[u, :n, F] = torch.tensor([lexcos(last, it) for it in r["items"]], dtype=torch.float64)
            if extra > 1:
                S = {}
                for it in r["history"][-5:]:
                    for w in T[it]: S[w] = S.get(w, 0.0) + 1.0
                X[u, :n, F + 1] = torch.tensor([lexcos_set(S, it) for it in r["items"]], dtype=torch.float64)
    return X, M
Tg = torch.tensor([r["items"].index(r["target"]) if r["target"] in r["items"] else -1 for r in rows])
half = np.array([r["half"] for r in rows])
b = cross_fitted(*build(0), Tg, half, max_iter=300)
for e in (1, 2):
    o = cross_fitted(*build(e), Tg, half, max_iter=300)
    print(f"{pools}: + lexical features ({e}) {o.mean():.4f} vs 25 features {b.mean():.4f}: {ci(o - b)}", flush=True)
# the lexical top 20 of the last item as a list
inpool = np.array([r["target"] in r["items"] for r in rows])
# inverted index
inv = {}
for i, s in enumerate(T):
    for w in s: inv.setdefault(w, []).append(i)
new = 0; nd = []
for r in rows:
    last = r["history"][-1]; sc = {}
    for w in T[last]:
        if df[w] > N * 0.2: continue
        for j in inv[w]: sc[j] = sc.get(j, 0.0) + idf[w] ** 2
    hist = set(r["history"])
    top = sorted(((v / (norm[last] * norm[j]), j) for j, v in sc.items() if j not in hist), reverse=True)[:20]
    top = [j for _, j in top]
    if r["target"] in top and r["target"] not in r["items"]: new += 1
    nd.append(1 / math.log2(top.index(r["target"]) + 2) if r["target"] in top[:10] else 0.0)
print(f"  target in pool {inpool.mean():.3f}; the lexical top 20 adds it for {new / len(rows):.3f}; lexical-kNN NDCG@10 {np.mean(nd):.4f}")
