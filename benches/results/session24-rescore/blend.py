"""Proxy: the blend's grid (own items left out, as session 23 chose on yelp) with the
verifier source from the plain SASRec against the text SASRec (Python proxies, same
recipe); cross-fitted on halves of the validation users, paired."""
import json, sys, itertools, numpy as np
k = sys.argv[1]; A, B = sys.argv[2], sys.argv[3]
d = json.load(open(f"/work/main/runs/proxy/{k}.json"))
exec(open("/work/main/runs/proxy/common.py").read())
setup(d["targets"])
train = [json.loads(l)["items"] for l in open(f"/work/main/runs/{k}/ds/train.jsonl")]
st = [set(s) for s in train]
def drop(l): return [[it for it in l[u] if it not in st[u]] for u in range(U)]
la = json.load(open(f"/work/main/runs/tsas/{k}-{A}.json"))["lists"]
lb = json.load(open(f"/work/main/runs/tsas/{k}-{B}.json"))["lists"]
print(k, "alone (seen rankable): rust %.4f %s %.4f %s %.4f" % (ndcg_list(d["own"]), A, ndcg_list(la), B, ndcg_list(lb)))
print(k, "alone (own left out): %s %.4f %s %.4f" % (A, ndcg_list(drop(la)), B, ndcg_list(drop(lb))))
NUD = [0, 2]
def srcs(n, own): return [drop(d["beams"]), drop(d["texts"][n]), drop(own), drop(d["next"])]
g = [(w, kk, ni) for ni in range(len(NUD)) for kk in (2.0, 10.0, 60.0) for w in simplex(4)]
ra = run([pool(srcs(n, la)) for n in NUD], g); ca = crossfit(ra)
rb = run([pool(srcs(n, lb)) for n in NUD], g); cb = crossfit(rb)
print("blend with %s %.4f (in-sample %.4f); with %s %.4f (in-sample %.4f); diff %+.4f [%+.4f, %+.4f]" % (A, ca.mean(), ra.mean(1).max(), B, cb.mean(), rb.mean(1).max(), *boot(cb - ca)))
wa = g[ra.mean(1).argmax()]; wb = g[rb.mean(1).argmax()]
print("best weights", A, wa, B, wb)
