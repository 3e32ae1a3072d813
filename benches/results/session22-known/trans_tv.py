"""Transitions alone on test: counts from the training split vs training + validation (each user's sequence but the test item)."""
import sys
exec(open("/work/main/runs/proxy/trans_common.py").read())
k = sys.argv[1]
train, valid, test, seqs = splits(k)
ct = count(train); ctv = count([s[:-1] for s in seqs])
a, b = ndcg(ct, test), ndcg(ctv, test)
print(k, "valid (train counts) %.4f | test: train counts %.4f, train+valid counts %.4f, diff %+.4f [%+.4f, %+.4f]" % (ndcg(ct, valid).mean(), a.mean(), b.mean(), *paired(a, b)))
