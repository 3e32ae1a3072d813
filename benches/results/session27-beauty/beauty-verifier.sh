#!/bin/bash
# Finish Amazon Beauty with the default commands (session 27): resume keeps the early-stopped generator, trains SASRec + the blend.
set -e
cd /work/main/runs/beauty
G=/work/main/runs/s26/genrec-beauty
date
/usr/bin/time -v $G train -d ds --set run.checkpoints=ck2 --resume > train3.log 2>&1
date
/usr/bin/time -v $G evaluate --checkpoint ck2/ds --split valid > eval2-valid.log 2>&1
date
/usr/bin/time -v $G evaluate --checkpoint ck2/ds --split test > eval2-test.log 2>&1
date
