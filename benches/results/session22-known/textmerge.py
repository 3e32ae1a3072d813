"""Proxy: the blend's text source as the last item's neighbours fused with the previous item's (weight rho, reciprocal ranks, k = 10), in place of the last item's alone; cross-fitted."""
import json, sys, itertools, numpy as np
from collections import Counter
from safetensors.numpy import load_file
exec(open("/work/main/runs/proxy/common.py").read())
k = sys.argv[1]; RHOS = [float(x) for x in sys.argv[2:]]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
valid = [json.loads(l) for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
setup(d["targets"])
E = load_file(f"/work/main/runs/{k}/ds/embeddings.safetensors")["embeddings"].astype(np.float32)
E /= np.linalg.norm(E, axis=1, keepdims=True) + 1e-12
cnt = np.zeros(len(E)); 
for s in train:
    for i in s: cnt[i] += 1
def prev_lists(beta):
    out = []
    for v in valid:
        h = v["history"]
        if len(h) < 2: out.append([]); continue
        s = E @ E[h[-2]] + beta * np.log1p(cnt); s[h[-1]] = -9; s[h[-2]] = -9
        top = np.argpartition(-s, 20)[:20]
        out.append([int(i) for i in top[np.argsort(-s[top], kind="stable")]])
    return out
prev = {0: prev_lists(0.0), 2: prev_lists(0.04)}
def merge(a, b, rho):
    out = []
    for la, lb in zip(a, b):
        sc = Counter()
        for r, i in enumerate(la): sc[i] += 1 / (10 + r + 1)
        for r, i in enumerate(lb): sc[i] += rho / (10 + r + 1)
        out.append([i for i, _ in sorted(sc.items(), key=lambda t: (-t[1], la.index(t[0]) if t[0] in la else 99))][:20])
    return out
NUD = [0, 2]
def srcs(n, text): return [d["beams"], text, d["own"], d["next"]]
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(4)]
base = run([pool(srcs(n, d["texts"][n])) for n in NUD], g); cb = crossfit(base)
print(k, "base cross-fitted %.4f" % cb.mean(), flush=True)
for rho in RHOS:
    texts = {n: merge(d["texts"][n], prev[n], rho) for n in NUD}
    sw = run([pool(srcs(n, texts[n])) for n in NUD], g); cs = crossfit(sw)
    print("rho %.2f: text alone %.4f (was %.4f); cross-fitted %.4f, diff %+.4f [%+.4f, %+.4f]" % (rho, ndcg_list(texts[0]), ndcg_list(d["texts"][0]), cs.mean(), *boot(cs - cb)), flush=True)
