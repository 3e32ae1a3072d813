"""How much the time of a user's last item says about the next one: items
ranked by how often they were taken in the window of the world's last K
known interactions before that time, against all-time popularity, on the
validation (target = second-to-last item) and test splits of a prepared
dataset. Known interactions: every user's training items (and at test the
held-out users' validation items), as the blend counts them; only those at
or before the user's last history time enter a window."""
import json, sys, math, bisect, numpy as np
ds = sys.argv[1]
fracs = [float(x) for x in (sys.argv[2].split(",") if len(sys.argv) > 2 else ["0.01", "0.03", "0.1", "0.3", "1"])]
seqs = [json.loads(l) for l in open(f"{ds}/sequences.jsonl")]
ctx = [json.loads(l) for l in open(f"{ds}/context.jsonl")]
n_items = sum(1 for _ in open(f"{ds}/items.jsonl"))
def ndcg(rank):
    return 1 / math.log2(rank + 2) if rank < 10 else 0.0
rng = np.random.default_rng(0)
for split, cut in (("valid", 2), ("test", 1)):
    ev = []  # (t_last, target)
    known = []  # (time, item)
    for s in seqs:
        it, ts = s["items"], s["timestamps"]
        n = len(it)
        if n < 3:
            known += list(zip(ts, it)); continue
        known += list(zip(ts[: n - cut], it[: n - cut]))
        ev.append((ts[n - cut - 1], it[n - cut]))
    for s in ctx:
        known += list(zip(s.get("timestamps", [0] * len(s["items"])), s["items"]))
    known.sort(key=lambda p: p[0])
    times = [t for t, _ in known]; items = np.array([i for _, i in known])
    N = len(known)
    res = {}
    for f in fracs:
        K = max(1, int(round(f * N)))
        sc = []
        for t_last, tgt in ev:
            hi = bisect.bisect_right(times, t_last)
            lo = max(0, hi - K)
            c = np.bincount(items[lo:hi], minlength=n_items).astype(float)
            c += 1e-9 * np.bincount(items, minlength=n_items)  # ties: all-time
            r = int((c > c[tgt]).sum())
            sc.append(ndcg(r))
        res[f] = np.array(sc)
    glob = np.bincount(items, minlength=n_items).astype(float)
    g = np.array([ndcg(int((glob > glob[tgt]).sum())) for _, tgt in ev])
    print(f"{ds} {split}: users {len(ev)}, all-time popularity NDCG@10 {g.mean():.4f}")
    for f, v in res.items():
        d = v - g; bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
        print(f"  window = last {f:.0%} of known interactions before the user's last: {v.mean():.4f}  vs all-time {d.mean():+.4f} [{np.percentile(bs, 2.5):+.4f}, {np.percentile(bs, 97.5):+.4f}]")
