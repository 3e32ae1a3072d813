#!/bin/bash
# After an EMA arm's generator: the verifier stage, recommend on both splits, paired with session 25's control lists.
# stage.sh ARM CONTROL   (CONTROL: drop = seed 42's rec-drop-*, drop2 = seed 2's rec2-drop-*)
cd /work/main/runs/s26
arm=$1; ctl=$2
while ! grep -q "^$arm done" ema.log; do sleep 15; done
./genrec-ema2 train -d ../raw/ds-drop --task verify --set run.checkpoints=ck-$arm --set optim.ema=0.999 $3 > stage-$arm.log 2>&1
for sp in valid test; do
  ./genrec-ema2 recommend --checkpoint ck-$arm/ds-drop --split $sp -o rec-$arm-$sp.jsonl > rec-$arm-$sp.log 2>&1
  cp rec-$arm-$sp.jsonl ../raw/
  /work/main/.venv/bin/python /work/main/runs/pair2.py raw $sp rec-$arm-$sp.jsonl $( [ $ctl = drop ] && echo rec-drop-$sp.jsonl || echo rec2-drop-$sp.jsonl )
done
echo "$arm stage done $(date)"
