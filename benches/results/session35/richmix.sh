#!/bin/bash
# The rich-text sample, its embeddings the 0.75/0.25 mix of the title's and the full text's (chosen on validation text-kNN), then the default commands.
G=/work/main/runs/s35/genrec
d=/work/main/runs/rich-mix; cd $d; s=$(date +%s)
$G embed -d ds --from /work/main/runs/s35/mix75.npy > embed.out 2>&1 && $G index -d ds > index.out 2>&1 \
  && $G train -d ds --set run.checkpoints=ck > train.out 2>&1 \
  && for sp in valid test; do $G evaluate --checkpoint ck/ds --split $sp > eval-$sp.out 2>&1; done
echo "$d: rc $? in $(( $(date +%s) - s )) s"
