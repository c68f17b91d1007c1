"""Fixtures for the policy tests: tiny checkpoints written once per session, loaded like real ones."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: nothing is ever downloaded
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """The default 1.4M tiny checkpoint, written to a temp directory."""
    from rllib_arpo.policy.tiny import write_tiny_checkpoint

    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny-1.4m", size="1.4m", seed=0)


@pytest.fixture(scope="session")
def policy(tiny_dir):
    """The tiny checkpoint loaded in fp32 on CPU through ``load_policy``."""
    from rllib_arpo.policy import load_policy

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return load_policy(tiny_dir, device="cpu", dtype=torch.float32)


@pytest.fixture
def screenshot():
    """``screenshot(width, height, seed)`` -> a random uint8 (H, W, 3) array."""

    def make(width: int = 112, height: int = 112, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)

    return make
