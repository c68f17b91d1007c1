"""Training-inference mismatch: metrics and truncated importance weights, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rllib_arpo.core import metrics as M
from rllib_arpo.core.loss import arpo_policy_loss
from rllib_arpo.core.mismatch import mismatch_metrics, truncated_is_weights

SAMPLER = [np.array([-1.0, -2.0]), np.array([-0.5])]
TRAINER = [np.array([-1.1, -1.0]), np.array([-0.5])]
# delta = trainer - sampler = [-0.1, +1.0, 0.0]


def test_weights_are_the_ratio_cut_at_the_cap() -> None:
    weights = truncated_is_weights(SAMPLER, TRAINER, cap=2.0)
    assert weights[0] == pytest.approx([math.exp(-0.1), 2.0])  # e^1 = 2.718 > C = 2
    assert weights[1] == pytest.approx([1.0])
    assert weights[0].dtype == np.float32


def test_metrics_by_hand() -> None:
    out = mismatch_metrics(SAMPLER, TRAINER, cap=2.0)
    deltas = [-0.1, 1.0, 0.0]
    assert out[M.MISMATCH_MEAN_ABS_DELTA] == pytest.approx(1.1 / 3)
    assert out[M.MISMATCH_MAX_ABS_DELTA] == pytest.approx(1.0)
    assert out[M.MISMATCH_KL] == pytest.approx(np.mean([math.expm1(d) - d for d in deltas]))
    assert out[M.MISMATCH_KL] >= 0
    assert out[M.MISMATCH_CLIPPED_SHARE] == pytest.approx(1 / 3)
    assert M.MISMATCH_CLIPPED_SHARE not in mismatch_metrics(SAMPLER, TRAINER)
    assert mismatch_metrics([], []) == {}


def test_identical_log_probs_mean_no_mismatch() -> None:
    out = mismatch_metrics(SAMPLER, SAMPLER, cap=1.5)
    assert out[M.MISMATCH_MEAN_ABS_DELTA] == 0 and out[M.MISMATCH_KL] == 0
    assert out[M.MISMATCH_CLIPPED_SHARE] == 0


def test_shapes_must_agree() -> None:
    with pytest.raises(ValueError, match="one shape"):
        truncated_is_weights([np.zeros(2)], [np.zeros(3)], cap=2.0)
    with pytest.raises(ValueError, match="sampler log-probs"):
        mismatch_metrics([np.zeros(2)], [np.zeros(3)])


def test_the_loss_weights_each_token() -> None:
    logp = torch.tensor([[-1.0, -2.0, -0.5]], requires_grad=True)  # (B=1, T=3)
    old = torch.tensor([[-1.0, -2.0, -0.5]])
    adv = torch.tensor([1.0])
    mask = torch.ones(1, 3, dtype=torch.bool)
    weight = torch.tensor([[0.5, 2.0, 1.0]])
    plain, _ = arpo_policy_loss(logp, old, adv, mask)
    weighted, _ = arpo_policy_loss(logp, old, adv, mask, is_weight=weight)
    # at ratio 1 each token's loss is -A; weighted: -(0.5 + 2 + 1) / 3
    assert plain.item() == pytest.approx(-1.0)
    assert weighted.item() == pytest.approx(-3.5 / 3)
    ones, _ = arpo_policy_loss(logp, old, adv, mask, is_weight=torch.ones(1, 3))
    assert ones.item() == pytest.approx(plain.item())
    (grad,) = torch.autograd.grad(weighted, logp)
    assert grad[0].tolist() == pytest.approx([-0.5 / 3, -2.0 / 3, -1.0 / 3])
    with pytest.raises(ValueError, match="is_weight"):
        arpo_policy_loss(logp, old, adv, mask, is_weight=torch.ones(3))
