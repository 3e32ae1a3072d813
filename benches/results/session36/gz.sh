#!/bin/bash
# The default commands on the amazon2023 sample, gzipped as Amazon Reviews 2023 publishes it.
set -e
# Inputs: python3 benches/jsonl_sample.py amazon2023 runs/a23-src, then
#   mkdir -p runs/gz && gzip -c runs/a23-src/reviews.jsonl > runs/gz/Beauty.jsonl.gz && gzip -c runs/a23-src/meta.jsonl > runs/gz/meta_Beauty.jsonl.gz
#   cp target/release/genrec runs/gz/genrec
cd /work/main
G=runs/gz/genrec
D=runs/gz/ds
T0=$(date +%s)
$G prepare runs/gz/Beauty.jsonl.gz --items runs/gz/meta_Beauty.jsonl.gz --out $D
$G embed -d $D
$G index -d $D
$G train -d $D --set run.checkpoints=\"runs/gz/ck\"
$G evaluate --checkpoint runs/gz/ck/ds --split valid > runs/gz/eval-valid.out
$G evaluate --checkpoint runs/gz/ck/ds --split test > runs/gz/eval-test.out
echo "total $(( $(date +%s) - T0 )) s"
