#!/usr/bin/env bash
# Benchmarks, each side by side in one run with its Python peer in the
# project's venv (installed by `scripts/setup.sh --bench`), release build,
# 2 threads. Usage: scripts/bench.sh [decode|train|embed|kmeans|all]
# Results (JSON) land in target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --bench
cargo build --release
G=./target/release/genrec
B=./target/release/genrec-bench
PY=.venv/bin/python
OUT=target/bench
export THREADS=${THREADS:-2} OMP_NUM_THREADS=${THREADS:-2} PYTHONUNBUFFERED=1
mkdir -p $OUT
ml=data/prepared/ml-100k
beauty=data/prepared/amazon-beauty
need_ml() {
  [ -f $ml/index/index.json ] || { $G prepare data/ml-100k --out $ml --text-template "{movie_title} ({release_year}) | {class}"; $G embed -d $ml; $G index -d $ml; }
}
need_beauty() {
  [ -f $beauty/embeddings.safetensors ] || { $G prepare ../shared/data/amazon-beauty --out $beauty; $G embed -d $beauty; }
}
what=${1:-all}
if [ "$what" = decode ] || [ "$what" = all ]; then
  need_ml
  $B decode --threads $THREADS --out $OUT --batch-sizes 1,64
  $PY benches/hf_generate.py $OUT 1,64
fi
if [ "$what" = train ] || [ "$what" = all ]; then
  need_ml
  $B train --threads $THREADS --out $OUT
  $PY benches/hf_train.py $OUT
fi
if [ "$what" = embed ] || [ "$what" = all ]; then
  need_beauty
  $B embed --threads $THREADS --out $OUT --dataset $beauty
  $PY benches/st_embed.py $OUT $beauty 64
  # Long texts (title + description length, cut at 256 tokens).
  $B embed --threads $THREADS --out $OUT --dataset $beauty --long 2000
  $PY benches/st_embed.py $OUT $beauty 64 $OUT/embed-long-texts.json
fi
if [ "$what" = kmeans ] || [ "$what" = all ]; then
  need_beauty
  $B kmeans --threads $THREADS --out $OUT --dataset $beauty
  $PY benches/sk_kmeans.py $OUT $beauty 3 256 20
  # 200,000 × 64 synthetic catalogue: the in-process cases, scikit-learn at the
  # same 20 iterations, and the whole default `genrec index` command, timed.
  $B kmeans --threads $THREADS --out $OUT/synthetic --synthetic 200000x64
  S=$OUT/synthetic/kmeans-synthetic
  $PY benches/sk_kmeans.py $OUT/synthetic $S/embeddings.safetensors 3 256 20
  rm -rf $S/prepared
  $G prepare $S/interactions.jsonl --items $S/items.jsonl --out $S/prepared >/dev/null
  $G embed -d $S/prepared --from $S/embeddings.safetensors >/dev/null
  secs=$( { TIMEFORMAT=%R; time $G index -d $S/prepared --threads $THREADS > $OUT/synthetic/index.txt 2>&1; } 2>&1 )
  tail -3 $OUT/synthetic/index.txt
  echo "genrec index (default), 200000 x 64: $secs s wall" | tee $OUT/synthetic/index-wall.txt
fi
