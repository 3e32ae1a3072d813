# paired bootstrap of two adapt2 outputs: cmp.py B.npz A.npz
import sys, numpy as np
b, a = np.load(sys.argv[1]), np.load(sys.argv[2]); rng = np.random.default_rng(0)
for k in ("valid", "test"):
    d = b[k] - a[k]; bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(1000)]
    print(f"{k}: {b[k].mean():.4f} vs {a[k].mean():.4f} {d.mean():+.4f} [{np.quantile(bs,.025):+.4f},{np.quantile(bs,.975):+.4f}]")
