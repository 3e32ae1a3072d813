"""Proxy: a learned listwise fusion (linear softmax over each user's pooled candidates) against the RRF grid; cross-fitted on validation halves."""
import json, sys, itertools, numpy as np, torch
k = sys.argv[1]; feats = sys.argv[2] if len(sys.argv) > 2 else "ranks"
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
exec(open("/work/main/runs/proxy/common.py").read())
setup(d["targets"])
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
n_items = 1 + max(max(max(s) for s in train), int(T.max()), max(max(l) for l in d["own"] if l))
cnt = np.zeros(n_items + 100)
for s in train:
    for it in s: cnt[it] += 1
srcs = [d["beams"], d["texts"][0], d["own"], d["next"]]
if "drop" in feats:
    st = [set(x) for x in train]
    srcs = [[[it for it in l[u] if it not in st[u]] for u in range(U)] for l in srcs]
if k == "repeat" or "hist" in d and isinstance(d["hist"][0], list): pass
ranks, valid, tpos = pool(srcs)
# items per pool slot
items = np.zeros((U, M), int)
for u in range(U):
    at = {}
    for l in srcs:
        for it in l[u][:20]:
            if it not in at: at[it] = len(at)
    for it, i in at.items(): items[u, i] = it
S = len(srcs)
pres = (ranks > 0).astype(float)
F = [pres]
for kk in (1.0, 5.0, 20.0):
    F.append(np.where(ranks > 0, 1.0 / (kk + ranks), 0.0))
if "pop" in feats:
    F.append(np.log1p(cnt[items])[..., None])
if "hist" in feats:
    h = np.array(d["hist"], float)
    hb = np.stack([h <= 1, (h >= 2) & (h <= 3), h >= 4], -1).astype(float)  # U x 3
    base = np.concatenate([np.where(ranks > 0, 1.0 / (5.0 + ranks), 0.0), pres], -1)  # U M 2S
    F.append((base[..., :, None] * hb[:, None, None, :]).reshape(U, M, -1))
if "sim" in feats:
    from safetensors.numpy import load_file
    E = load_file(f"/work/main/runs/{k}/ds/embeddings.safetensors")["embeddings"].astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True) + 1e-12
    vh = [json.loads(l)["history"] for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
    sim = np.zeros((U, M, 4), np.float32)
    for u in range(U):
        h = vh[u]; C = E[items[u]]
        H = E[h[-10:]] @ C.T  # h x M
        sim[u, :, 0] = H[-1]
        sim[u, :, 1] = H[-2] if len(h) >= 2 else 0
        sim[u, :, 2] = H.max(0)
        prof = E[h[-10:]].mean(0); sim[u, :, 3] = C @ prof / (np.linalg.norm(prof) + 1e-12)
    import os; F.append(sim[..., [int(c) for c in os.environ.get("SIMS", "0123")]])
if "trc" in feats:
    from collections import Counter
    pair = Counter()
    for sq in train:
        for a, b in zip(sq, sq[1:]): pair[(a, b)] += 1
    vh = [json.loads(l)["history"] for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
    trc = np.zeros((U, M, 2), np.float32)
    for u in range(U):
        h = vh[u]
        for i in range(M):
            if not valid[u, i]: continue
            c = items[u, i]
            trc[u, i, 0] = np.log1p(pair[(h[-1], c)])
            trc[u, i, 1] = np.log1p(sum(pair[(x, c)] for x in h[-3:]))
    F.append(trc)
if "tsas" in feats:
    tl = json.load(open(f"/work/main/runs/tsas/{k}-both.json"))["lists"]
    st_ = [set(x) for x in train]
    tl = [[it for it in tl[u] if it not in st_[u]] for u in range(U)]
    tr_ = np.zeros((U, M))
    for u in range(U):
        rk = {it: r + 1 for r, it in enumerate(tl[u][:50])}
        for i in range(M):
            if valid[u, i] and items[u, i] in rk: tr_[u, i] = 1.0 / (5 + rk[items[u, i]])
    F.append(tr_[..., None])
if "seen" in feats:
    seen = np.zeros((U, M))
    for u in range(U):
        st = set(train[u])
        for i in range(M):
            if valid[u, i] and items[u, i] in st: seen[u, i] = 1
    F.append(seen[..., None])
X = np.concatenate(F, -1).astype(np.float32)
print(k, feats, "features", X.shape[-1], "target in pool", (tpos >= 0).mean().round(4), flush=True)
# RRF grid baseline
g = [(w, kk, 0) for kk in (2.0, 10.0, 60.0) for w in simplex(S)]
nd = run([(ranks, valid, tpos)], g); cb = crossfit(nd)
def fit(tr):
    m = tr & (tpos >= 0)
    x = torch.tensor(X[m]); v = torch.tensor(valid[m]); t = torch.tensor(tpos[m])
    w = torch.zeros(X.shape[-1], requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")
    def closure():
        opt.zero_grad()
        s = (x @ w).masked_fill(~v, -1e9)
        loss = torch.nn.functional.cross_entropy(s, t) + 1e-3 * (w * w).sum()
        loss.backward(); return loss
    opt.step(closure)
    return w.detach().numpy()
def ndcg(w, te):
    sc = X @ w - eps
    sc = np.where(valid, sc, -1e9)
    ts = sc[np.arange(U), np.maximum(tpos, 0)]
    pos = (sc > ts[:, None]).sum(1)
    ok = (tpos >= 0) & (pos < 10)
    out = np.zeros(U); out[ok] = 1 / np.log2(pos[ok] + 2)
    return out
x = np.zeros(U)
for f in (0, 1):
    tr, te = fold != f, fold == f
    w = fit(tr)
    x[te] = ndcg(w, te)[te]
print("RRF grid cross-fitted %.4f; learned %.4f; diff %+.4f [%+.4f, %+.4f]" % (cb.mean(), x.mean(), *boot(x - cb)), flush=True)
