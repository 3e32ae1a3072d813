#!/usr/bin/env bash
# The NCCL check of issue 15, for a GPU machine with PyTorch 2.11 (CUDA) and no
# Rust toolchain (carry .gpu as for scripts/gpu-recipe.sh): train/beauty.toml
# for STEPS steps as one process, then as a one-rank NCCL job (RANK=0
# WORLD_SIZE=1 --dist-backend nccl), and prints both runs' examples/s and
# losses (the same seed and batches: the losses must match closely).
# Usage: STEPS=300 scripts/gpu-nccl.sh   (results in $OUT/nccl.tgz)
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
STEPS=${STEPS:-300}
D=${D:-.gpu/amazon-beauty}
G=${G:-.gpu/genrec}
W=/tmp/gpu-nccl
rm -rf "$W" && mkdir -p "$W" "$OUT"
TL=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)/lib
export LD_LIBRARY_PATH="$TL:$PWD/.gpu/lib"
common=(-c train/beauty.toml --device cuda --set "data.dataset=\"$D\"" --set "data.index=\"$D/index\""
  --max-steps "$STEPS" --set eval.every=1000000000 --set eval.max_users=200 --set run.log_every=50)
$G train "${common[@]}" --set "run.checkpoints=\"$W/one\"" > "$W/one.log" 2>&1
echo "one process rc $?"
RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29577 \
  $G train "${common[@]}" --dist-backend nccl --set "run.checkpoints=\"$W/job\"" > "$W/job.log" 2>&1
echo "NCCL job of one rc $?"
for r in one job; do
  echo "== $r"; grep -h '"loss"' "$W/$r"/*/metrics.jsonl | tail -3
  tr '\r' '\n' < "$W/$r.log" | grep -E 'joined|steps \(' | tail -2
done
tar -czf "$OUT/nccl.tgz" -C "$W" --exclude='step-*' .
