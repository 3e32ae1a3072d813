"""Proxy: the blend with the transitions counting successors up to D places later (weight 0.5^(d-1)) in place of the next item only; cross-fitted on validation halves."""
import json, sys, itertools, numpy as np
exec(open("/work/main/runs/proxy/common.py").read())
exec(open("/work/main/runs/proxy/trans_common.py").read())
k = sys.argv[1]; D = int(sys.argv[2]) if len(sys.argv) > 2 else 4
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
train, valid, _, _ = splits(k)
assert [v["target"] for v in valid] == d["targets"]
setup(d["targets"])
lists = lambda c: [top(c, v["history"]) for v in valid]
one = lists(count(train))
print(k, "python D=1 equals the dump's transitions for %.3f of users" % np.mean([a == b for a, b in zip(one, d["next"])]), flush=True)
skip = lists(count(train, D, lambda s, p, dd: 0.5 ** (dd - 1)))
print("transitions alone: %.4f -> %.4f" % (ndcg_list(d["next"]), ndcg_list(skip)), flush=True)
hist = [list(dict.fromkeys(reversed(v["history"])))[:20] for v in valid]
five = k == "repeat"
NUD = [0, 2]
def srcs(n, nx):
    s = [d["beams"], d["texts"][n], d["own"], nx]
    return s + [hist] if five else s
S = 5 if five else 4
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(S)]
base = run([pool(srcs(n, d["next"])) for n in NUD], g); cb = crossfit(base)
print("base: in-sample %.4f %s, cross-fitted %.4f" % (base.mean(1).max(), g[base.mean(1).argmax()], cb.mean()), flush=True)
sw = run([pool(srcs(n, skip)) for n in NUD], g); cs = crossfit(sw)
print("skip D=%d: in-sample %.4f %s, cross-fitted %.4f, diff %+.4f [%+.4f, %+.4f]" % (D, sw.mean(1).max(), g[sw.mean(1).argmax()], cs.mean(), *boot(cs - cb)), flush=True)
