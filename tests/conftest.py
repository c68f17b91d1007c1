"""Session-wide test settings: no network, no Ray auth prompts, GPU tests only where a GPU is,
vLLM tests only in the vLLM venv.

The ``vllm``-marked tests need vLLM, which lives in its own venv (its transformers pin differs
from the project's; docs/engines.md). The training venv deselects them (they are not skipped:
they run, as README command 2 does, with ``.venv-vllm/bin/pytest -m vllm``)."""

from __future__ import annotations

import os

import pytest

# Nothing in the test suite may reach a model hub; Ray's token auth is off for local clusters.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return torch.cuda.is_available()


def _vllm_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _vllm_installed():
        vllm_items = [item for item in items if "vllm" in item.keywords]
        if vllm_items:
            config.hook.pytest_deselected(items=vllm_items)
            items[:] = [item for item in items if "vllm" not in item.keywords]
            config._arpo_vllm_deselected = len(vllm_items)  # type: ignore[attr-defined]
    if _cuda_available():
        return
    no_gpu = pytest.mark.skip(reason="needs a CUDA device (runs on GPU machines)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(no_gpu)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    count = getattr(config, "_arpo_vllm_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} vllm test(s) deselected here: they run in the vLLM venv "
            "(bash scripts/vllm_cpu_venv.sh && .venv-vllm/bin/pytest -m vllm)"
        )


@pytest.fixture(scope="session")
def tiny_pair(tmp_path_factory):
    """Two 1.4M tiny checkpoints with different weights (seed 0, seed 1): an engine's weights
    before and after a sync."""
    from rllib_arpo.policy.tiny import write_tiny_checkpoint

    root = tmp_path_factory.mktemp("engines")
    return (
        write_tiny_checkpoint(root / "seed0", size="1.4m", seed=0),
        write_tiny_checkpoint(root / "seed1", size="1.4m", seed=1),
    )
