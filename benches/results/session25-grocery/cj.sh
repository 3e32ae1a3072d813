#!/bin/bash
# Session 25: the default commands on a real grocery sample (The Complete Journey, runs/cj), then evaluate on valid and test.
set -e
G=/work/main/runs/s25/genrec-ctx
cd /work/main/runs/cj
s=$(date +%s)
$G prepare interactions.jsonl --items items.jsonl --out ds --allow-missing-items > prepare.log 2>&1
$G embed -d ds > embed.log 2>&1
$G index -d ds > index.log 2>&1
echo "prepared, embedded, indexed in $(( $(date +%s) - s )) s"
$G train -d ds --set run.checkpoints=ck > train.log 2>&1
echo "trained in $(( $(date +%s) - s )) s"
for sp in valid test; do $G evaluate --checkpoint ck/ds --split $sp > eval-$sp.log 2>&1; done
echo "done in $(( $(date +%s) - s )) s"
