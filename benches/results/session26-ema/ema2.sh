#!/bin/bash
# The generator with the weights' moving average on runs/raw/ds-drop (the short sample), seeds 42 (the default) and 2, as session 25's controls ck-drop, ck2-drop.
cd /work/main/runs/s26
./genrec-ema train -d ../raw/ds-drop --task generate --set run.checkpoints=ck-e999 --set optim.ema=0.999 > train-e999.log 2>&1
echo "e999 done $(date)"
./genrec-ema train -d ../raw/ds-drop --task generate --set run.checkpoints=ck-e999s2 --set optim.ema=0.999 --set run.seed=2 > train-e999s2.log 2>&1
echo "e999s2 done $(date)"
