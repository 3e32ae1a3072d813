#!/bin/bash
# A: verify.blend_depth=20 (the old pool), B: the default (50; beams 20) over the same generator.
# ab2.sh DATASET GENERATOR_CK_ROOT
G=/work/main/target/release/genrec; R=/work/main/runs; PY=/work/main/.venv/bin/python
d=$1; src=$2; cd $R
for arm in A B; do
  ck=$R/ab-$d-$arm; rm -rf $ck; mkdir -p $ck; cp -r $src/$d $ck/$d
  set=""; [ $arm = A ] && set="--set verify.blend_depth=20"
  /usr/bin/time -f "%e s %M KB" $G train -d $d --task verify --set run.checkpoints=\"$ck\" $set > $ck.log 2>&1 || { echo "FAIL $d $arm"; tail -3 $ck.log; }
  tail -n 1 $ck.log
  for sp in valid test; do /usr/bin/time -f "rec $arm $sp %e s" $G recommend --checkpoint $ck/$d --dataset $d --index $d/index --split $sp --output $ck-$sp.jsonl > /dev/null 2>$ck-$sp.err || echo "FAIL rec $d $arm $sp"; tail -n 1 $ck-$sp.err; done
  grep -h "^blend of" $ck.log | head -1
done
for sp in valid test; do $PY /work/main/benches/pair.py $d $sp $R/ab-$d-B-$sp.jsonl $R/ab-$d-A-$sp.jsonl; done
