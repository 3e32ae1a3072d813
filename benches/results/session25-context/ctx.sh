#!/bin/bash
# (pair2.py: benches/results/session22-known/pair2.py)
# Session 25: the raw sample (the short sample's users + 7,363 users of 1-2 items) with the short users kept as context (ds-ctx) or dropped (ds-drop, = the short sample); the default commands on each; paired lists.
set -e
G=/work/main/runs/s25/genrec-ctx
cd /work/main/runs/raw
for v in drop ctx; do
  s=$(date +%s)
  extra=""; [ $v = drop ] && extra="--drop-short-users"
  $G prepare interactions.jsonl --items items.jsonl --out ds-$v $extra > prepare-$v.log 2>&1
  if [ $v = ctx ]; then cp ds-drop/embeddings.safetensors ds-ctx/; fi
  $G embed -d ds-$v > embed-$v.log 2>&1
  $G index -d ds-$v > index-$v.log 2>&1
  $G train -d ds-$v --set run.checkpoints=ck-$v > train-$v.log 2>&1
  echo "$v: prepare..train in $(( $(date +%s) - s )) s"
  for sp in valid test; do
    $G recommend --checkpoint ck-$v/ds-$v --split $sp -o rec-$v-$sp.jsonl > rec-$v-$sp.log 2>&1
  done
  $G evaluate --checkpoint ck-$v/ds-$v --split test > eval-$v-test.log 2>&1
  echo "$v: done in $(( $(date +%s) - s )) s"
done
ln -sfn ds-drop ds
for sp in valid test; do /work/main/.venv/bin/python /work/main/runs/pair2.py raw $sp rec-ctx-$sp.jsonl rec-drop-$sp.jsonl; done
