#!/bin/bash
# Session 23: re-run the verifier stage with this binary (ds-verifier7: the own-items option in the grid), then recommend valid/test with it and with the session's previous verifier.
set -e
G=/work/main/target/release/genrec
for k in "$@"; do
  cd /work/main/runs/$k
  OLD=ds-verifier5; [ $k = amazon2023 ] && OLD=ds-verifier
  s=$(date +%s)
  $G train -d ds --task verify --set run.checkpoints=ck --set 'run.name="ds-verifier7"' --set 'verify.generator="ck/ds"' > stage7.log 2>&1
  echo "$k stage in $(( $(date +%s) - s )) s"; grep "blend of" stage7.log | tail -1
  for sp in valid test; do
    for v in $OLD ds-verifier7; do
      $G recommend --checkpoint ck/ds --rerank ck/$v --split $sp -o s23-$v-$sp.jsonl > /dev/null 2>&1
    done
    /work/main/.venv/bin/python /work/main/runs/pair2.py $k $sp s23-ds-verifier7-$sp.jsonl s23-$OLD-$sp.jsonl
  done
done
