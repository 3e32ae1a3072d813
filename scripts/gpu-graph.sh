#!/usr/bin/env bash
# Issue 16 on a GPU machine with PyTorch 2.11 (CUDA) and no Rust toolchain:
# CUDA-graph training steps against eager ones and Hugging Face's T5 on the
# same GPU in one run, then the Beauty recipe with graphs. Prepare here
# (x86-64 Linux) and carry .gpu:
#   cargo build --release && mkdir -p .gpu/lib && cp target/release/genrec target/release/genrec-bench .gpu/
#   genrec prepare ../shared/data/amazon-beauty --out data/prepared/amazon-beauty
#   genrec embed -d data/prepared/amazon-beauty && genrec index -d data/prepared/amazon-beauty
#   cp -r data/prepared/amazon-beauty .gpu/ && cp "$(g++ -print-file-name=libstdc++.so.6)" .gpu/lib/
# PARTS picks what runs (default "speed train"; a call has 600 s):
#   speed   genrec-bench train eager, --cuda-graph and the HF peer (benches/hf_train.py),
#           batch 256 and 1024, bf16, TIGER's size (train/beauty.toml): examples/s, peak memory
#   train   `genrec train` itself at batch 1024, 400 steps with and without graphs:
#           examples/s between steps 200 and 400, and both runs' losses
#   trace   kernel-level traces at batch TRACE_BATCH (default 1024), TRACE_STEPS steps: genrec
#           eager and with the graph (genrec-bench train --trace) and the HF peer (TRACE=),
#           each summed by benches/trace_summary.py (trace-*.txt; the traces gzipped)
#   recipe  train/beauty-fast.toml for MIN minutes (graphs on, the default; LP sets
#           optim.length_pool, default 0), then the
#           test split with the text fusion and the baselines (like scripts/gpu-recipe.sh)
# A dry run on the CPU (script logic only; graphs need a GPU): DEVICE=cpu G=target/release
#   D=data/prepared/ml-100k BATCHES=16 STEPS=20 MIN=0.1 PARTS="speed train recipe" scripts/gpu-graph.sh
# For prev-graph, put an earlier genrec-bench at .gpu/prev/genrec-bench (session 16 used
# 463a905's, before the fused RMSNorm and stacked projections).
# Everything goes to $OUT/results.tgz, rewritten after each part. With 15 minutes of
# device time: first `PARTS="speed trace"` (about 4 minutes), then on the warm machine
# `PARTS=recipe MIN=5.5 LP=50` (about 7: compare its validation with session 16's
# recipe-metrics.jsonl before taking length pools into the recipe), then give it back.
set -uo pipefail
export BATCHES STEPS MODES
T0=$(date +%s)
OUT=${OUT:-/tmp/gpu-out}
PARTS=${PARTS:-speed train}
MIN=${MIN:-6}
D=${D:-.gpu/amazon-beauty}
G=${G:-.gpu}
DEVICE=${DEVICE:-cuda}
BATCHES=${BATCHES:-256 1024}
STEPS=${STEPS:-400}
# Bench modes: eager, graph, eager-lp / graph-lp (--length-pool 50), prev-graph
# (the binary at $PREV, for a before/after in one run; skipped when absent).
PREV=${PREV:-$G/prev/genrec-bench}
MODES=${MODES:-eager graph prev-graph graph-lp}
W=/tmp/gpu-graph
rm -rf "$W" && mkdir -p "$OUT" "$W"
pack() { tar -czf "$OUT/results.tgz" -C "$W" . ; }
say() { echo "== $* ($(( $(date +%s) - T0 )) s)"; }
TL=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)/lib
export LD_LIBRARY_PATH="$TL:$PWD/.gpu/lib"
DS=(--set "data.dataset=\"$D\"" --set "data.index=\"$D/index\"")
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true) | tee "$W/gpu.txt"

if [[ " $PARTS " == *" speed "* ]]; then
  for bs in $BATCHES; do
    o=/tmp/bench-$bs
    for mode in $MODES; do
      flag=(); bin=$G/genrec-bench
      case $mode in
        graph) flag=(--cuda-graph) ;;
        eager-lp) flag=(--length-pool 50) ;;
        graph-lp) flag=(--cuda-graph --length-pool 50) ;;
        prev-graph) flag=(--cuda-graph); bin=$PREV ;;
      esac
      [ -x "$bin" ] || continue
      say "genrec-bench train $mode batch $bs"
      rm -f $o/train-genrec*.json
      timeout 150 $bin train --device "$DEVICE" --bf16 "${flag[@]}" --dataset "$D" --config train/beauty.toml \
        --batch-size $bs --steps 60 --warmup 10 --out $o 2>"$W/bench-$mode-$bs.err" | tail -1
      cp $o/train-genrec*.json "$W/bench-$mode-$bs.json"
    done
    say "hf_train.py batch $bs"
    DEVICE=$DEVICE THREADS=4 timeout 150 python3 benches/hf_train.py $o 2>&1 | tail -1
    cp $o/train-hf.json "$W/bench-hf-$bs.json"
  done 2>&1 | tee "$W/speed.txt"
  python3 - "$W" <<'PY' | tee "$W/speed-summary.txt"
