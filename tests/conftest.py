"""Session-wide test settings: no network, no Ray auth prompts, GPU tests only where a GPU is."""

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _cuda_available():
        return
    no_gpu = pytest.mark.skip(reason="needs a CUDA device (runs on GPU machines)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(no_gpu)
