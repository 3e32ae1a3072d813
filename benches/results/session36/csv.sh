#!/bin/bash
# The amazon2023 sample's reviews written as Amazon Reviews 2023's benchmark CSV
# (user_id,parent_asin,rating,timestamp), prepared beside the gzipped meta, must give
# the JSONL-prepared dataset's files byte for byte (after gz.sh's prepare).
set -e
cd /work/main
mkdir -p runs/csv
python3 - <<'PY'
import csv, json
with open('runs/csv/Beauty.train.csv', 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['user_id', 'parent_asin', 'rating', 'timestamp'])
    for line in open('runs/a23-src/reviews.jsonl'):
        r = json.loads(line)
        w.writerow([r['user_id'], r['parent_asin'], r['rating'], r['timestamp']])
PY
target/release/genrec prepare runs/csv/Beauty.train.csv --items runs/gz/meta_Beauty.jsonl.gz --out runs/csv/ds
for f in items sequences train valid test; do cmp runs/csv/ds/$f.jsonl runs/gz/ds/$f.jsonl && echo "same $f.jsonl"; done