import json, os, sys
w = sys.argv[1]
for bs in map(int, os.environ["BATCHES"].split()):
    r = {}
    for m in os.environ["MODES"].split() + ["hf"]:
        p = os.path.join(w, f"bench-{m}-{bs}.json")
        if os.path.exists(p):
            j = json.load(open(p)); r[m] = (j["examples_per_second"], j.get("peak_gpu_mb"))
    line = " | ".join(f"{m} {v[0]:,.0f} ex/s, peak {v[1] or 0:,.0f} MB" for m, v in r.items())
    ratio = "".join(f" | {m}/hf {r[m][0] / r['hf'][0]:.2f}" for m in r if m != "hf" and "hf" in r)
    if "graph" in r and "prev-graph" in r:
        ratio += f" | graph/prev-graph {r['graph'][0] / r['prev-graph'][0]:.2f}"
    print(f"batch {bs}: {line}{ratio}")
PY
  pack
fi

if [[ " $PARTS " == *" train "* ]]; then
  for g in true false; do
    ck=/tmp/speed-$g
    rm -rf $ck
    say "genrec train, cuda_graphs=$g"
    timeout 150 $G/genrec train -c train/beauty-fast.toml --device "$DEVICE" "${DS[@]}" --set "run.checkpoints=\"$ck\"" --set run.name=\"s\" \
      --set run.cuda_graphs=$g --set optim.max_steps=$STEPS --set eval.every=100000 --set eval.max_users=64 --set run.log_every=$((STEPS / 4)) \
      --set run.max_minutes=0 > "$W/train-graphs-$g.log" 2>&1
    echo "rc $?"; tr '\r' '\n' < "$W/train-graphs-$g.log" | grep -i "graph\|error" | head -5
    cp $ck/s/metrics.jsonl "$W/train-graphs-$g.jsonl" 2>/dev/null
  done 2>&1 | tee "$W/train.txt"
  python3 - "$W" <<'PY' | tee -a "$W/train.txt"
import json, os, sys
w = sys.argv[1]
for g in ("true", "false"):
    p = os.path.join(w, f"train-graphs-{g}.jsonl")
    if not os.path.exists(p):
        continue
    rows = {r["step"]: r for r in map(json.loads, open(p)) if "loss" in r}
    n, bs = int(os.environ["STEPS"]), 1024
    t = lambda s: s * bs / rows[s]["examples_per_second"]
    eps = (n // 2) * bs / (t(n) - t(n // 2)) if n // 2 in rows and n in rows else float("nan")
    print(f"cuda_graphs={g}: {eps:,.0f} ex/s (steps {n // 2}-{n}); losses", [round(rows[s]["loss"], 4) for s in sorted(rows)])
PY
  pack
fi

if [[ " $PARTS " == *" trace "* ]]; then
  TB=${TRACE_BATCH:-1024}
  TS=${TRACE_STEPS:-5}
  o=/tmp/trace-$TB
  for mode in eager graph; do
    flag=(); [ $mode = graph ] && flag=(--cuda-graph)
    say "genrec-bench train --trace, $mode, batch $TB"
    timeout 150 $G/genrec-bench train --device "$DEVICE" --bf16 "${flag[@]}" --dataset "$D" --config train/beauty.toml \
      --batch-size $TB --steps $TS --warmup 10 --trace "$W/trace-genrec-$mode.json" --out $o 2>"$W/trace-genrec-$mode.err" | tail -1
    python3 benches/trace_summary.py "$W/trace-genrec-$mode.json" $TS 30 > "$W/trace-genrec-$mode.txt" 2>&1
    head -16 "$W/trace-genrec-$mode.txt"
  done
  say "hf_train.py with TRACE, batch $TB"
  DEVICE=$DEVICE THREADS=4 TRACE="$W/trace-hf.json" timeout 150 python3 benches/hf_train.py $o 2>&1 | tail -1
  python3 benches/trace_summary.py "$W/trace-hf.json" $TS 30 > "$W/trace-hf.txt" 2>&1
  head -16 "$W/trace-hf.txt"
  gzip -f "$W"/trace-*.json
  pack
fi

if [[ " $PARTS " == *" recipe "* ]]; then
  say "recipe: train/beauty-fast.toml for $MIN minutes"
  $G/genrec train -c train/beauty-fast.toml --device "$DEVICE" "${DS[@]}" --set 'run.checkpoints="/tmp/gpu-ck"' \
    --set run.name=\"graph\" --set "run.max_minutes=$MIN" --set "optim.length_pool=${LP:-0}" > "$W/recipe-train.log" 2>&1
  echo "train rc $?"; tr '\r' '\n' < "$W/recipe-train.log" | grep -v '^\s*$' | tail -4
  cp /tmp/gpu-ck/graph/metrics.jsonl /tmp/gpu-ck/graph/train.toml "$W/" 2>/dev/null
  pack
  say "test split"
  $G/genrec evaluate --checkpoint /tmp/gpu-ck/graph --device "$DEVICE" --batch-size 512 --text-fusion \
    --baselines "${BASELINES:-pop,knn}" --out "$W/eval" > "$W/eval.log" 2>&1
  echo "evaluate rc $?"; tail -20 "$W/eval.log"
  rm -f "$W"/eval/recs-*.jsonl
  pack
fi
say "done"
