#!/usr/bin/env bash
# Runs README "Scale out"'s launch recipes on this one machine, as far as it
# allows: torchrun as written; the Slurm and Kubernetes command lines with the
# variables their schedulers would set, given by hand (2 ranks on 127.0.0.1,
# train/tiny.toml). Each job must end with every rank reporting the same
# weights. Usage: scripts/try-scale-out.sh [genrec binary]
set -euo pipefail
cd "$(dirname "$0")/.."
GENREC=$(realpath "${1:-target/release/genrec}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ARGS=(-c train/tiny.toml --max-steps 20 --threads 1)
same_weights() { # log files... : every rank printed one digest, all equal
  local n
  n=$(grep -ho 'weights sha256 [0-9a-f]*' "$@" | sort -u | wc -l)
  [ "$n" -eq 1 ] || { echo "FAIL: $n distinct weight digests in $*" >&2; exit 1; }
}

echo "== torchrun --no-python --nproc-per-node 2"
.venv/bin/torchrun --no-python --nproc-per-node 2 --master-port 29561 \
  "$GENREC" train "${ARGS[@]}" --set "run.checkpoints=\"$WORK/torchrun\"" >"$WORK/torchrun.log" 2>&1
same_weights "$WORK/torchrun.log"; grep -h 'weights sha256' "$WORK/torchrun.log"

echo "== srun's wrapper (SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID set as srun sets them)"
export MASTER_ADDR=127.0.0.1 MASTER_PORT=29562
for id in 0 1; do
  SLURM_PROCID=$id SLURM_NTASKS=2 SLURM_LOCALID=$id GENREC=$GENREC OUT="$WORK/slurm" \
    bash -c 'RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS LOCAL_RANK=$SLURM_LOCALID exec "$GENREC" train -c train/tiny.toml --max-steps 20 --threads 1 --set "run.checkpoints=\"$OUT\""' \
    >"$WORK/slurm-$id.log" 2>&1 &
done
wait
same_weights "$WORK"/slurm-*.log; grep -h 'weights sha256' "$WORK"/slurm-*.log

echo "== Kubernetes indexed Job's container command (JOB_COMPLETION_INDEX set as the Job sets it)"
export MASTER_PORT=29563 WORLD_SIZE=2 LOCAL_RANK=0
for idx in 0 1; do
  JOB_COMPLETION_INDEX=$idx GENREC=$GENREC OUT="$WORK/k8s" \
    bash -c 'RANK=$JOB_COMPLETION_INDEX exec "$GENREC" train -c train/tiny.toml --max-steps 20 --threads 1 --set "run.checkpoints=\"$OUT\""' \
    >"$WORK/k8s-$idx.log" 2>&1 &
done
wait
same_weights "$WORK"/k8s-*.log; grep -h 'weights sha256' "$WORK"/k8s-*.log
echo "all three recipes trained 2 ranks to identical weights"
