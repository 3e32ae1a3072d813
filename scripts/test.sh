#!/usr/bin/env bash
# Runs the whole test suite, set-up included (idempotent: a second run skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export RUST_BACKTRACE=1
cargo build --release --bins
cargo test --release --all-targets -- --test-threads=2
