import json, sys, numpy as np
k = sys.argv[1]; base = f"/work/main/runs/{k}"
items = [json.loads(l)["original_id"] if "original_id" in l else None for l in open(f"{base}/ds/items.jsonl")]
first = json.loads(open(f"{base}/ds/items.jsonl").readline())
for sp in ("valid", "test"):
    held = [json.loads(l) for l in open(f"{base}/ds/{sp}.jsonl")]
    ids = [json.loads(l) for l in open(f"{base}/ds/items.jsonl")]
    key = [kk for kk in ids[0] if kk not in ("id", "text")][0]
    orig = {i["id"]: i[key] for i in ids} if "id" in ids[0] else None
    def nd(f):
        rows = {json.loads(l)["user"]: json.loads(l)["items"] for l in open(f)}
        out = []
        for h in held:
            t = orig[h["target"]] if orig else h["target"]
            l = rows[h["user"]][:10]
            out.append(1 / np.log2(l.index(t) + 2) if t in l else 0.0)
        return np.array(out)
    a = nd(f"{base}/rec-ds-verifier5-{sp}.jsonl"); b = nd(f"{base}/rec-ds-verifier-{sp}.jsonl")
    d = a - b; rng = np.random.default_rng(0)
    m = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
    print(f"{k} {sp}: new {a.mean():.4f} old {b.mean():.4f} diff {d.mean():+.4f} [{np.percentile(m, 2.5):+.4f}, {np.percentile(m, 97.5):+.4f}] identical users {np.mean(d == 0):.3f}")
