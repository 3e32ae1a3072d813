#!/bin/bash
# Session 25: the raw sample's two arms again with run.seed = 2 (the same prepared data, embeddings and index); paired lists.
set -e
G=/work/main/runs/s25/genrec-ctx
cd /work/main/runs/raw
for v in drop ctx; do
  s=$(date +%s)
  $G train -d ds-$v --set run.checkpoints=ck2-$v --set run.seed=2 > train2-$v.log 2>&1
  for sp in valid test; do
    $G recommend --checkpoint ck2-$v/ds-$v --split $sp -o rec2-$v-$sp.jsonl > /dev/null 2>&1
  done
  echo "$v: $(( $(date +%s) - s )) s"
done
for sp in valid test; do /work/main/.venv/bin/python /work/main/runs/pair2.py raw $sp rec2-ctx-$sp.jsonl rec2-drop-$sp.jsonl; done
