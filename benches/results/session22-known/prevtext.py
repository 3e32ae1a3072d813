"""Proxy: a sixth source, the text neighbours of the item before the last (the last item and itself left out), its weight searched over the best base setting; cross-fitted."""
import json, sys, itertools, numpy as np
from safetensors.numpy import load_file
exec(open("/work/main/runs/proxy/common.py").read())
k = sys.argv[1]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
valid = [json.loads(l) for l in open(f"/work/main/runs/{k}/ds/valid.jsonl")]
setup(d["targets"])
E = load_file(f"/work/main/runs/{k}/ds/embeddings.safetensors")["embeddings"].astype(np.float32)
E /= np.linalg.norm(E, axis=1, keepdims=True) + 1e-12
prev = []
for v in valid:
    h = v["history"]
    if len(h) < 2: prev.append([]); continue
    s = E @ E[h[-2]]; s[h[-1]] = -9; s[h[-2]] = -9
    top = np.argpartition(-s, 20)[:20]
    prev.append([int(i) for i in top[np.argsort(-s[top], kind="stable")]])
print(k, "prev-item text alone %.4f; users with a list %.2f" % (ndcg_list(prev), np.mean([len(p) > 0 for p in prev])), flush=True)
NUD = [0, 2]
def srcs(n): return [d["beams"], d["texts"][n], d["own"], d["next"]]
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(4)]
base = run([pool(srcs(n)) for n in NUD], g); cb = crossfit(base)
print("base cross-fitted %.4f" % cb.mean(), flush=True)
p6 = [pool(srcs(n) + [prev]) for n in NUD]
RS = [0.05, 0.1, 0.2, 0.3]
ndr = [run(p6, [(tuple(wi * (1 - r) for wi in w) + (r,), kk, ni) for (w, kk, ni) in g]) for r in RS]
cc = coord(base, ndr)
print("prev text, coordinate: cross-fitted %.4f, diff %+.4f [%+.4f, %+.4f]" % (cc.mean(), *boot(cc - cb)), flush=True)
