#!/usr/bin/env bash
# The main job, end to end on ML-100K: set-up, build, prepare.
# (Later stages — embed, index, train, evaluate, recommend — join as they land.)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release
G=./target/release/genrec
$G prepare data/ml-100k --out data/prepared/ml-100k \
  --text-template "{movie_title} ({release_year}) | {class}"
