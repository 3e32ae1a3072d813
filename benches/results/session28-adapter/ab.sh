#!/bin/bash
# A (verify.text_adapter=false) vs B (default: adapter where validation says) over the same generator.
G=/work/main/target/release/genrec; S=/work/main/runs/s28; PY=/work/main/.venv/bin/python
run() { # name dataset_dir generator_dir run_name
  local name=$1 ds=$2 gen=$3 rn=$4
  for arm in A B; do
    local ck=$S/ab-$name-$arm; rm -rf $ck; mkdir -p $ck; cp -r $gen $ck/$rn
    local set=""; [ $arm = A ] && set="--set verify.text_adapter=false"
    $G train -d $ds --task verify --set run.checkpoints=\"$ck\" $set > $ck.log 2>&1 || { echo "FAIL $name $arm"; tail -3 $ck.log; }
    for sp in valid test; do $G recommend --checkpoint $ck/$rn --dataset $ds --index $ds/index --split $sp --output $ck-$sp.jsonl > $ck-$sp.log 2>&1 || echo "FAIL rec $name $arm $sp"; done
  done
  grep -h "text adapted" $S/ab-$name-B.log | sed 's/.*the text adapted/the text adapted/'
  for sp in valid test; do $PY /work/main/benches/pair.py $ds $sp $S/ab-$name-B-$sp.jsonl $S/ab-$name-A-$sp.jsonl; done
}
R=/work/main/runs
run drop $R/raw/ds-drop $R/raw/ck2-drop/ds-drop ds-drop
run a23 $R/amazon2023/ds $R/amazon2023/ck/ds ds
run cj $R/cj/ds $R/cj/ck/ds ds
run ml $R/ml100k/ds $R/ml100k/ck/ds ds
