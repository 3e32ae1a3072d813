"""Validation analogue: transitions alone on validation, counted from the training split with each user's last training item withheld vs the whole training split."""
import json, sys, numpy as np
exec(open("/work/main/runs/proxy/trans_tv.py").read().split("ct = count(train)")[0].replace("k = sys.argv[1]", "k = sys.argv[1]"))
less, full = count([s[:-1] for s in train]), count(train)
a, b = ndcg(less, valid), ndcg(full, valid)
rng = np.random.default_rng(0); U = len(a)
m = [(b - a)[rng.integers(0, U, U)].mean() for _ in range(2000)]
print(k, "valid: last training item withheld %.4f, all training %.4f, diff %+.4f [%+.4f, %+.4f]" % (a.mean(), b.mean(), (b - a).mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)))
