#!/bin/bash
# Continue session 37's default run (stopped at step 15,000 for CI), time-boxed.
set -e
cd /work/main
G=runs/retail/genrec
D=runs/retail/ds
T0=$(date +%s)
$G train -d $D --set run.checkpoints=\"runs/retail/ck\" --set run.max_minutes=50 --resume
echo "train $(( $(date +%s) - T0 )) s"
$G evaluate --checkpoint runs/retail/ck/ds --split valid > runs/retail/eval-valid.out
$G evaluate --checkpoint runs/retail/ck/ds --split test > runs/retail/eval-test.out
echo "total $(( $(date +%s) - T0 )) s"
