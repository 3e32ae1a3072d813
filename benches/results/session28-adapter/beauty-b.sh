#!/bin/bash
# Beauty: the verifier stage again over session 27's full generator, adapter allowed (B); A = session 27's rec-full lists.
G=/work/main/target/release/genrec; S=/work/main/runs/s28; R=/work/main/runs/beauty; PY=/work/main/.venv/bin/python
ck=$S/ab-beauty-B; rm -rf $ck; mkdir -p $ck; cp -r $R/ck2/ds $ck/ds
cd $R
/usr/bin/time -v $G train -d ds --task verify --set run.checkpoints=\"$ck\" > $ck.log 2>&1 || { echo FAIL; tail -3 $ck.log; }
for sp in valid test; do $G recommend --checkpoint $ck/ds --dataset ds --split $sp --output $ck-$sp.jsonl > $ck-$sp.log 2>&1 || echo "FAIL rec $sp"; done
grep -h "text adapted" $ck.log | sed 's/.*the text adapted/the text adapted/'
for sp in valid test; do $PY /work/main/benches/pair.py $R/ds $sp $ck-$sp.jsonl $R/rec-full-$sp.jsonl; done
