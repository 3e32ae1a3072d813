#!/bin/bash
# Session 23: ML-100K, the default commands with this binary (the verifier stage's blend may leave the user's own items out), then 50b48ba's verifier stage over the same generator and SASRec, recommend valid/test with each, paired.
set -e
cd /work/main/runs/ml100k
G=/work/main/target/release/genrec
s=$(date +%s)
$G embed -d ds > embed.log 2>&1
$G index -d ds > index.log 2>&1
$G train -d ds --set run.checkpoints=ck > train.log 2>&1
echo "default commands in $(( $(date +%s) - s )) s"; grep "blend of" train.log | tail -1
/work/main/runs/genrec-50b48ba train -d ds --task verify --set run.checkpoints=ck --set 'run.name="ds-verifier-old"' --set 'verify.generator="ck/ds"' > stage-old.log 2>&1
grep "blend of" stage-old.log | tail -1
for sp in valid test; do
  $G recommend --checkpoint ck/ds --split $sp -o s23-new-$sp.jsonl > /dev/null 2>&1
  $G recommend --checkpoint ck/ds --rerank ck/ds-verifier-old --split $sp -o s23-old-$sp.jsonl > /dev/null 2>&1
  /work/main/.venv/bin/python /work/main/runs/pair2.py ml100k $sp s23-new-$sp.jsonl s23-old-$sp.jsonl
done
