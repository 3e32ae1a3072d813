"""Transitions alone on validation: also counting successors up to D places later, weight w^(distance-1) (self-pairs left out). Arguments: w,D ..."""
import sys
exec(open("/work/main/runs/proxy/trans_common.py").read())
k = sys.argv[1]
train, valid, _, _ = splits(k)
base = ndcg(count(train, skip_self=True), valid)
for w, D in [tuple(map(float, a.split(","))) for a in sys.argv[2:]]:
    x = ndcg(count(train, int(D), lambda s, p, d: w ** (d - 1), skip_self=True), valid)
    print(k, "w %.2f D %d: %+.4f [%+.4f, %+.4f] (base %.4f)" % (w, D, *paired(base, x, 1000), base.mean()))
