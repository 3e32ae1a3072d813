#!/bin/bash
# Session 24: re-run the verifier stage with this binary (ds-verifier15: the learned rescoring of the blend's pool tried), then recommend valid/test with it and with session 23's verifier (ds-verifier7; ML-100K: ds-verifier).
set -e
G=/work/main/target/release/genrec
for k in "$@"; do
  cd /work/main/runs/$k
  OLD=ds-verifier7; [ $k = ml100k ] && OLD=ds-verifier
  s=$(date +%s)
  $G train -d ds --task verify --set run.checkpoints=ck --set 'run.name="ds-verifier15"' --set 'verify.generator="ck/ds"' > stage15.log 2>&1
  echo "$k stage in $(( $(date +%s) - s )) s"; grep "blend of" stage15.log | tail -1
  for sp in valid test; do
    for v in $OLD ds-verifier15; do
      [ -f s24-$v-$sp.jsonl ] || $G recommend --checkpoint ck/ds --rerank ck/$v --split $sp -o s24-$v-$sp.jsonl > /dev/null 2>&1
    done
    /work/main/.venv/bin/python /work/main/runs/pair2.py $k $sp s24-ds-verifier15-$sp.jsonl s24-$OLD-$sp.jsonl
  done
done
