#!/bin/bash
# Session 33: the words' sixth list (arm S) against the verifier stage without it.
cd /work/main/runs
A=../benches/results/session30-logp/arm.sh
G=/work/main/runs/s33/genrec-s bash $A tinyd /work/main/runs/ab-tinyd-G S A
G=/work/main/runs/s33/genrec bash $A tiny1d /work/main/runs/ck-tiny1d A A > /dev/null
G=/work/main/runs/s33/genrec-s bash $A tiny1d /work/main/runs/ck-tiny1d S A
for d in short a23 yelp; do G=/work/main/runs/s33/genrec-s bash $A $d /work/main/runs/ab-$d-A S L; done
