"""Tests of rllib_arpo/core/loss.py: clip-higher + dual-clip token loss, aggregation, extras.

Hand-computed fixtures use clip_ratio_low=0.2, clip_ratio_high=0.3, dual_clip_ratio=3 (ARPO), one
token per trajectory unless stated, old_logp = 0 so that ratio = exp(logp).
"""

from __future__ import annotations

import math

import pytest
import torch

from rllib_arpo.core import metrics as M
from rllib_arpo.core.loss import (
    LossAggregation,
    aggregate_token_loss,
    arpo_policy_loss,
    entropy_from_logits,
    kl_k3,
    reference_kl_loss,
)

LOW, HIGH, DUAL = 0.2, 0.3, 3.0
SEQ, TOK = LossAggregation.SEQ_MEAN_TOKEN_MEAN, LossAggregation.TOKEN_MEAN


def one_token(ratio: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    logp = torch.tensor([[math.log(ratio)]], dtype=torch.float64, requires_grad=True)  # (1, 1)
    old_logp = torch.zeros(1, 1, dtype=torch.float64)  # (1, 1)
    mask = torch.ones(1, 1, dtype=torch.bool)  # (1, 1)
    return logp, old_logp, mask


# (adv, ratio, loss, d loss / d logp, active clip metric or None)
REGIONS = [
    pytest.param(1.0, 1.1, -1.1, -1.1, None, id="A>0 inside range: -rho*A"),
    pytest.param(1.0, 1.5, -1.3, 0.0, M.LOSS_CLIP_FRAC_HIGH, id="A>0 above 1+hi: clipped"),
    pytest.param(2.0, 0.5, -1.0, -1.0, None, id="A>0 below 1-lo: not clipped"),
    pytest.param(-1.0, 0.5, 0.8, 0.0, M.LOSS_CLIP_FRAC_LOW, id="A<0 below 1-lo: clipped"),
    pytest.param(-2.0, 0.9, 1.8, 1.8, None, id="A<0 inside range: -rho*A"),
    pytest.param(-1.0, 1.5, 1.5, 1.5, None, id="A<0 above 1+hi: not clipped"),
    pytest.param(-1.0, 2.9, 2.9, 2.9, None, id="A<0 just under dual clip"),
    pytest.param(-1.0, 4.0, 3.0, 0.0, M.LOSS_DUAL_CLIP_FRAC, id="A<0 above c: dual clip -c*A"),
    pytest.param(-0.5, 10.0, 1.5, 0.0, M.LOSS_DUAL_CLIP_FRAC, id="A<0 far above c"),
    pytest.param(0.0, 1.7, 0.0, 0.0, None, id="A=0: nothing"),
]
CLIP_KEYS = (M.LOSS_CLIP_FRAC_LOW, M.LOSS_CLIP_FRAC_HIGH, M.LOSS_DUAL_CLIP_FRAC)


@pytest.mark.parametrize(("adv", "ratio", "loss", "grad", "active"), REGIONS)
def test_loss_and_gradient_in_each_region(adv, ratio, loss, grad, active) -> None:
    logp, old_logp, mask = one_token(ratio)
    out, metrics = arpo_policy_loss(
        logp,
        old_logp,
        torch.tensor([adv], dtype=torch.float64),
        mask,
        clip_ratio_low=LOW,
        clip_ratio_high=HIGH,
        dual_clip_ratio=DUAL,
    )
    out.backward()
    assert out.item() == pytest.approx(loss, abs=1e-12)
    assert logp.grad.item() == pytest.approx(grad, abs=1e-12)  # d/dlogp (-rho A) = -rho A
    for key in CLIP_KEYS:
        assert metrics[key].item() == (1.0 if key == active else 0.0), key


def test_dual_clip_can_be_disabled() -> None:
    logp, old_logp, mask = one_token(4.0)
    out, metrics = arpo_policy_loss(
        logp, old_logp, torch.tensor([-1.0]), mask, dual_clip_ratio=None
    )
    out.backward()
    assert out.item() == pytest.approx(4.0)
    assert logp.grad.item() == pytest.approx(4.0)
    assert metrics[M.LOSS_DUAL_CLIP_FRAC].item() == 0.0


def piecewise_token_loss(adv: float, ratio: float) -> float:
    """The module docstring's region table, one token at a time."""
    if adv > 0:
        return -min(ratio, 1 + HIGH) * adv
    if adv < 0:
        if ratio < 1 - LOW:
            return -(1 - LOW) * adv
        return -min(ratio, DUAL) * adv
    return 0.0


def test_vectorized_matches_piecewise_definition() -> None:
    gen = torch.Generator().manual_seed(0)
    logp = torch.randn(6, 9, generator=gen, dtype=torch.float64) * 0.8
    old_logp = torch.randn(6, 9, generator=gen, dtype=torch.float64) * 0.8
    adv = torch.randn(6, 9, generator=gen, dtype=torch.float64)
    mask = torch.ones(6, 9, dtype=torch.bool)
    ratio = torch.exp(logp - old_logp)
    expected = sum(
        piecewise_token_loss(adv[b, t].item(), ratio[b, t].item())
        for b in range(6)
        for t in range(9)
    ) / (6 * 9)
    out, _ = arpo_policy_loss(logp, old_logp, adv, mask, aggregation=TOK)
    assert out.item() == pytest.approx(expected, abs=1e-12)


RAGGED_MASK = torch.tensor(
    [[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 1]], dtype=torch.bool
)  # 3, 1, 0 and 3 loss tokens
RAGGED_ADV = torch.tensor([2.0, -1.0, 5.0, 0.5], dtype=torch.float64)


@pytest.mark.parametrize("adv_shape", ["(B,)", "(B, 1)", "(B, T)"])
def test_ratio_one_gives_minus_mean_advantage(adv_shape) -> None:
    adv = {
        "(B,)": RAGGED_ADV,
        "(B, 1)": RAGGED_ADV[:, None],
        "(B, T)": RAGGED_ADV[:, None].expand(4, 4),
    }[adv_shape]
    logp = torch.randn(4, 4, dtype=torch.float64)
    seq_loss, metrics = arpo_policy_loss(logp.requires_grad_(), logp.detach(), adv, RAGGED_MASK)
    # seq-mean-token-mean: mean over the 3 non-empty trajectories of -A
    assert seq_loss.item() == pytest.approx(-(2.0 - 1.0 + 0.5) / 3)
    tok_loss, _ = arpo_policy_loss(logp, logp.detach(), adv, RAGGED_MASK, aggregation=TOK)
    # token-mean: -sum_b A_b n_b / sum_b n_b
    assert tok_loss.item() == pytest.approx(-(2.0 * 3 - 1.0 * 1 + 0.5 * 3) / 7)
    assert metrics[M.LOSS_RATIO_MEAN].item() == 1.0
    assert metrics[M.LOSS_APPROX_KL].item() == 0.0
    assert metrics[M.LOSS_NUM_TOKENS].item() == 7 and metrics[M.LOSS_NUM_SEQUENCES].item() == 3


def test_gradient_at_ratio_one_per_aggregation() -> None:
    logp = torch.zeros(4, 4, dtype=torch.float64, requires_grad=True)
    arpo_policy_loss(logp, logp.detach(), RAGGED_ADV, RAGGED_MASK)[0].backward()
    n = RAGGED_MASK.sum(-1).clamp_min(1).to(torch.float64)
    # seq-mean-token-mean: dL/dlogp_bt = -A_b / (n_b * 3 trajectories) on loss tokens
    expected = torch.where(RAGGED_MASK, -RAGGED_ADV[:, None] / (n[:, None] * 3), 0.0)
    torch.testing.assert_close(logp.grad, expected)
    logp.grad = None
    arpo_policy_loss(logp, logp.detach(), RAGGED_ADV, RAGGED_MASK, aggregation=TOK)[0].backward()
    # token-mean: dL/dlogp_bt = -A_b / 7 tokens
    torch.testing.assert_close(logp.grad, torch.where(RAGGED_MASK, -RAGGED_ADV[:, None] / 7, 0.0))


def test_masked_garbage_gives_finite_loss_and_zero_gradient() -> None:
    mask = torch.tensor([[1, 1, 0, 0], [0, 1, 0, 0]], dtype=torch.bool)
    logp = torch.tensor(
        [[-0.5, -1.0, float("nan"), float("-inf")], [float("inf"), -0.2, -1e30, float("nan")]],
        requires_grad=True,
    )
    old_logp = torch.tensor(
        [[-0.4, -1.1, float("-inf"), float("-inf")], [float("nan"), -0.3, 0.0, float("inf")]]
    )
    adv = torch.tensor([[1.0, 1.0, float("nan"), float("inf")], [float("nan"), -1.0, 0.0, 0.0]])
    for aggregation in LossAggregation:
        logp.grad = None
        out, metrics = arpo_policy_loss(logp, old_logp, adv, mask, aggregation=aggregation)
        out.backward()
        assert torch.isfinite(out)
        assert torch.isfinite(logp.grad).all()
        assert (logp.grad[~mask] == 0).all()
        assert (logp.grad[mask] != 0).all()
        assert all(torch.isfinite(v) for v in metrics.values())
        assert metrics[M.LOSS_RATIO_MAX].item() == pytest.approx(math.exp(0.1), rel=1e-6)
        assert metrics[M.LOSS_RATIO_MIN].item() == pytest.approx(math.exp(-0.1), rel=1e-6)


def test_garbage_logits_at_masked_positions_do_not_poison_gradients() -> None:
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 5, 7, generator=gen)  # (B, T, V)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], dtype=torch.bool)
    logits[~mask] = torch.tensor([1e30, -1e30, float("-inf"), 0.0, 3.0, -5.0, 1e4])
    logits.requires_grad_()
    tokens = torch.full((2, 5), 2)  # index 2 is -inf at masked positions
    logp = torch.log_softmax(logits, -1).gather(-1, tokens[..., None]).squeeze(-1)  # (B, T)
    assert not torch.isfinite(logp[~mask]).all()
    out, _ = arpo_policy_loss(logp, logp.detach() + 0.05, torch.tensor([1.0, -1.0]), mask)
    out.backward()
    assert torch.isfinite(out) and torch.isfinite(logits.grad).all()
    assert (logits.grad[~mask] == 0).all()


