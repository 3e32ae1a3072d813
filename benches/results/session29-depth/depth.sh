#!/bin/bash
# The blend at verify.blend_depth=$2 against the default run's (depth 20) over the same generator.
# depth.sh DATASET DEPTH
G=/work/main/target/release/genrec; R=/work/main/runs; PY=/work/main/.venv/bin/python
d=$1; D=$2; ck=$R/ck-$d-d$D${TAG:-}
cd $R
# The default run's lists (A) once.
for sp in valid test; do [ -f $R/ck-$d-$sp.jsonl ] || $G recommend --checkpoint $R/ck-$d/$d --dataset $d --index $d/index --split $sp --output $R/ck-$d-$sp.jsonl > /dev/null 2>&1 || echo "FAIL rec A $d $sp"; done
rm -rf $ck; mkdir -p $ck; cp -r $R/ck-$d/$d $ck/$d
/usr/bin/time -f "%e s %M KB" $G train -d $d --task verify --set run.checkpoints=\"$ck\" --set verify.blend_depth=$D > $ck.log 2>&1 || { echo "FAIL $d $D"; tail -3 $ck.log; }
tail -n 1 $ck.log
for sp in valid test; do $G recommend --checkpoint $ck/$d --dataset $d --index $d/index --split $sp --output $ck-$sp.jsonl > /dev/null 2>&1 || echo "FAIL rec $d $D $sp"; done
grep -h "^blend of" $ck.log | head -1
for sp in valid test; do $PY /work/main/benches/pair.py $d $sp $ck-$sp.jsonl $R/ck-$d-$sp.jsonl; done
