"""Prototype: forward transitions (genrec's source: successors of the last 3
items, 0.5^age) against symmetric co-occurrence within a window, on the
validation (or test) users of a prepared dataset. Prints NDCG@10, Recall@20
and how many targets each list adds to the blend's pool (pool dump optional)."""
import json, sys, math
from collections import defaultdict

ds, split = sys.argv[1], sys.argv[2]
pool_file = sys.argv[3] if len(sys.argv) > 3 else None
def jl(p):
    with open(p) as f:
        return [json.loads(l) for l in f]
train = [r["items"] for r in jl(f"{ds}/train.jsonl")]
ctx = [r["items"] for r in jl(f"{ds}/context.jsonl")]
held = jl(f"{ds}/{split}.jsonl")
known = train + ctx
if split == "test":
    # validation targets are known at test: the test history ends with it
    known = [h["history"] for h in held] + ctx
fwd = defaultdict(lambda: defaultdict(float))
def count(known, span, back, decay):
    c = defaultdict(lambda: defaultdict(float))
    for s in known:
        for i, a in enumerate(s):
            for d in range(1, span + 1):
                if i + d < len(s):
                    b = s[i + d]
                    c[a][b] += decay ** (d - 1)
                    if back > 0:
                        c[b][a] += back * decay ** (d - 1)
    return c
def top(c, h, k=20, window=3, dec=0.5):
    sc = defaultdict(float)
    w = 1.0
    for it in reversed(h[-window:]):
        for j, v in c.get(it, {}).items():
            sc[j] += w * v
        w *= dec
    last = h[-1]
    r = sorted(((j, v) for j, v in sc.items() if j != last), key=lambda t: (-t[1], t[0]))
    return [j for j, _ in r[:k]]
def ndcg(l, t, k=10):
    return 1 / math.log2(l.index(t) + 2) if t in l[:k] else 0.0
pools = None
if pool_file:
    items = {r["original_id"]: r["id"] for r in jl(f"{ds}/items.jsonl")}
    pools = [set(items[i] for i in r["items"][:100]) for r in jl(pool_file)]
arms = {
    "fwd(span1)": count(known, 1, 0, 1.0),
    "sym(span1,back1)": count(known, 1, 1.0, 1.0),
    "sym(span1,back.5)": count(known, 1, 0.5, 1.0),
    "sym(span3,back1,d.5)": count(known, 3, 1.0, 0.5),
    "sym(all,back1,d.8)": count(known, 50, 1.0, 0.8),
}
base = None
for name, c in arms.items():
    n = r20 = cov = add = 0.0
    for u, h in enumerate(held):
        l = top(c, h["history"])
        t = h["target"]
        n += ndcg(l, t); r20 += t in l; cov += len(l) > 0
        if pools is not None:
            add += (t in l) and (t not in pools[u])
    N = len(held)
    print(f"{name:24s} ndcg10 {n/N:.4f} r20 {r20/N:.4f} nonempty {cov/N:.3f}" + (f" new-in-pool {add/N:.4f}" if pools else ""))
if pools is not None:
    print("pool(100) holds target", sum(h["target"] in p for h, p in zip(held, pools)) / len(held))