def test_metrics_values_on_mixed_batch() -> None:
    ratios = torch.tensor([[1.5, 0.5, 1.0], [4.0, 0.5, 1.2]], dtype=torch.float64)
    adv = torch.tensor([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]], dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)  # ratio 1.2 is masked
    _, metrics = arpo_policy_loss(ratios.log(), torch.zeros(2, 3, dtype=torch.float64), adv, mask)
    assert metrics[M.LOSS_CLIP_FRAC_HIGH].item() == pytest.approx(1 / 5)  # 1.5 with A>0
    assert metrics[M.LOSS_CLIP_FRAC_LOW].item() == pytest.approx(1 / 5)  # 0.5 with A<0
    assert metrics[M.LOSS_DUAL_CLIP_FRAC].item() == pytest.approx(1 / 5)  # 4.0 with A<0
    assert metrics[M.LOSS_RATIO_MEAN].item() == pytest.approx((1.5 + 0.5 + 1.0 + 4.0 + 0.5) / 5)
    assert metrics[M.LOSS_RATIO_MIN].item() == 0.5
    assert metrics[M.LOSS_RATIO_MAX].item() == 4.0
    k3 = [r - 1 - math.log(r) for r in (1.5, 0.5, 1.0, 4.0, 0.5)]  # k3 = (rho - 1) - log rho
    assert metrics[M.LOSS_APPROX_KL].item() == pytest.approx(sum(k3) / 5)
    assert all(not v.requires_grad for v in metrics.values())


