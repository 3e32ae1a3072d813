#!/usr/bin/env bash
# One GPU call for the Beauty recipe (issue 16 part 2) and SASRec on Beauty
# (issue 12), for a machine with PyTorch 2.11 (CUDA) and no Rust toolchain.
# Prepare here (x86-64 Linux), then carry .gpu:
#   cargo build --release && mkdir -p .gpu/lib && cp target/release/genrec .gpu/
#   genrec prepare ../shared/data/amazon-beauty --out data/prepared/amazon-beauty
#   genrec embed -d data/prepared/amazon-beauty && genrec index -d data/prepared/amazon-beauty
#   cp -r data/prepared/amazon-beauty .gpu/ && cp "$(g++ -print-file-name=libstdc++.so.6)" .gpu/lib/
# It trains train/beauty-fast.toml (plus EXTRA overrides) for MIN minutes,
# evaluates on the test split with the text fusion and the baselines, then
# trains SASRec in what is left of BUDGET seconds. Everything goes to
# $OUT/results.tgz (rewritten after each part, so a cut-off run still returns
# what it did). A dry run on the CPU: DEVICE=cpu D=data/prepared/ml-100k MIN=0.2 ...
set -uo pipefail
T0=$(date +%s)
OUT=${OUT:-/tmp/gpu-out}
MIN=${MIN:-6}
BUDGET=${BUDGET:-560}
DEVICE=${DEVICE:-cuda}
D=${D:-.gpu/amazon-beauty}
G=${G:-.gpu/genrec}
NAME=${NAME:-fast-text}
EXTRA=${EXTRA:-}
BASELINES=${BASELINES:-pop,knn,knn-recent,sasrec}
W=/tmp/gpu-work
rm -rf "$W" /tmp/gpu-ck && mkdir -p "$OUT" "$W"
pack() { tar -czf "$OUT/results.tgz" -C "$W" . ; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }
if [ "$DEVICE" = cuda ]; then
  TL=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)/lib
  export LD_LIBRARY_PATH="$TL:$PWD/.gpu/lib"
  (nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true) | tee "$W/gpu.txt"
fi

# 1. The time-boxed recipe.
# shellcheck disable=SC2086
$G train -c train/beauty-fast.toml --device "$DEVICE" \
  --set "data.dataset=\"$D\"" --set "data.index=\"$D/index\"" \
  --set 'run.checkpoints="/tmp/gpu-ck"' --set "run.name=\"$NAME\"" \
  --set "run.max_minutes=$MIN" $EXTRA > "$W/train.log" 2>&1
echo "train rc $? after $(( $(date +%s) - T0 )) s"
tr '\r' '\n' < "$W/train.log" | grep -v '^\s*$' | tail -4
cp /tmp/gpu-ck/$NAME/metrics.jsonl /tmp/gpu-ck/$NAME/train.toml "$W/" 2>/dev/null
pack

# 2. Test split: generator, the text fusion chosen at training, λ fusion,
# baselines (SASRec from its cache when one is there), paired differences.
$G evaluate --checkpoint /tmp/gpu-ck/$NAME --device "$DEVICE" --batch-size 512 --text-fusion \
  --baselines "$BASELINES" --out "$W/eval" > "$W/eval.log" 2>&1
echo "evaluate rc $? after $(( $(date +%s) - T0 )) s"
tail -24 "$W/eval.log"
rm -f "$W"/eval/recs-*.jsonl
pack
# The best checkpoint comes back in parts of 15 MB (the limit on returned files).
B=/tmp/gpu-ck/$NAME/$(cat /tmp/gpu-ck/$NAME/best)
tar -cf - --exclude=./optimizer.safetensors -C "$B" . \
  | gzip -1 | split -b 15M - "$OUT/ck.tgz.part-"

# 3. The validation split in full, when there is time.
if [ "$(left)" -gt 90 ]; then
  timeout $(( $(left) - 20 )) $G evaluate --checkpoint /tmp/gpu-ck/$NAME --device "$DEVICE" \
    --batch-size 512 --split valid --out "$W/valid" > "$W/valid.log" 2>&1
  echo "valid rc $? after $(( $(date +%s) - T0 )) s"
  tail -12 "$W/valid.log"
  rm -f "$W"/valid/recs-*.jsonl
  pack
fi

# 4. SASRec (RecBole's recipe) in the time that is left, unless cached; its cache comes back too.
S=$(( $(left) - 15 ))
if [ "$S" -gt 30 ] && ! ls "$D"/baselines/*/model.safetensors > /dev/null 2>&1; then
  timeout "$S" $G baseline -d "$D" --device "$DEVICE" > "$W/sasrec.log" 2>&1
  echo "sasrec rc $? after $(( $(date +%s) - T0 )) s (limit $S s)"
  tr '\r' '\n' < "$W/sasrec.log" | grep -v '^\s*$' | tail -6
  cp -r "$D/baselines" "$W/" 2>/dev/null
fi
pack
echo "done after $(( $(date +%s) - T0 )) s"
