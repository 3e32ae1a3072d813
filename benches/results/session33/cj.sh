#!/bin/bash
# Session 33: the default commands on the grocery sample with the binary of 3bb1578.
set -e
G=/work/main/runs/s33/genrec
cd /work/main/runs/cj
s=$(date +%s)
rm -rf ds ck
$G prepare interactions.jsonl --items items.jsonl --out ds --allow-missing-items > prepare.log 2>&1
$G embed -d ds > embed.out 2>&1
$G index -d ds > index.out 2>&1
echo "prepared, embedded, indexed in $(( $(date +%s) - s )) s"
$G train -d ds --set run.checkpoints=ck > train.out 2>&1
echo "trained in $(( $(date +%s) - s )) s"
for sp in valid test; do $G evaluate --checkpoint ck/ds --split $sp > eval-$sp.out 2>&1; done
echo "done in $(( $(date +%s) - s )) s"
