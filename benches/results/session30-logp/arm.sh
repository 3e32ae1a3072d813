#!/bin/bash
# One arm of the verifier stage over a generator: today's binary,
# `train -d DATASET --task verify` into runs/ab-DATASET-ARM, then its
# lists on both splits, paired against arm BASE's.
# arm.sh DATASET GENERATOR_CK_ROOT ARM BASE [--set ...]
R=/work/main/runs; PY=/work/main/.venv/bin/python; G=${G:-/work/main/target/release/genrec}
d=$1; src=$2; arm=$3; base=$4; shift 4; cd $R
ck=$R/ab-$d-$arm; rm -rf $ck; mkdir -p $ck; cp -r $src/$d $ck/$d
/usr/bin/time -f "%e s %M KB" $G train -d $d --task verify --set run.checkpoints=\"$ck\" "$@" > $ck.log 2>&1 || { echo "FAIL $d $arm"; tail -3 $ck.log; }
tail -n 1 $ck.log
for sp in valid test; do /usr/bin/time -f "rec $arm $sp %e s" $G recommend --checkpoint $ck/$d --dataset $d --index $d/index --split $sp --output $ck-$sp.jsonl > /dev/null 2>$ck-$sp.err || echo "FAIL rec $d $arm $sp"; tail -n 1 $ck-$sp.err; done
grep -h "^blend of\|^sequence verifier" $ck.log | head -3
for sp in valid test; do $PY /work/main/benches/pair.py $d $sp $ck-$sp.jsonl $R/ab-$d-$base-$sp.jsonl; done
