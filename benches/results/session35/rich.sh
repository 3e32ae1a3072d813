#!/bin/bash
# The rich-text amazon2023 sample with the default commands, binary of ebe5cec (session 35).
G=/work/main/runs/s35/genrec
d=/work/main/runs/rich; rm -rf $d; mkdir -p $d && cd $d; s=$(date +%s)
$G prepare /work/main/runs/rich-src/reviews.jsonl --items /work/main/runs/rich-src/meta.jsonl --out ds > prepare.log 2>&1 \
  && $G embed -d ds > embed.out 2>&1 && $G index -d ds > index.out 2>&1 \
  && $G train -d ds --set run.checkpoints=ck > train.out 2>&1 \
  && for sp in valid test; do $G evaluate --checkpoint ck/ds --split $sp > eval-$sp.out 2>&1; done
echo "$d: rc $? in $(( $(date +%s) - s )) s"
