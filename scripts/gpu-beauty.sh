#!/usr/bin/env bash
# The GPU check for Amazon Beauty, for a machine with PyTorch 2.11 (CUDA) and no
# Rust toolchain. Prepare here (x86-64 Linux):
#   cargo build --release
#   genrec prepare ../shared/data/amazon-beauty --out data/prepared/amazon-beauty
#   genrec embed -d data/prepared/amazon-beauty && genrec index -d data/prepared/amazon-beauty --backend faiss
#   mkdir -p .gpu/lib && cp target/release/genrec .gpu/ && cp -r data/prepared/amazon-beauty .gpu/
#   cp "$(g++ -print-file-name=libstdc++.so.6)" .gpu/lib/   # in case the GPU machine's is older
# then run this script there from the repository root. It trains with
# train/beauty.toml for MIN minutes, evaluates on the test split and measures
# batch inference at batch 256 and 1024; results go to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
MIN=${MIN:-5}
DEVICE=${DEVICE:-cuda}
EXTRA=${EXTRA:-}
mkdir -p "$OUT/eval"
TL=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)/lib
export LD_LIBRARY_PATH="$TL:$PWD/.gpu/lib"
G=.gpu/genrec
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true) | tee "$OUT/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$OUT/gpu.txt"
rm -rf /tmp/gpu-ck
$G train -c train/beauty.toml --device "$DEVICE" \
  --set 'data.dataset=".gpu/amazon-beauty"' --set 'data.index=".gpu/amazon-beauty/index"' \
  --set 'run.checkpoints="/tmp/gpu-ck"' --set "run.max_minutes=$MIN" $EXTRA 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | tail -4 | tee "$OUT/train.txt"
cp /tmp/gpu-ck/beauty/metrics.jsonl "$OUT/" || true
$G evaluate --checkpoint /tmp/gpu-ck/beauty --device "$DEVICE" --batch-size 512 --out "$OUT/eval" 2>&1 | tail -8
rm -f "$OUT/eval/recs-test.jsonl"
for bs in 256 1024; do
  $G recommend --checkpoint /tmp/gpu-ck/beauty --split test --batch-size $bs --device "$DEVICE" --output /tmp/gpu-recs-$bs.jsonl 2>&1 | tail -1
done | tee "$OUT/recommend.txt"
