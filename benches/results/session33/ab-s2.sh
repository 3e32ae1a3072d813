#!/bin/bash
cd /work/main/runs
while pgrep -f s33/ab-s.sh > /dev/null || pgrep -f s33/slices.sh > /dev/null; do sleep 10; done
A=../benches/results/session30-logp/arm.sh
for k in 2 3; do
  ln -sfn tiny$k/ds tiny${k}d; mkdir -p ck-tiny${k}d; rm -rf ck-tiny${k}d/tiny${k}d; cp -r tiny$k/ck/ds ck-tiny${k}d/tiny${k}d
  G=/work/main/runs/s33/genrec bash $A tiny${k}d /work/main/runs/ck-tiny${k}d A A > /dev/null
  G=/work/main/runs/s33/genrec-s bash $A tiny${k}d /work/main/runs/ck-tiny${k}d S A
done
