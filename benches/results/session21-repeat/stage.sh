#!/bin/bash
# Re-run the verifier stage with this binary (name ds-verifier5), then recommend valid/test with old and new verifier.
set -e
G=/work/main/target/release/genrec
for k in "$@"; do
  cd /work/main/runs/$k
  s=$(date +%s)
  $G train -d ds --task verify --set run.checkpoints=ck --set 'run.name="ds-verifier5"' --set 'verify.generator="ck/ds"' > stage5.log 2>&1
  echo "$k stage in $(( $(date +%s) - s )) s"; grep "blend of" stage5.log | tail -1
  for sp in valid test; do
    for v in ds-verifier ds-verifier5; do
      $G recommend --checkpoint ck/ds --rerank ck/$v --split $sp -o rec-$v-$sp.jsonl > /dev/null 2>&1
    done
  done
  echo "$k recommend done"
done
