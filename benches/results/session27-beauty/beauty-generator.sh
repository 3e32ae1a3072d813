#!/bin/bash
# Amazon Beauty with genrec's default commands on 2 CPU cores (session 26).
# ds: genrec prepare ../shared/data/amazon-beauty --out ds; genrec embed -d ds; genrec index -d ds (runs/beauty, made this morning by the same binary's commands)
set -e
cd /work/main/runs/beauty
G=/work/main/runs/s26/genrec-beauty
date
/usr/bin/time -v $G train -d ds --set run.checkpoints=ck2 > train2.log 2>&1
date
/usr/bin/time -v $G evaluate --checkpoint ck2/ds --split valid > eval2-valid.log 2>&1
date
/usr/bin/time -v $G evaluate --checkpoint ck2/ds --split test > eval2-test.log 2>&1
date
