"""Validation analogue: transitions alone on validation, counted from the training split with each user's last training item withheld vs the whole training split."""
import sys
exec(open("/work/main/runs/proxy/trans_common.py").read())
k = sys.argv[1]
train, valid, _, _ = splits(k)
a, b = ndcg(count([s[:-1] for s in train]), valid), ndcg(count(train), valid)
print(k, "valid: last training item withheld %.4f, all training %.4f, diff %+.4f [%+.4f, %+.4f]" % (a.mean(), b.mean(), *paired(a, b)))
