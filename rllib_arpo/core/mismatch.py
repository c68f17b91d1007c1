"""Training-inference mismatch: the sampler's log-probs are not the trainer's.

A rollout engine (vLLM above all) computes the sampled tokens' log-probs with other kernels,
often in bf16, than the learner's teacher-forced pass: ``logp_sampler != logp_trainer`` for the
very same weights. PPO's ratio must be taken against the trainer's own numbers, so with such an
engine the old log-probs are recomputed on the learner (``recompute_old_logp``), and the tokens
were still drawn from the sampler's distribution mu, not from the trainer's pi_old. Truncated
importance sampling (TIS; Yao et al. 2025, "Your efficient RL framework secretly brings you
off-policy RL training") reweights each token's loss by

    w_t = min(pi_old(y_t) / mu(y_t), C) = min(exp(logp_trainer - logp_sampler), C)

(detached; ``core.loss.arpo_policy_loss(is_weight=...)``). The clip of the ratio stays against
pi_old (the proximal policy of decoupled PPO); w corrects for who sampled.

Everything here works on per-trajectory flat arrays (one log-prob per sampled token).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rllib_arpo.core import metrics as M


def _flat(rows: Sequence[np.ndarray]) -> np.ndarray:
    return (
        np.concatenate([np.asarray(r, dtype=np.float64) for r in rows])
        if rows
        else np.zeros(0, dtype=np.float64)
    )


def truncated_is_weights(
    sampler_logp: Sequence[np.ndarray], trainer_logp: Sequence[np.ndarray], cap: float
) -> list[np.ndarray]:
    """Per-trajectory token weights ``min(exp(trainer - sampler), cap)``, float32.

    Args:
        sampler_logp: Per trajectory, (n_tokens,) log-probs the engine reported.
        trainer_logp: Per trajectory, (n_tokens,) log-probs of the same tokens recomputed by the
            learner before the update (pi_old).
        cap: C > 0; weights above it are cut to it.
    """
    weights = []
    for sampler, trainer in zip(sampler_logp, trainer_logp, strict=True):
        sampler = np.asarray(sampler, dtype=np.float64)  # (n,)
        trainer = np.asarray(trainer, dtype=np.float64)  # (n,)
        if sampler.shape != trainer.shape:
            raise ValueError(
                f"sampler log-probs {sampler.shape} and trainer log-probs {trainer.shape} "
                "must have one shape per trajectory"
            )
        ratio = np.exp(np.clip(trainer - sampler, -50.0, 50.0))  # (n,): pi_old / mu
        weights.append(np.minimum(ratio, cap).astype(np.float32))  # (n,): min(pi_old/mu, C)
    return weights


def mismatch_metrics(
    sampler_logp: Sequence[np.ndarray],
    trainer_logp: Sequence[np.ndarray],
    cap: float | None = None,
) -> dict[str, float]:
    """How far the sampler's log-probs are from the trainer's, over all tokens together.

    Returns ``core.metrics`` keys: mean and max |delta| (delta = trainer - sampler), KL(mu ||
    pi_old) by the k3 estimator over tokens drawn from mu, ``E[exp(delta) - 1 - delta]`` (>= 0,
    unbiased), and, given a cap, the share of tokens whose weight exp(delta) exceeds it. Empty
    when there are no tokens.
    """
    sampler, trainer = _flat(sampler_logp), _flat(trainer_logp)  # (N,), (N,)
    if sampler.shape != trainer.shape:
        raise ValueError(f"{sampler.shape[0]} sampler log-probs for {trainer.shape[0]} tokens")
    if sampler.size == 0:
        return {}
    delta = np.clip(trainer - sampler, -50.0, 50.0)  # (N,): log(pi_old / mu)
    out = {
        M.MISMATCH_MEAN_ABS_DELTA: float(np.mean(np.abs(delta))),
        M.MISMATCH_MAX_ABS_DELTA: float(np.max(np.abs(delta))),
        M.MISMATCH_KL: float(np.mean(np.expm1(delta) - delta)),  # k3 of KL(mu || pi_old)
    }
    if cap is not None:
        out[M.MISMATCH_CLIPPED_SHARE] = float(np.mean(np.exp(delta) > cap))
    return out
