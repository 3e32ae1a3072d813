"""A copy of a prepared dataset whose item texts leave out numeric fields (every value a
JSON number or bool: ratings, counts, prices, coordinates) and objects that hold a web
address (media descriptors: `images`' "variant: MAIN"), otherwise built as genrec's
default (name first, then the other fields from the shortest to the longest on average,
joined with " | "). Embed it with `genrec embed -d OUT`, compare with knn.py.

  python3 textcut.py PREPARED META_JSONL ID_FIELD OUT
"""
import json, os, shutil, sys

prep, meta, idf, out = sys.argv[1:5]


def is_link(s):
    s = s.strip()
    return s.startswith(("http://", "https://")) and not any(c.isspace() for c in s)


def holds_link(v):
    if isinstance(v, dict):
        return any(holds_link(x) for x in v.values())
    if isinstance(v, list):
        return any(holds_link(x) for x in v)
    return isinstance(v, str) and is_link(v)


def text(v):
    if v is None or (isinstance(v, str) and is_link(v)):
        return ""
    if isinstance(v, dict) and holds_link(v):
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, list):
        return ", ".join(t for t in map(text, v) if t)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {t}" for k, t in ((k, text(x)) for k, x in v.items()) if t)
    return str(v)


raw, order = {}, []
for l in open(meta):
    m = json.loads(l)
    raw[str(m[idf])] = m
    for k in m:
        if k != idf and k not in order:
            order.append(k)
numeric = [k for k in order if all(isinstance(m.get(k), (int, float, bool)) or m.get(k) is None for m in raw.values())]
length = {k: sum(len(text(m.get(k))) for m in raw.values()) for k in order}
name = next((k for k in order if k.lower() in ("title", "name")), None)
fields = ([name] if name else []) + sorted((k for k in order if k != name and k not in numeric), key=lambda k: length[k])
print("numeric fields left out:", numeric, "; fields:", fields)
if os.path.exists(out):
    shutil.rmtree(out)
os.makedirs(out)
for f in os.listdir(prep):
    if f not in ("embeddings.safetensors", "index", "baselines") and os.path.isfile(os.path.join(prep, f)):
        shutil.copy(os.path.join(prep, f), out)
with open(os.path.join(prep, "items.jsonl")) as f, open(os.path.join(out, "items.jsonl"), "w") as g:
    for l in f:
        it = json.loads(l)
        m = raw[it["original_id"]]
        it["text"] = " | ".join(t for t in (text(m.get(k)) for k in fields) if t) or it["original_id"]
        g.write(json.dumps(it) + "\n")
print("e.g.", it["text"][:300])
