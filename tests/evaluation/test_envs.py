"""``rllib_arpo.evaluation.envs``: envs by name, and requests matched to their envs."""

from __future__ import annotations

import numpy as np
import pytest

from rllib_arpo.evaluation.envs import EnvSpec, EnvTracker, make_env_factory
from rllib_arpo.evaluation.errors import EvalError


def test_miniwob_is_a_clear_error_or_runs() -> None:
    try:
        factory, _ = make_env_factory(EnvSpec("miniwob"))
    except EvalError as error:
        assert "miniwob" in str(error) and "\n" not in str(error)
    else:
        assert callable(factory)


class _StubEnv:
    def __init__(self) -> None:
        self.closed = False

    def reset(self, **kwargs):
        return {"screenshot": np.zeros((2, 2, 3), np.uint8)}, {}

    def step(self, action: str):
        return {"screenshot": np.ones((2, 2, 3), np.uint8)}, 0.0, False, False, {}

    def close(self) -> None:
        self.closed = True


def test_tracker_maps_the_very_screenshot_to_its_env() -> None:
    tracker = EnvTracker()
    first, second = tracker.wrap(_StubEnv()), tracker.wrap(_StubEnv())
    shot, _ = first.reset()
    first.history.append("answer")
    other, *_ = second.step("click")
    assert tracker.env_for(shot["screenshot"]) is first
    assert tracker.env_for(other["screenshot"]) is second
    with pytest.raises(RuntimeError, match="not returned by any tracked env"):
        tracker.env_for(shot["screenshot"].copy())  # an equal array is not the env's
    newer, *_ = first.step("click")
    with pytest.raises(RuntimeError):
        tracker.env_for(shot["screenshot"])  # the env's earlier screenshot is forgotten
    assert tracker.env_for(newer["screenshot"]) is first and first.history == ["answer"]
    first.reset()
    assert first.history == []
    second.close()
    assert second.env.closed
    with pytest.raises(RuntimeError):
        tracker.env_for(other["screenshot"])
