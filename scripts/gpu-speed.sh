#!/usr/bin/env bash
# One GPU session's checks for the training speed issue, for a machine with
# PyTorch 2.11 (CUDA) and no Rust toolchain. Prepare here (x86-64 Linux):
#   git stash; cargo build --release; cp target/release/genrec .gpu/genrec-before; git stash pop
#   cargo build --release && cp target/release/genrec target/release/genrec-bench .gpu/
#   genrec prepare ../shared/data/amazon-beauty --out data/prepared/amazon-beauty
#   genrec embed -d data/prepared/amazon-beauty && genrec index -d data/prepared/amazon-beauty --backend faiss
#   cp -r data/prepared/amazon-beauty .gpu/ && mkdir -p .gpu/lib && cp "$(g++ -print-file-name=libstdc++.so.6)" .gpu/lib/
# then run it there from the repository root (carry .gpu). Results go to
# $OUT/results.tgz (rewritten after each part, so a cut-off run still returns what it did):
#   speed.jsonl   `genrec train`'s own examples/s (steps 100→300) before/after, batch 256 and 1024
#   bench-*.json  `genrec-bench train` (free-running and --profile) and the HF peer, same GPU, same batches
#   recipe-*      time-boxed Beauty runs side by side on the GPU (validation picks), test tables
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
MIN=${MIN:-4}
W=/tmp/gpu-work
mkdir -p "$OUT" "$W"
pack() { tar -czf "$OUT/results.tgz" -C "$W" . ; }
TL=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)/lib
export LD_LIBRARY_PATH="$TL:$PWD/.gpu/lib"
D=.gpu/amazon-beauty
DS=(--set "data.dataset=\"$D\"" --set "data.index=\"$D/index\"")
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true) | tee "$W/gpu.txt"
# Peak GPU memory of one command, sampled by nvidia-smi (the same way for genrec and the peer).
peak() { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > /tmp/mem.txt & local p=$!; "$@"; local rc=$?; kill $p; echo "peak_gpu_used_mb $(sort -n /tmp/mem.txt | tail -1)"; return $rc; }

# 1. Before/after: the train command itself, examples/s between steps 100 and 300.
for bin in genrec-before genrec; do
  for bs in 256 1024; do
    ck=/tmp/speed-$bin-$bs
    rm -rf $ck
    timeout 120 .gpu/$bin train -c train/beauty.toml --device cuda "${DS[@]}" --set "run.checkpoints=\"$ck\"" --set run.name=\"s\" \
      --set optim.batch_size=$bs --set optim.max_steps=300 --set eval.every=100000 --set eval.max_users=64 --set run.log_every=100 >/dev/null 2>&1
    python3 - "$ck/s/metrics.jsonl" "$bin" "$bs" <<'PY' | tee -a "$W/speed.jsonl"
import json, sys
rows = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "examples_per_second" in r: rows[r["step"]] = r["examples_per_second"]
bs = int(sys.argv[3]); t = lambda s: s * bs / rows[s]
print(json.dumps({"binary": sys.argv[2], "batch_size": bs, "examples_per_second_100_300": 200 * bs / (t(300) - t(100)), "cumulative_at_300": rows[300]}))
PY
  done
done

# 2. The training benchmark beside the HF peer (same batches, same GPU, bf16).
for bs in 256 1024; do
  o=/tmp/bench-$bs
  peak .gpu/genrec-bench train --device cuda --bf16 --dataset $D --config train/beauty.toml --batch-size $bs --steps 60 --warmup 10 --out $o 2>/dev/null | tail -2
  .gpu/genrec-bench train --device cuda --bf16 --profile --dataset $D --config train/beauty.toml --batch-size $bs --steps 30 --warmup 5 --out $o/p 2>/dev/null | tail -1
  DEVICE=cuda THREADS=4 peak python3 benches/hf_train.py $o 2>&1 | tail -2
  cp $o/train-genrec.json "$W/bench-genrec-$bs.json"; cp $o/p/train-genrec-profile.json "$W/bench-profile-$bs.json"; cp $o/train-hf.json "$W/bench-hf-$bs.json"
done 2>&1 | tee "$W/bench.txt"
pack

# 3. Recipes side by side on the GPU for MIN minutes each; validation decides, test reported.
run() { # name, overrides...
  local n=$1; shift
  .gpu/genrec train -c train/beauty-fast.toml --device cuda "${DS[@]}" --set 'run.checkpoints="/tmp/ck"' --set "run.name=\"$n\"" \
    --set "run.max_minutes=$MIN" "$@" > /tmp/train-$n.log 2>&1
}
run fast & run fast-match50 --set data.match_history=50 & wait
for n in fast fast-match50; do
  cp /tmp/ck/$n/metrics.jsonl "$W/recipe-$n-metrics.jsonl"; tail -c 600 /tmp/train-$n.log | tr '\r' '\n' | tail -3
  .gpu/genrec evaluate --checkpoint /tmp/ck/$n --device cuda --batch-size 512 --out /tmp/eval-$n 2>&1 | tail -12
  mkdir -p "$W/eval-$n"; cp /tmp/eval-$n/*.json /tmp/eval-$n/*.md "$W/eval-$n/" 2>/dev/null
done 2>&1 | tee "$W/recipe.txt"
pack
