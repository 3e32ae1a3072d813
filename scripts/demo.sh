#!/usr/bin/env bash
# The main job, end to end on ML-100K: set-up, build, then
# prepare → embed → index → train (generator) → train (verifier) → evaluate
# (with and without reranking, next to the baselines) → recommend.
# Re-running skips finished work (cached embeddings, finished training runs).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release
G=./target/release/genrec
D=data/prepared/ml-100k
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "prepare"
$G prepare data/ml-100k --out $D --text-template "{movie_title} ({release_year}) | {class}"
step "embed (all-MiniLM-L6-v2)"
$G embed -d $D
step "index (residual k-means semantic IDs)"
$G index -d $D
# A finished run is kept; one with another configuration, other semantic IDs or
# (verifier) another generator is moved aside and trained afresh.
step "train the generator (train/ml100k.toml)"
$G train -c train/ml100k.toml --resume --restart-if-changed
step "train the verifier (train/ml100k-verifier-sequence.toml: SASRec, trained once and cached; evaluate's baseline row reuses it)"
# Its run is not resumable and takes seconds once SASRec is cached: λ is chosen
# afresh over the generator as it now is.
rm -rf checkpoints/ml100k-verifier-sequence
$G train -c train/ml100k-verifier-sequence.toml
step "evaluate on the test split (leave-one-out, full catalogue)"
$G evaluate --checkpoint checkpoints/ml100k --split test --rerank checkpoints/ml100k-verifier-sequence --text-fusion
step "evaluate, seen items excluded (RecBole's protocol for general models)"
$G evaluate --checkpoint checkpoints/ml100k --split test --exclude-seen --rerank checkpoints/ml100k-verifier-sequence --out checkpoints/ml100k/exclude-seen
step "recommend (batch inference) for the test users"
$G recommend --checkpoint checkpoints/ml100k --split test --exclude-seen --rerank checkpoints/ml100k-verifier-sequence --output checkpoints/ml100k/recs-test.jsonl
head -n 2 checkpoints/ml100k/recs-test.jsonl
