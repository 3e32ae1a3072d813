"""Transitions alone on validation, each transition weighted gamma^(places from its sequence's end)."""
import sys
exec(open("/work/main/runs/proxy/trans_common.py").read())
k = sys.argv[1]
train, valid, _, _ = splits(k)
base = ndcg(count(train), valid)
for g in (0.9, 0.7, 0.5):
    x = ndcg(count(train, weight=lambda s, p, d: g ** (len(s) - 2 - p)), valid)
    print(k, "gamma %.1f: %+.4f [%+.4f, %+.4f] (base %.4f)" % (g, *paired(base, x, 1000), base.mean()))
