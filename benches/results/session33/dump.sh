#!/bin/bash
# 27-feature validation pools of the verifier stage (session 31's dump patch on 94ce703).
cd /work/main/runs
for d in "$@"; do
  ck=/work/main/runs/dump-$d; rm -rf $ck; mkdir -p $ck; cp -r ck-$d/$d $ck/$d
  GENREC_DUMP_POOLS=/work/main/runs/pools27-$d-valid.jsonl s33/genrec-dump train -d $d --task verify --set run.checkpoints=\"$ck\" > $ck.log 2>&1
  echo "$d rc $?"; grep -o "^blend of.*" $ck.log | grep -o "(generator[^)]*)\|text adapted[^;]*→ [a-z ]*" 
done
