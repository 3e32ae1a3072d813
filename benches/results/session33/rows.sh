#!/bin/bash
# NDCG@10 of the default and the rivals, and the default's paired differences, from evaluate's tables.
for d in "$@"; do for sp in valid test; do
  f=$d/eval-$sp.out
  printf "%s %s: " $(basename $d) $sp
  grep "^| " $f | awk -F'|' '/^\| (genrec ⊕ text ⊕ verifier|text-kNN \(last item\)|text-kNN by words|SASRec)/ && !x[$2]++ {split($2,a," "); printf "%s %s; ", a[1] a[2], substr($7,1,7)}'
  grep "^| genrec ⊕ text ⊕ verifier ⊕ transitions" $f | awk -F'|' 'NR>1 && ($3 ~ /text-kNN \(last item\)|by words|SASRec/) {split($3,a," "); printf "Δ%s %s; ", a[1] a[4], $5}'
  echo
done; done
