#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py says what it runs): one prepared script for a machine with a
# CUDA GPU, under 8 minutes on an H100. Run from anywhere:
#
#   bash bench/gpu_check.sh [OUT_DIR]          # figures in OUT_DIR/gpu_check.json and .log
#
# The project need not be installed: it runs from the checkout (PYTHONPATH); it needs torch,
# transformers (5.17 and newer ran it), peft, safetensors and pytest, plus bitsandbytes for the
# nf4 sections and Ray + vLLM for section 5. On a machine without a package registry, put the
# wheels of what is missing in .whl/ beforehand; they are installed into /tmp/site first, e.g.
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_24_x86_64 -d .whl bitsandbytes==0.50.2
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${1:-${OUT:-/tmp/gpu-check}}"
mkdir -p "$OUT_DIR"
PY="${PYTHON:-python3}"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH="/tmp/site:$PYTHONPATH"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader | tee "$OUT_DIR/nvidia-smi.txt"
"$PY" bench/gpu_check.py --out "$OUT_DIR" "${@:2}" 2>&1 | tee "$OUT_DIR/gpu_check.log"
exit "${PIPESTATUS[0]}"
