#!/bin/bash
# evaluate --split test with this binary (counts before the targets) on each sample.
G=/work/main/target/release/genrec
for k in "$@"; do
  cd /work/main/runs/$k
  R="--rerank ck/ds-verifier5"; [ $k = amazon2023 ] && R=""
  s=$(date +%s)
  $G evaluate --checkpoint ck/ds $R --split test > eval-known-test.log 2>&1
  echo "$k evaluate test in $(( $(date +%s) - s )) s"
done
