#!/bin/bash
# The default commands with the generator time-boxed to 40 minutes (same seed:
# the same trajectory as the full run up to where the box ends it).
set -e
cd /work/main
G=runs/retail/genrec
D=runs/retail/ds
T0=$(date +%s)
$G train -d $D --set run.checkpoints=\"runs/retail/ck40\" --set run.max_minutes=40
echo "train $(( $(date +%s) - T0 )) s"
$G evaluate --checkpoint runs/retail/ck40/ds --split valid > runs/retail/box40-valid.out
$G evaluate --checkpoint runs/retail/ck40/ds --split test > runs/retail/box40-test.out
echo "total $(( $(date +%s) - T0 )) s"
