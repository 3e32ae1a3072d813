#!/bin/bash
# The verifier stage (SASRec cached, λ, the blend) over the early generator ck/ds (best at step 1,500, ~21 minutes), then its lists on both splits.
cd /work/main/runs/beauty

G=/work/main/runs/s27/genrec-now
date
$G train -d ds --task verify --set run.checkpoints=ck > train-early-verify.log 2>&1
date
for sp in valid test; do $G recommend --checkpoint ck/ds --split $sp --output rec-early-$sp.jsonl > rec-early-$sp.log 2>&1; $G recommend --checkpoint ck2/ds --split $sp --output rec-full-$sp.jsonl > rec-full-$sp.log 2>&1; done
date
