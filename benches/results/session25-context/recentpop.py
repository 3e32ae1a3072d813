"""Is popularity near the user's own time a signal? Most-popular (all known interactions) vs popular in the window before the user's last history item, on validation/test."""
import json, sys, bisect, numpy as np
ds = sys.argv[1]
seqs = [json.loads(l) for l in open(f"{ds}/sequences.jsonl")]
n_items = sum(1 for _ in open(f"{ds}/items.jsonl"))
def run(split, frac):
    # known: before validation = all but last 2 per user; before test = all but last 1
    cut = 2 if split == "valid" else 1
    ev = []
    for s in seqs:
        for it, t in zip(s["items"][:-cut], s["timestamps"][:-cut]): ev.append((t, it))
    ev.sort()
    times = np.array([t for t, _ in ev]); its = np.array([i for _, i in ev])
    W = max(1, int(len(ev) * frac))
    allpop = np.bincount(its, minlength=n_items)
    out_all, out_rec = [], []
    for s in seqs:
        hist = s["items"][:-cut]; tgt = s["items"][-cut]; tq = s["timestamps"][-cut - 1]
        hi = bisect.bisect_right(times, tq); lo = max(0, hi - W)
        rec = np.bincount(its[lo:hi], minlength=n_items).astype(float) + 1e-3 * allpop / allpop.max()
        for sc, out in ((allpop.astype(float), out_all), (rec, out_rec)):
            sc = sc.copy(); sc[hist[-1]] = -1  # not the last item itself
            ts = sc[tgt]; pos = (sc > ts).sum()
            out.append(1 / np.log2(pos + 2) if pos < 10 else 0)
    a, r = np.array(out_all), np.array(out_rec)
    d = r - a; rng = np.random.default_rng(0)
    m = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
    print(f"{split} window {frac}: pop {a.mean():.4f} recent {r.mean():.4f} diff {d.mean():+.4f} [{np.percentile(m,2.5):+.4f}, {np.percentile(m,97.5):+.4f}]")
for frac in (0.01, 0.05, 0.2):
    run("valid", frac)
run("test", 0.05)
