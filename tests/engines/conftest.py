"""Fixtures for the engine tests: two tiny checkpoints (different weights, same architecture)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_pair(tmp_path_factory):
    """(seed-0 checkpoint, seed-1 checkpoint) of the 1.4M tiny model."""
    from rllib_arpo.policy.tiny import write_tiny_checkpoint

    root = tmp_path_factory.mktemp("engines")
    return (
        write_tiny_checkpoint(root / "seed0", size="1.4m", seed=0),
        write_tiny_checkpoint(root / "seed1", size="1.4m", seed=1),
    )
