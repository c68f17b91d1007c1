"""Tests of rllib_arpo/core/reward.py: ARPO's reward formula and success rule."""

from __future__ import annotations

import pytest

from rllib_arpo.core.reward import (
    FORMAT_REWARD_BAD,
    FORMAT_REWARD_OK,
    compute_reward,
    format_reward,
    is_success,
)


@pytest.mark.parametrize(
    ("eval_result", "format_reward", "expected"),
    [(1.0, 0.0, 1.0), (0.0, 0.0, 0.0), (0.0, -1.0, -0.5), (0.5, -1.0, 0.0), (1.0, -1.0, 0.5)],
)
def test_compute_reward_is_eval_plus_half_format(eval_result, format_reward, expected) -> None:
    assert compute_reward(eval_result, format_reward) == pytest.approx(expected)


def test_compute_reward_weight() -> None:
    assert compute_reward(0.0, -1.0, format_penalty_weight=1.0) == -1.0


def test_format_reward_is_zero_when_parsed_and_minus_one_when_not() -> None:
    assert format_reward(True) == FORMAT_REWARD_OK == 0.0
    assert format_reward(False) == FORMAT_REWARD_BAD == -1.0


def test_success_is_strictly_above_the_threshold() -> None:
    assert is_success(1.0) and is_success(0.11)
    assert not is_success(0.1) and not is_success(0.0)
    assert is_success(0.5, threshold=0.4) and not is_success(0.4, threshold=0.4)
