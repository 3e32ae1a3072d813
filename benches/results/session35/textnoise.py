"""Does the default item text lose by carrying numeric fields (ratings, counts, prices)
and media descriptors ("variant: MAIN" left from `images` once its links are dropped)?
Last-item text-kNN (all-MiniLM-L6-v2 via sentence-transformers, cosine, the query item
itself excluded, seen items rankable) on a prepared dataset's validation users, with the
texts as genrec wrote them against the same texts with those pieces cut, paired.

  .venv/bin/python textnoise.py PREPARED_DIR META_JSONL ID_FIELD [split]
"""
import json, sys, random
import numpy as np
from sentence_transformers import SentenceTransformer

prep, meta, idf = sys.argv[1], sys.argv[2], sys.argv[3]
split = sys.argv[4] if len(sys.argv) > 4 else "valid"
items = [json.loads(l) for l in open(f"{prep}/items.jsonl")]
raw = {}
for l in open(meta):
    m = json.loads(l)
    raw[str(m[idf])] = m


def is_link(s):
    return isinstance(s, str) and s.strip().startswith(("http://", "https://")) and not any(c.isspace() for c in s.strip())


def holds_link(v):
    if isinstance(v, dict):
        return any(is_link(x) or holds_link(x) for x in v.values())
    if isinstance(v, list):
        return any(holds_link(x) for x in v)
    return is_link(v)


def text(v):
    if v is None or is_link(v):
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, list):
        return ", ".join(t for t in map(text, v) if t)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {t}" for k, t in ((k, text(x)) for k, x in v.items()) if t)
    return str(v)


fields = None
clean = []
for it in items:
    m = raw[it["original_id"]]
    keep = [k for k, v in m.items() if k != idf and not isinstance(v, (int, float, bool)) and not holds_link(v)]
    name = [k for k in keep if k in ("title", "name")]
    rest = sorted((k for k in keep if k not in name), key=lambda k: 0)
    clean.append(" | ".join(t for t in (text(m[k]) for k in name + rest) if t) or it["original_id"])
orig = [it["text"] for it in items]
print("e.g.", orig[0][:200], "\n  →", clean[0][:200])
model = SentenceTransformer("checkpoints/encoders/all-MiniLM-L6-v2", device="cpu")
rows = [json.loads(l) for l in open(f"{prep}/{split}.jsonl")]
rng = np.random.default_rng(0)


def ndcg(emb):
    out = []
    for r in rows:
        q = r["history"][-1]
        s = emb @ emb[q]
        s[q] = -np.inf
        top = np.argpartition(-s, 10)[:10]
        top = top[np.argsort(-s[top])]
        hit = np.where(top == r["target"])[0]
        out.append(1 / np.log2(hit[0] + 2) if len(hit) else 0.0)
    return np.array(out)


res = {}
for name, texts in (("as written", orig), ("cut", clean)):
    e = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    res[name] = ndcg(e)
    print(f"{name}: NDCG@10 {res[name].mean():.4f}")
d = res["cut"] - res["as written"]
b = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
print(f"cut − as written: {d.mean():+.4f} [{np.percentile(b, 2.5):+.4f}, {np.percentile(b, 97.5):+.4f}] over {len(d)} users")
