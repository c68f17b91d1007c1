"""Tests of rllib_arpo/core/advantages.py: group-normalized advantages (GRPO/ARPO)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rllib_arpo.core.advantages import (
    ADV_EPS,
    broadcast_advantages_to_tokens,
    compute_group_advantages,
    zero_variance_group_fraction,
)

ONE_SUCCESS_IN_8 = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
# mean 0.125; unbiased std sqrt((0.875^2 + 7 * 0.125^2) / 7) = sqrt(1/8) = 0.353553
SUCCESS_ADV = 0.875 / (math.sqrt(1 / 8) + ADV_EPS)  # +2.474860
FAILURE_ADV = -0.125 / (math.sqrt(1 / 8) + ADV_EPS)  # -0.353552


def loop_advantages(rewards: list[float], group_ids: list[object]) -> list[float]:
    """The definition, one group at a time, in plain Python."""
    out = [0.0] * len(rewards)
    for g in dict.fromkeys(group_ids):
        idx = [i for i, x in enumerate(group_ids) if x == g]
        rs = [rewards[i] for i in idx]
        if len(rs) < 2 or len(set(rs)) == 1:
            continue
        mean = sum(rs) / len(rs)
        std = math.sqrt(sum((r - mean) ** 2 for r in rs) / (len(rs) - 1))
        for i in idx:
            out[i] = (rewards[i] - mean) / (std + ADV_EPS)
    return out


def test_one_success_among_eight_numpy() -> None:
    adv = compute_group_advantages(np.array(ONE_SUCCESS_IN_8), ["task"] * 8)
    assert adv[0] == pytest.approx(2.4749, abs=1e-4)
    assert adv[1:] == pytest.approx([-0.35355] * 7, abs=1e-5)
    assert adv[0] == pytest.approx(SUCCESS_ADV, rel=1e-12)
    assert adv[1] == pytest.approx(FAILURE_ADV, rel=1e-12)
    assert adv.dtype == np.float64


def test_one_success_among_eight_torch_keeps_dtype_and_kind() -> None:
    adv = compute_group_advantages(torch.tensor(ONE_SUCCESS_IN_8), ["task"] * 8)
    assert isinstance(adv, torch.Tensor) and adv.dtype == torch.float32
    torch.testing.assert_close(adv[0], torch.tensor(SUCCESS_ADV, dtype=torch.float32))
    torch.testing.assert_close(adv[5], torch.tensor(FAILURE_ADV, dtype=torch.float32))


def test_groups_in_any_row_order() -> None:
    rewards = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.0])
    groups = ["b", "a", "a", "b", "a", "b"]
    perm = np.array([5, 2, 0, 4, 1, 3])
    adv = compute_group_advantages(rewards, groups)
    adv_perm = compute_group_advantages(rewards[perm], [groups[i] for i in perm])
    np.testing.assert_allclose(adv_perm, adv[perm], rtol=0, atol=1e-12)
    # group "a" = [1, 0, 0.5]: mean 0.5, unbiased std 0.5
    np.testing.assert_allclose(adv[[1, 2, 4]], np.array([1, -1, 0]) * 0.5 / (0.5 + ADV_EPS))


def test_single_member_and_zero_variance_groups_give_zero() -> None:
    rewards = np.array([1.0, 0.1, 0.1, 0.1, -0.5, 0.3, 0.7])
    groups = ["solo", "flat", "flat", "flat", "mixed", "mixed", "mixed"]
    adv = compute_group_advantages(rewards, groups)
    assert (adv[:4] == 0.0).all()  # exactly, not 1e-11 / 1e-6
    assert np.abs(adv[4:]).max() > 0.5


def test_empty_batch() -> None:
    assert compute_group_advantages(np.zeros(0), []).shape == (0,)
    assert zero_variance_group_fraction(np.zeros(0), []) == 0.0


def test_group_ids_may_be_a_tensor() -> None:
    adv = compute_group_advantages(torch.tensor(ONE_SUCCESS_IN_8), torch.zeros(8, dtype=torch.long))
    assert float(adv[0]) == pytest.approx(SUCCESS_ADV, rel=1e-6)


def test_rejects_mismatched_lengths_and_shapes() -> None:
    with pytest.raises(ValueError, match="3 rewards but 2 group ids"):
        compute_group_advantages(np.zeros(3), ["a", "b"])
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        compute_group_advantages(np.zeros((2, 2)), ["a", "b"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from([0.0, 0.25, 0.5, 1.0, -0.5])),
        min_size=0,
        max_size=40,
    )
)
def test_loop_vs_vectorized_equivalence(rows) -> None:
    group_ids = [g for g, _ in rows]
    rewards = [r for _, r in rows]
    expected = loop_advantages(rewards, group_ids)
    np.testing.assert_allclose(
        compute_group_advantages(np.array(rewards, dtype=np.float64), group_ids),
        np.array(expected),
        rtol=1e-10,
        atol=1e-10,
    )


def test_group_advantages_sum_to_zero_with_unit_std() -> None:
    rng = np.random.default_rng(0)
    rewards = rng.random(32)
    groups = np.repeat(np.arange(4), 8)
    adv = compute_group_advantages(rewards, groups)
    for g in range(4):
        a = adv[groups == g]
        assert a.sum() == pytest.approx(0.0, abs=1e-9)
        assert a.std(ddof=1) == pytest.approx(1.0, abs=1e-4)


def test_zero_variance_group_fraction() -> None:
    rewards = [1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 1.0]
    groups = ["a", "a", "b", "b", "c", "c", "d"]  # a mixed; b, c flat; d single
    assert zero_variance_group_fraction(np.array(rewards), groups) == 0.75


def test_broadcast_advantages_to_tokens() -> None:
    mask = torch.tensor([[0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0]])
    adv = torch.tensor([2.0, -0.5, 3.0])
    expected = torch.tensor([[0, 2, 2, 0], [-0.5, -0.5, -0.5, -0.5], [0, 0, 0, 0]])
    torch.testing.assert_close(broadcast_advantages_to_tokens(adv, mask), expected)
    torch.testing.assert_close(broadcast_advantages_to_tokens(adv[:, None], mask.bool()), expected)
    out = broadcast_advantages_to_tokens(adv.numpy(), mask.numpy())
    np.testing.assert_array_equal(out, expected.numpy())
    with pytest.raises(ValueError, match="2 rows"):
        broadcast_advantages_to_tokens(adv[:2], mask)
