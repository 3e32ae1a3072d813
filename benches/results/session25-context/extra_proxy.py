"""Proxy: do extra 1-2-item users (train-only) help the transitions source on the short sample's validation users?"""
import json, random, numpy as np
from collections import defaultdict, Counter
SRC = "/work/shared/data/amazon-beauty"
users = [l.split() for l in open(f"{SRC}/sequential_data.txt")]
rng = random.Random(11); rng.shuffle(users)
ds = "/work/main/runs/short/ds"
idmap = {json.loads(l)["original_id"]: json.loads(l)["id"] for l in open(f"{ds}/items.jsonl")}
asin = {}
for line in list(open(f"{SRC}/items.tsv"))[1:]:
    p = line.rstrip("\n").split("\t"); asin[p[0]] = p[1]
train = [json.loads(l)["items"] for l in open(f"{ds}/train.jsonl")]
valid = [json.loads(l) for l in open(f"{ds}/valid.jsonl")]
r2 = random.Random(5)
extra = []
for u in users[15000:]:
    seq = u[1:]; n = 2 if r2.random() < 0.55 else 1
    s = r2.randint(0, len(seq) - n)
    extra.append([idmap[asin[i]] for i in seq[s:s+n]])
print("extra users", len(extra), "2-item", sum(len(e) == 2 for e in extra), "train pairs", sum(len(t) - 1 for t in train))
def trans_ndcg(seqs):
    nxt = defaultdict(Counter)
    for s in seqs:
        for a, b in zip(s, s[1:]): nxt[a][b] += 1
    out = []
    for v in valid:
        h = v["history"]; sc = Counter()
        for age, q in enumerate(reversed(h[-3:])):
            for j, c in nxt[q].items(): sc[j] += c * 0.5 ** age
        lst = [j for j, _ in sorted(sc.items(), key=lambda t: (-t[1], t[0]))][:10]
        out.append(1 / np.log2(lst.index(v["target"]) + 2) if v["target"] in lst else 0)
    return np.array(out)
def boot(x, n=2000):
    r = np.random.default_rng(0); m = [x[r.integers(0, len(x), len(x))].mean() for _ in range(n)]
    return x.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)
a = trans_ndcg(train); b = trans_ndcg(train + extra)
print("transitions valid NDCG@10: train %.4f, + extra %.4f, diff %+.4f [%+.4f, %+.4f]" % (a.mean(), b.mean(), *boot(b - a)))
