#!/bin/bash
G=/work/main/runs/s33/genrec
for k in 1 2 3; do
  d=/work/main/runs/tiny$k; mkdir -p $d && cd $d && rm -rf ds ck; s=$(date +%s)
  $G prepare /work/main/runs/tiny$k-src/reviews.jsonl --items /work/main/runs/tiny$k-src/meta.jsonl --out ds > prepare.log 2>&1 && $G embed -d ds > embed.out 2>&1 && $G index -d ds > index.out 2>&1 \
    && $G train -d ds --set run.checkpoints=ck > train.out 2>&1 \
    && for sp in valid test; do $G evaluate --checkpoint ck/ds --split $sp > eval-$sp.out 2>&1; done
  echo "$d: rc $? in $(( $(date +%s) - s )) s"
done
