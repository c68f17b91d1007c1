"""ARPO's reward: the formula, the format weight and the success threshold, in one place.

ARPO (arXiv 2505.16282, Sec. 3) scores a whole episode once, at its end:

    r = eval_result + format_penalty_weight * format_reward

- ``eval_result``: the task's evaluator (OSWorld's metric, MiniDesk's and MiniWoB++'s checks) in
  [0, 1], usually 0 or 1.
- ``format_reward``: 0 when every model output parsed into an action, -1 when one did not (the
  unparsable output also ends the episode). With the paper's weight 0.5 an unparsable failed
  episode scores -0.5, below a well-formed failure (0).

Who applies it: the rollout loop (``rollout.loop.GroupRollout``, inside each env runner) when an
episode ends, with the weight from ``ARPOConfig.format_penalty_weight``; the replay buffer and
evaluation count a success with ``is_success``.
"""

from __future__ import annotations

FORMAT_PENALTY_WEIGHT = 0.5
"""Weight of the format reward in ARPO's reward (``r = eval + 0.5 * format``)."""
FORMAT_REWARD_OK = 0.0
"""Format reward of an episode whose outputs all parsed."""
FORMAT_REWARD_BAD = -1.0
"""Format reward of an episode that ended on an unparsable output."""
SUCCESS_THRESHOLD = 0.1
"""An evaluator result above this counts as a success (the reference replay buffer's rule)."""


def compute_reward(
    eval_result: float,
    format_reward: float,
    format_penalty_weight: float = FORMAT_PENALTY_WEIGHT,
) -> float:
    """ARPO's trajectory reward: ``r = eval_result + format_penalty_weight * format_reward``.

    Args:
        eval_result: The task evaluator's result in [0, 1] (usually 0 or 1).
        format_reward: ``FORMAT_REWARD_OK`` (0) when every output parsed, ``FORMAT_REWARD_BAD``
            (-1) when one did not (which ends the episode).
        format_penalty_weight: Weight of the format reward; 0.5 in ARPO (arXiv 2505.16282).

    Returns:
        The scalar reward; an unparsable output with a failed task scores -0.5.
    """
    return float(eval_result) + float(format_penalty_weight) * float(format_reward)


def format_reward(parsed: bool) -> float:
    """The format reward of an output: 0 when it parsed into an action, -1 when it did not."""
    return FORMAT_REWARD_OK if parsed else FORMAT_REWARD_BAD


def is_success(eval_result: float, threshold: float = SUCCESS_THRESHOLD) -> bool:
    """``eval_result > threshold``: the one success rule of replay, metrics and evaluation."""
    return float(eval_result) > threshold
