"""Proxy: transitions smoothed through the last item's text neighbours, as a blend source."""
import json, sys, numpy as np
from safetensors.numpy import load_file
sys.path.insert(0, "/work/main/runs/proxy")
k = sys.argv[1]; base = f"/work/main/runs/{k}/ds"
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
valid = [json.loads(l) for l in open(f"{base}/valid.jsonl")]
train = [json.loads(l)["items"] for l in open(f"{base}/train.jsonl")]
E = load_file(f"{base}/embeddings.safetensors")["embeddings"].astype(np.float32)
E /= np.linalg.norm(E, axis=1, keepdims=True) + 1e-12
N = E.shape[0]
tmap = {}
assert len(valid) >= len(d["targets"])
if len(valid) == len(d["targets"]):
    assert [v["target"] for v in valid] == d["targets"], "order differs"
else:
    sys.exit("sampled users: map needed")
hist = [v["history"] for v in valid]
U = len(hist)
# transitions
from collections import defaultdict
cnt = defaultdict(lambda: defaultdict(float))
for s in train:
    for a, b in zip(s, s[1:]): cnt[a][b] += 1
last = np.array([h[-1] for h in hist])
has_tr = np.array([len(cnt[l]) > 0 for l in last])
print(k, "users", U, "last item has successors:", has_tr.mean())
T = np.array(d["targets"])
def ndcg(lists):
    out = np.zeros(len(lists))
    for u, l in enumerate(lists):
        l = list(l[:10])
        if T[u] in l: out[u] = 1 / np.log2(l.index(T[u]) + 2)
    return out
print("next alone", ndcg(d["next"]).mean(), "text alone", ndcg(d["texts"][0]).mean(), "own", ndcg(d["own"]).mean(), "beams", ndcg(d["beams"]).mean())
S = E[last] @ E.T  # [U, N]
res = {}
for K in (10, 30, 100):
    nb = np.argsort(-S, axis=1)[:, :K]
    for g in (1, 10, 30):
        for norm in (0, 1):
            lists = []
            for u in range(U):
                sc = defaultdict(float)
                for n in nb[u]:
                    c = cnt[n]
                    if not c: continue
                    tot = sum(c.values()) if norm else 1.0
                    w = max(S[u, n], 0) ** g
                    for j, x in c.items(): sc[j] += w * x / tot
                sc.pop(int(last[u]), None)
                lists.append([j for j, _ in sorted(sc.items(), key=lambda p: (-p[1], p[0]))[:20]])
            v = ndcg(lists)
            res[(K, g, norm)] = lists
            print(f"K={K} g={g} norm={norm}: alone {v.mean():.4f}  (cold last: {v[~has_tr].mean():.4f}, warm: {v[has_tr].mean():.4f})", flush=True)
json.dump({str(kk): v for kk, v in res.items()}, open(f"/work/main/runs/proxy/{k}-smooth.json", "w"))
