import json, sys, numpy as np
k = sys.argv[1]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
T = d["targets"]; U = len(T)
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
st = [set(s) for s in train]
srcs = {"beams": d["beams"], "text0": d["texts"][0], "own": d["own"], "next": d["next"]}
for name, l in srcs.items():
    print(name, "in top20 %.4f top10 %.4f" % (np.mean([T[u] in l[u][:20] for u in range(U)]), np.mean([T[u] in l[u][:10] for u in range(U)])))
un = [set().union(*[set(l[u][:20]) for l in srcs.values()]) - st[u] for u in range(U)]
print("union (own dropped) recall %.4f, mean size %.1f" % (np.mean([T[u] in un[u] for u in range(U)]), np.mean([len(x) for x in un])))
print("target seen before %.4f" % np.mean([T[u] in st[u] for u in range(U)]))
print("reranked (final) top10 recall %.4f" % np.mean([T[u] in d["reranked"][u][:10] for u in range(U)]))
