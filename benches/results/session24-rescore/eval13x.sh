#!/bin/bash
# Session 24: evaluate --split test with this binary and ds-verifier13 on each sample.
G=/work/main/target/release/genrec
for k in "$@"; do
  cd /work/main/runs/$k
  s=$(date +%s)
  $G evaluate --checkpoint ck/ds --rerank ck/ds-verifier13 --split test --exclude-seen > eval13x-test.log 2>&1
  echo "$k evaluate test in $(( $(date +%s) - s )) s"
done
