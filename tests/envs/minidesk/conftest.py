"""Fixtures of the MiniDesk tests (``tests/envs/minidesk``)."""

from __future__ import annotations

import pytest
from minidesk_helpers import FIXED_NOW

from envs.minidesk import MiniDeskEnv


@pytest.fixture
def env() -> MiniDeskEnv:
    """A default-size env with a fixed clock."""
    return MiniDeskEnv(now=FIXED_NOW)
