#!/bin/bash
# ML-100K with the default commands, binary of a7fe106 (session 34).
G=/work/main/runs/s34/genrec
d=/work/main/runs/ml34; rm -rf $d; mkdir -p $d && cd $d; s=$(date +%s)
$G prepare /work/main/data/ml-100k --out ds --text-template "{movie_title} ({release_year}) | {class}" > prepare.log 2>&1 \
  && $G embed -d ds > embed.out 2>&1 && $G index -d ds > index.out 2>&1 \
  && $G train -d ds --set run.checkpoints=ck > train.out 2>&1 \
  && for sp in valid test; do $G evaluate --checkpoint ck/ds --split $sp > eval-$sp.out 2>&1; done
echo "$d: rc $? in $(( $(date +%s) - s )) s"
