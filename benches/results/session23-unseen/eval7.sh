#!/bin/bash
# Session 23: evaluate --split test with this binary and ds-verifier7 on each sample.
G=/work/main/target/release/genrec
for k in "$@"; do
  cd /work/main/runs/$k
  s=$(date +%s)
  $G evaluate --checkpoint ck/ds --rerank ck/ds-verifier7 --split test > eval7-test.log 2>&1
  echo "$k evaluate test in $(( $(date +%s) - s )) s"
done
