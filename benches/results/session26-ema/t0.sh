#!/bin/bash
# The short sample's generator over semantic IDs from the text alone (index --collab-weight 0), against session 25's ck-drop (the default index: text + collaborative vectors).
cd /work/main/runs/s26
cp -r ../raw/ds-drop ds-t0
./genrec-ema2 index -d ds-t0 --collab-weight 0
./genrec-ema2 train -d ds-t0 --task generate --set run.checkpoints=ck-t0 > train-t0.log 2>&1
