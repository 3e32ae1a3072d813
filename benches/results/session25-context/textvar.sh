#!/bin/bash
# Text variants: does dropping bare numbers / media leftovers from the default item text change text-kNN on validation?
set -e
G=/work/main/target/release/genrec
cd /work/main/runs/s25
run() { # name inter items template
  local n=$1; shift; local inter=$1; shift; local items=$1; shift
  rm -rf $n
  if [ -n "$1" ]; then $G prepare $inter --items $items --out $n --text-template "$1" > $n.prep.log 2>&1
  else $G prepare $inter --items $items --out $n > $n.prep.log 2>&1; fi
  $G embed -d $n > $n.embed.log 2>&1
  echo "$n: $(head -c 300 $n/items.jsonl | head -1)"
}
Y=/work/main/runs/yelp; A=/work/main/runs/amazon2023
run yelp-C $Y/review.jsonl $Y/business.jsonl "{name}"
run yelp-B $Y/review.jsonl $Y/business.jsonl "{name} | {city} | {categories} | {attributes}"
run amz-C $A/reviews.jsonl $A/meta.jsonl "{title}"
run amz-B $A/reviews.jsonl $A/meta.jsonl "{title} | {main_category}"
