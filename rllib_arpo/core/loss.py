"""ARPO's token-level policy loss: PPO clip with clip-higher and dual clip, and its aggregation.

Per generated token t of trajectory b, with ratio ``rho = exp(logp - old_logp)`` and the
trajectory's group advantage ``A`` (``core.advantages``):

    L_clip = max(-rho * A, -clip(rho, 1 - eps_low, 1 + eps_high) * A)      PPO (Schulman et al. 2017)
    L      = min(L_clip, -c * A)   if A < 0                                dual clip (Ye et al. 2020)
           = L_clip                otherwise

- Clip-higher (DAPO, Yu et al. 2025, arXiv 2503.14476, Sec. 3.1): an asymmetric range
  [1 - 0.2, 1 + 0.3] lets low-probability tokens with positive advantage grow further before the
  clip stops them, which keeps entropy from collapsing. ARPO (arXiv 2505.16282) uses 0.2 / 0.3.
- Dual clip (Ye et al. 2020, "Mastering Complex Control in MOBA Games with Deep RL", AAAI): for
  A < 0 a huge ratio would make ``-rho * A`` unbounded; the loss is capped at ``-c * A`` (c = 3).

What each region does to the gradient (d/d logp; A > 0 and A < 0 separately):

    A > 0:  rho <= 1 + eps_high  -> L = -rho * A,           dL/dlogp = -rho * A
            rho >  1 + eps_high  -> L = -(1 + eps_high) * A, dL/dlogp = 0          (clip high)
    A < 0:  rho <  1 - eps_low   -> L = -(1 - eps_low) * A,  dL/dlogp = 0          (clip low)
            1 - eps_low <= rho <= c -> L = -rho * A,         dL/dlogp = -rho * A
            rho >  c             -> L = -c * A,              dL/dlogp = 0          (dual clip)

Aggregation (``LossAggregation``): ARPO's reference averages tokens within each trajectory, then
trajectories ("seq-mean-token-mean"); DAPO (Sec. 3.3) argues for one global token mean
("token-mean") so that long trajectories are not down-weighted per token.

Masking uses ``torch.where`` everywhere, never multiplication, so garbage (inf/NaN) log-probs at
masked positions (padding, prompt, image tokens) cannot leak into the loss or its gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import torch

from rllib_arpo.core import metrics as M
from rllib_arpo.core.values import parse_enum

CLIP_RATIO_LOW = 0.2
"""Lower clip: ratios below 1 - 0.2 stop pushing a negative-advantage token down (ARPO)."""
CLIP_RATIO_HIGH = 0.3
"""Upper clip ("clip-higher", DAPO): ratios above 1 + 0.3 stop pushing a token up (ARPO)."""
DUAL_CLIP_RATIO = 3.0
"""Dual clip c: the loss of a negative-advantage token is at most -c * A (ARPO, Ye et al. 2020)."""
LOG_RATIO_CLAMP = 20.0
"""|logp - old_logp| is clamped to this before exp (exp(20) ~ 5e8) so the ratio never overflows."""
KL_CLAMP = 10.0
"""Per-token k3 KL to a reference is clamped to [-10, 10] (verl's ``low_var_kl``)."""


class LossAggregation(str, Enum):
    """How per-token losses of shape (B, T) become one scalar."""

    SEQ_MEAN_TOKEN_MEAN = "seq-mean-token-mean"
    """Mean over each trajectory's loss tokens, then mean over trajectories (ARPO reference)."""
    TOKEN_MEAN = "token-mean"
    """One mean over all loss tokens of the batch (DAPO)."""


def minibatch_normalizer(token_counts: Sequence[int], mode: LossAggregation | str) -> float:
    """The ``normalizer`` of ``aggregate_token_loss`` for a whole minibatch of trajectories.

    The count ``aggregate_token_loss`` itself would take over the minibatch: loss tokens
    ("token-mean") or trajectories with at least one loss token ("seq-mean-token-mean"), at
    least 1.

    Args:
        token_counts: Loss tokens of each trajectory of the minibatch, length B.
        mode: A ``LossAggregation`` or its string value.
    """
    if parse_enum(LossAggregation, mode, "aggregation") is LossAggregation.TOKEN_MEAN:
        return float(max(sum(token_counts), 1))
    return float(max(sum(1 for n in token_counts if n > 0), 1))


def aggregate_token_loss(
    loss: torch.Tensor,
    loss_mask: torch.Tensor,
    mode: LossAggregation | str = LossAggregation.SEQ_MEAN_TOKEN_MEAN,
    normalizer: float | None = None,
) -> torch.Tensor:
    """Reduce a per-token loss to a scalar over the masked tokens.

    - "seq-mean-token-mean": ``sum_b [sum_t m_bt * l_bt / sum_t m_bt] / n_seq`` where n_seq counts
      trajectories with at least one loss token (empty rows are left out, not counted as 0).
    - "token-mean": ``sum_bt m_bt * l_bt / sum_bt m_bt``.

    With gradient accumulation over micro-batches, pass ``normalizer`` = the number of trajectories
    ("seq-mean-token-mean") or loss tokens ("token-mean") of the whole minibatch: each micro-batch
    then contributes its sum divided by the minibatch's count, and summing the micro-batch losses
    gives exactly the minibatch loss.

    Args:
        loss: Per-token loss, shape (B, T).
        loss_mask: 1 (or True) for tokens that count, shape (B, T).
        mode: A ``LossAggregation`` or its string value.
        normalizer: Denominator to use instead of this batch's own count; None uses the own count.

    Returns:
        A scalar tensor; 0 (with a graph) when no token counts.
    """
    mode = parse_enum(LossAggregation, mode, "aggregation")
    if loss.shape != loss_mask.shape:
        raise ValueError(f"loss {tuple(loss.shape)} and loss_mask {tuple(loss_mask.shape)} differ")
    mask = loss_mask.bool()  # (B, T)
    masked = torch.where(
        mask, loss, torch.zeros((), dtype=loss.dtype, device=loss.device)
    )  # (B, T)
    if mode is LossAggregation.TOKEN_MEAN:
        count = mask.sum().clamp_min(1) if normalizer is None else normalizer  # scalar
        return masked.sum() / count  # scalar
    tokens_per_seq = mask.sum(dim=-1)  # (B,)
    seq_mean = masked.sum(dim=-1) / tokens_per_seq.clamp_min(1)  # (B,); empty rows give 0
    count = (tokens_per_seq > 0).sum().clamp_min(1) if normalizer is None else normalizer
    return seq_mean.sum() / count  # scalar


def _expand_adv(adv: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Advantages of shape (B,), (B, 1) or (B, T) as (B, 1) or (B, T)."""
    expanded = adv.unsqueeze(-1) if adv.dim() == 1 else adv  # (B, 1) or (B, T)
    if (
        expanded.dim() != 2
        or expanded.shape[0] != shape[0]
        or expanded.shape[1] not in (1, shape[1])
    ):
        raise ValueError(
            f"adv has shape {tuple(adv.shape)}; expected (B,), (B, 1) or (B, T) for "
            f"logp of shape {tuple(shape)}"
        )
    return expanded


def _masked_mean(x: torch.Tensor, mask: torch.Tensor, num_tokens: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, x, torch.zeros_like(x)).sum() / num_tokens.clamp_min(1)


def arpo_policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    adv: torch.Tensor,
    loss_mask: torch.Tensor,
    *,
    clip_ratio_low: float = CLIP_RATIO_LOW,
    clip_ratio_high: float = CLIP_RATIO_HIGH,
    dual_clip_ratio: float | None = DUAL_CLIP_RATIO,
    aggregation: LossAggregation | str = LossAggregation.SEQ_MEAN_TOKEN_MEAN,
    normalizer: float | None = None,
    is_weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Token-level clipped surrogate with clip-higher and dual clip (ARPO Sec. 3.1, DAPO, Ye 2020).

    ``L = where(A < 0, min(L_clip, -c * A), L_clip)`` with
    ``L_clip = max(-rho * A, -clip(rho, 1 - eps_low, 1 + eps_high) * A)``, ``rho = exp(logp -
    old_logp)``, then aggregated over the masked tokens (see the module docstring for the gradient
    in each region). At ``logp == old_logp`` (first minibatch of an on-policy epoch) the loss is
    ``-mean(A)`` under the chosen aggregation. With ``is_weight`` (truncated importance
    sampling, ``core.mismatch``) each token's loss is ``w_t * L_t``, ``w_t = min(pi_old / mu, C)``
    for tokens a different sampler mu drew; the clip stays against ``old_logp`` (pi_old).

    Args:
        logp: Log-probs of the sampled tokens under the policy being trained, shape (B, T); the
            only input with a gradient.
        old_logp: Log-probs of the same tokens under the policy that is updated from (recomputed
            by the learner before the update), shape (B, T).
        adv: Advantages, shape (B,), (B, 1) (one per trajectory) or (B, T).
        loss_mask: 1 for generated tokens that count, 0 for prompt/image/padding, shape (B, T).
        clip_ratio_low: eps_low; the ratio's lower bound is 1 - eps_low.
        clip_ratio_high: eps_high; the ratio's upper bound is 1 + eps_high.
        dual_clip_ratio: c > 1 for the dual clip of negative-advantage tokens; None disables it.
        aggregation: How tokens become a scalar (``aggregate_token_loss``).
        normalizer: Minibatch-wide denominator for gradient accumulation (``aggregate_token_loss``).
        is_weight: Per-token weights (B, T), no gradient; None = 1 everywhere.

    Returns:
        ``(loss, metrics)``: the scalar loss, and detached 0-dim tensors keyed by ``core.metrics``
        names: policy loss, clip fractions (low, high, dual), ratio mean/min/max, approx KL(old ||
        new) (k3), token and sequence counts.
    """
    if logp.shape != old_logp.shape or logp.shape != loss_mask.shape:
        raise ValueError(
            f"logp {tuple(logp.shape)}, old_logp {tuple(old_logp.shape)} and loss_mask "
            f"{tuple(loss_mask.shape)} must have one shape (B, T)"
        )
    if not 0.0 <= clip_ratio_low < 1.0 or clip_ratio_high < 0.0:
        raise ValueError(
            f"clip_ratio_low={clip_ratio_low} must be in [0, 1) and clip_ratio_high="
            f"{clip_ratio_high} >= 0"
        )
    if dual_clip_ratio is not None and dual_clip_ratio <= 1.0:
        raise ValueError(f"dual_clip_ratio={dual_clip_ratio} must be > 1 (or None to disable)")
    mask = loss_mask.bool()  # (B, T)
    zero = torch.zeros((), dtype=logp.dtype, device=logp.device)
    adv = _expand_adv(adv.to(logp.dtype), logp.shape)  # (B, 1) or (B, T)
    adv = torch.where(mask, adv, zero)  # (B, T): garbage advantages of masked tokens dropped
    log_ratio = torch.where(mask, logp - old_logp.detach(), zero)  # (B, T): 0 where masked
    log_ratio = log_ratio.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)  # (B, T)
    ratio = torch.exp(log_ratio)  # (B, T): rho
    clipped_ratio = ratio.clamp(1.0 - clip_ratio_low, 1.0 + clip_ratio_high)  # (B, T)
    loss_unclipped = -adv * ratio  # (B, T): -rho * A
    loss_clipped = -adv * clipped_ratio  # (B, T): -clip(rho, 1 - lo, 1 + hi) * A
    loss_clip = torch.maximum(loss_unclipped, loss_clipped)  # (B, T): max(-rho A, -clip(rho) A)
    if dual_clip_ratio is None:
        token_loss = loss_clip  # (B, T)
    else:
        loss_dual = torch.minimum(loss_clip, -adv * dual_clip_ratio)  # (B, T): min(L_clip, -c A)
        token_loss = torch.where(adv < 0, loss_dual, loss_clip)  # (B, T)
    if is_weight is not None:
        if is_weight.shape != logp.shape:
            raise ValueError(f"is_weight {tuple(is_weight.shape)} must have shape (B, T)")
        token_loss = is_weight.detach().to(token_loss.dtype) * token_loss  # (B, T): w_t * L_t
    loss = aggregate_token_loss(token_loss, mask, aggregation, normalizer)  # scalar

    with torch.no_grad():
        metrics = _loss_metrics(
            ratio, log_ratio, adv, mask, clip_ratio_low, clip_ratio_high, dual_clip_ratio
        )
        metrics[M.LOSS_POLICY] = loss.detach()
    return loss, metrics


def _loss_metrics(
    ratio: torch.Tensor,
    log_ratio: torch.Tensor,
    adv: torch.Tensor,
    mask: torch.Tensor,
    clip_ratio_low: float,
    clip_ratio_high: float,
    dual_clip_ratio: float | None,
) -> dict[str, torch.Tensor]:
    """Diagnostics of one loss call over the masked tokens (all inputs (B, T), no grad)."""
    num_tokens = mask.sum()  # scalar
    clip_high = (adv > 0) & (ratio > 1.0 + clip_ratio_high)  # (B, T): upper clip binds
    clip_low = (adv < 0) & (ratio < 1.0 - clip_ratio_low)  # (B, T): lower clip binds
    if dual_clip_ratio is None:
        dual = torch.zeros_like(mask)  # (B, T)
    else:
        dual = (adv < 0) & (ratio > dual_clip_ratio)  # (B, T): -rho A > -c A
    approx_kl = (ratio - 1.0) - log_ratio  # (B, T): k3 of KL(old || new), joschu.net/blog/kl-approx
    has_tokens = num_tokens > 0
    one = torch.ones((), dtype=ratio.dtype, device=ratio.device)
    ratio_min = torch.where(mask, ratio, torch.full_like(ratio, float("inf"))).min()
    ratio_max = torch.where(mask, ratio, torch.full_like(ratio, float("-inf"))).max()
    return {
        M.LOSS_CLIP_FRAC_LOW: _masked_mean(clip_low.to(ratio.dtype), mask, num_tokens),
        M.LOSS_CLIP_FRAC_HIGH: _masked_mean(clip_high.to(ratio.dtype), mask, num_tokens),
        M.LOSS_DUAL_CLIP_FRAC: _masked_mean(dual.to(ratio.dtype), mask, num_tokens),
        M.LOSS_RATIO_MEAN: torch.where(has_tokens, _masked_mean(ratio, mask, num_tokens), one),
        M.LOSS_RATIO_MIN: torch.where(has_tokens, ratio_min, one),
        M.LOSS_RATIO_MAX: torch.where(has_tokens, ratio_max, one),
        M.LOSS_APPROX_KL: _masked_mean(approx_kl, mask, num_tokens),
        M.LOSS_NUM_TOKENS: num_tokens.to(ratio.dtype),
        M.LOSS_NUM_SEQUENCES: (mask.sum(dim=-1) > 0).sum().to(ratio.dtype),
    }


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(policy || reference) from tokens sampled by the policy.

    ``k3 = exp(ref_logp - logp) - (ref_logp - logp) - 1`` (unbiased, always >= 0; Schulman,
    http://joschu.net/blog/kl-approx.html), with the log-ratio clamped to +-20 and the result to
    [-10, 10] as verl's ``low_var_kl``.

    Args:
        logp: Token log-probs under the trained policy, shape (B, T).
        ref_logp: Token log-probs under the frozen reference policy, shape (B, T).

    Returns:
        Per-token KL estimates, shape (B, T).
    """
    log_r = (ref_logp - logp).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)  # (B, T): log(pi_ref / pi)
    return (torch.exp(log_r) - log_r - 1.0).clamp(-KL_CLAMP, KL_CLAMP)  # (B, T): k3


def reference_kl_loss(
    logp: torch.Tensor,
    ref_logp: torch.Tensor,
    loss_mask: torch.Tensor,
    aggregation: LossAggregation | str = LossAggregation.SEQ_MEAN_TOKEN_MEAN,
    normalizer: float | None = None,
) -> torch.Tensor:
    """Aggregated k3 KL(policy || reference) over the masked tokens (off in ARPO: no reference).

    Args:
        logp: Token log-probs under the trained policy, shape (B, T).
        ref_logp: Token log-probs under the frozen reference, shape (B, T).
        loss_mask: 1 for tokens that count, shape (B, T).
        aggregation: As in ``aggregate_token_loss``.
        normalizer: As in ``aggregate_token_loss``.

    Returns:
        A scalar to be added to the loss times the KL coefficient.
    """
    mask = loss_mask.bool()  # (B, T)
    zero = torch.zeros((), dtype=logp.dtype, device=logp.device)
    safe_logp = torch.where(mask, logp, zero)  # (B, T): garbage at masked positions dropped
    safe_ref = torch.where(mask, ref_logp.detach(), zero)  # (B, T)
    return aggregate_token_loss(kl_k3(safe_logp, safe_ref), mask, aggregation, normalizer)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the next-token distribution: ``H = logsumexp(z) - sum_v softmax(z)_v * z_v``.

    Args:
        logits: Finite logits, shape (B, T, V).

    Returns:
        Per-token entropy in nats, shape (B, T).
    """
    probs = torch.softmax(logits, dim=-1)  # (B, T, V)
    return torch.logsumexp(logits, dim=-1) - (probs * logits).sum(dim=-1)  # (B, T)
