#!/bin/bash
# The blend's verifier stage run twice over the same generator: A by the binary
# before session 30 (runs/genrec-old, 25 rescoring features), B by today's
# (the sequence verifier's log-probability of every pooled item as a 26th).
# ab.sh DATASET GENERATOR_CK_ROOT [EXTRA --set ...]
R=/work/main/runs; PY=/work/main/.venv/bin/python
d=$1; src=$2; shift 2; cd $R
for arm in A B; do
  G=/work/main/target/release/genrec; [ $arm = A ] && G=$R/genrec-old
  ck=$R/ab-$d-$arm; rm -rf $ck; mkdir -p $ck; cp -r $src/$d $ck/$d
  /usr/bin/time -f "%e s %M KB" $G train -d $d --task verify --set run.checkpoints=\"$ck\" "$@" > $ck.log 2>&1 || { echo "FAIL $d $arm"; tail -3 $ck.log; }
  tail -n 1 $ck.log
  for sp in valid test; do /usr/bin/time -f "rec $arm $sp %e s" $G recommend --checkpoint $ck/$d --dataset $d --index $d/index --split $sp --output $ck-$sp.jsonl > /dev/null 2>$ck-$sp.err || echo "FAIL rec $d $arm $sp"; tail -n 1 $ck-$sp.err; done
  grep -h "^blend of\|rescor" $ck.log | head -3
done
for sp in valid test; do $PY /work/main/benches/pair.py $d $sp $R/ab-$d-B-$sp.jsonl $R/ab-$d-A-$sp.jsonl; done
