#!/bin/bash
# The default commands on a real shop catalogue: UCI Online Retail's customers
# (benches/retail_sample.py), each one's last 50 products, descriptions as text.
set -e
# Inputs: python3 benches/retail_sample.py Online_Retail_Grouped.csv runs/retail
#   cp target/release/genrec runs/retail/genrec
cd /work/main
G=runs/retail/genrec
D=runs/retail/ds
T0=$(date +%s)
$G prepare runs/retail/sequences.jsonl --items runs/retail/items.jsonl --out $D
$G embed -d $D
$G index -d $D
$G train -d $D --set run.checkpoints=\"runs/retail/ck\"
$G evaluate --checkpoint runs/retail/ck/ds --split valid > runs/retail/eval-valid.out
$G evaluate --checkpoint runs/retail/ck/ds --split test > runs/retail/eval-test.out
echo "total $(( $(date +%s) - T0 )) s"