def test_aggregation_modes_on_ragged_mask() -> None:
    loss = torch.tensor(
        [[1.0, 2.0, 3.0, 100.0], [4.0, 100.0, 100.0, 100.0], [100.0] * 4, [100.0, 5.0, 6.0, 7.0]]
    )
    assert aggregate_token_loss(loss, RAGGED_MASK, SEQ).item() == pytest.approx((2 + 4 + 6) / 3)
    assert aggregate_token_loss(loss, RAGGED_MASK, "token-mean").item() == pytest.approx(28 / 7)
    assert aggregate_token_loss(loss, RAGGED_MASK, SEQ, normalizer=6).item() == pytest.approx(2.0)
    assert aggregate_token_loss(loss, RAGGED_MASK, TOK, normalizer=14).item() == pytest.approx(2.0)
    empty = torch.zeros(2, 3, dtype=torch.bool)
    for mode in LossAggregation:
        assert aggregate_token_loss(loss[:2, :3], empty, mode).item() == 0.0


@pytest.mark.parametrize("mode", list(LossAggregation))
def test_micro_batches_with_normalizer_sum_to_the_minibatch_loss(mode) -> None:
    gen = torch.Generator().manual_seed(2)
    loss = torch.randn(4, 4, generator=gen, dtype=torch.float64)
    full = aggregate_token_loss(loss, RAGGED_MASK, mode)
    normalizer = 7 if mode is TOK else 3
    parts = [
        aggregate_token_loss(loss[rows], RAGGED_MASK[rows], mode, normalizer=normalizer)
        for rows in (slice(0, 2), slice(2, 4))
    ]
    assert (parts[0] + parts[1]).item() == pytest.approx(full.item(), abs=1e-12)


