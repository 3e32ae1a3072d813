"""A small catalogue from the amazon2023 sample (benches/jsonl_sample.py
amazon2023 SRC): its first N users (by first appearance) and only the items
they name, as a small shop's export would be; SKIP: start after that many
users (another slice).  python3 tiny.py SRC OUT N [SKIP]"""
import json, os, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
skip = int(sys.argv[4]) if len(sys.argv) > 4 else 0
seen = []
os.makedirs(out, exist_ok=True)
users, used = [], set()
with open(f"{src}/reviews.jsonl") as f, open(f"{out}/reviews.jsonl", "w") as g:
    for line in f:
        r = json.loads(line)
        if r["user_id"] not in seen:
            seen.append(r["user_id"])
        if len(seen) <= skip:
            continue
        if r["user_id"] not in users:
            if len(users) == n:
                continue
            users.append(r["user_id"])
        used.add(r["parent_asin"]); g.write(line)
with open(f"{src}/meta.jsonl") as f, open(f"{out}/meta.jsonl", "w") as g:
    for line in f:
        if json.loads(line)["parent_asin"] in used:
            g.write(line)
print(f"{len(users)} users, {len(used)} items")
