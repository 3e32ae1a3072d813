#!/bin/bash
# Default commands on each export-shaped sample; the verifier stage dumps its validation lists.
# GENREC_DUMP_BLEND took effect only in this session's temporary build (the blend's validation lists for the proxies); the released binary ignores it.
set -e
G=/work/main/target/release/genrec
for k in "$@"; do
  cd /work/main/runs/$k
  case $k in
    short|repeat) I=interactions.jsonl; M=items.jsonl;;
    amazon2023) I=reviews.jsonl; M=meta.jsonl;;
    yelp) I=review.jsonl; M=business.jsonl;;
  esac
  s=$(date +%s)
  $G prepare $I --items $M --out ds > prepare.log 2>&1
  $G embed -d ds > embed.log 2>&1
  $G index -d ds > index.log 2>&1
  GENREC_DUMP_BLEND=/work/main/runs/proxy/$k.json $G train -d ds --set run.checkpoints=ck > train.log 2>&1
  echo "$k done in $(( $(date +%s) - s )) s"
done