def test_bad_arguments_name_the_value() -> None:
    logp, old_logp, mask = one_token(1.0)
    adv = torch.ones(1)
    with pytest.raises(ValueError, match="aggregation='mean' is not one of"):
        arpo_policy_loss(logp, old_logp, adv, mask, aggregation="mean")
    with pytest.raises(ValueError, match="dual_clip_ratio=0.5"):
        arpo_policy_loss(logp, old_logp, adv, mask, dual_clip_ratio=0.5)
    with pytest.raises(ValueError, match="clip_ratio_low=1.0"):
        arpo_policy_loss(logp, old_logp, adv, mask, clip_ratio_low=1.0)
    with pytest.raises(ValueError, match=r"adv has shape \(2,\)"):
        arpo_policy_loss(logp, old_logp, torch.ones(2), mask)
    with pytest.raises(ValueError, match="must have one shape"):
        arpo_policy_loss(logp, old_logp, adv, torch.ones(1, 2, dtype=torch.bool))


def test_kl_k3_values() -> None:
    logp = torch.log(torch.tensor([[0.5, 0.3]], dtype=torch.float64))
    ref_logp = torch.log(torch.tensor([[0.25, 0.3]], dtype=torch.float64))
    # r = pi_ref / pi = 0.5: k3 = r - log r - 1 = 0.5 + log 2 - 1
    torch.testing.assert_close(
        kl_k3(logp, ref_logp), torch.tensor([[0.5 + math.log(2) - 1, 0.0]], dtype=torch.float64)
    )
    gen = torch.Generator().manual_seed(3)
    assert (kl_k3(torch.randn(5, 5, generator=gen), torch.randn(5, 5, generator=gen)) >= 0).all()


def test_reference_kl_loss_is_masked_and_finite() -> None:
    mask = torch.tensor([[1, 0]], dtype=torch.bool)
    logp = torch.tensor([[math.log(0.5), float("nan")]], requires_grad=True)
    ref_logp = torch.tensor([[math.log(0.25), float("-inf")]])
    out = reference_kl_loss(logp, ref_logp, mask)
    out.backward()
    assert out.item() == pytest.approx(0.5 + math.log(2) - 1, rel=1e-5)
    assert torch.isfinite(logp.grad).all() and logp.grad[0, 1] == 0
    # d/dlogp (e^(ref - logp) - (ref - logp) - 1) = 1 - e^(ref - logp) = 1 - 0.5
    assert logp.grad[0, 0].item() == pytest.approx(0.5, rel=1e-5)


def test_entropy_from_logits_and_aggregation() -> None:
    logits = torch.zeros(2, 3, 4)  # uniform over 4 tokens
    logits[1, 2] = torch.tensor([0.0, -1e4, -1e4, -1e4])  # almost deterministic
    ent = entropy_from_logits(logits)
    torch.testing.assert_close(ent[0], torch.full((3,), math.log(4)))
    assert ent[1, 2].item() == pytest.approx(0.0, abs=1e-6)
    mask = torch.tensor([[1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    assert aggregate_token_loss(ent, mask).item() == pytest.approx(math.log(4) / 2, rel=1e-6)
    assert aggregate_token_loss(ent, mask, TOK).item() == pytest.approx(
        2 * math.log(4) / 3, rel=1e-6
    )
