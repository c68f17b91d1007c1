"""Bounded staleness for asynchronous rollouts: which sampled groups an update may train on.

Versions count learner updates: after v updates the learner's weights are version v, and the
engines (or the env runners' own copies) serve version v once the sync lands. Every step records
the version that sampled it (``Step.policy_version``); an episode that spans a sync ("partial
rollout") has steps of several versions. A group's version is its oldest step's.

When the learner is about to make update v+1 from weights at version v, a group sampled at
version g has lag ``v - g``. With ``max_policy_lag`` = L:

    lag(group) = v - min(step versions in the group)
    admitted   <=> lag(group) <= L            (L = 0: only groups of the current weights)

Groups beyond the bound are dropped, counted, and never reach the loss. Dropped rather than
down-weighted: a GRPO group's advantages are relative to its own members, so scaling a whole
group changes its step size, not its bias; and the correction for a lag inside the bound is
already exact per token (decoupled PPO: the clip against the learner's recomputed proximal
log-probs, the sampler's through a truncated importance weight, ``core.mismatch``). The producer
is throttled (``max_groups_in_flight``) so that drops are the exception: sampling never runs
more than L updates ahead of the learner.

No Ray, no torch: plain numbers, unit-tested in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rllib_arpo.core import metrics as M
from rllib_arpo.core.trajectory import Trajectory


def group_version(trajectories: Sequence[Trajectory]) -> int:
    """The oldest version any step of the group was sampled with.

    Raises:
        ValueError: A step without a version (an async run needs every step's version), or an
            empty group.
    """
    versions = [s.policy_version for t in trajectories for s in t.steps]
    if not versions:
        raise ValueError("a group without steps has no version")
    if any(v is None for v in versions):
        raise ValueError(
            "a step carries no policy_version: asynchronous training needs the version of "
            "every step (the engine's weight_version)"
        )
    return int(min(versions))


@dataclass(frozen=True)
class Admission:
    """Which groups an update trains on.

    Attributes:
        admitted: Indices of the groups within the bound, in their order.
        dropped: Indices of the groups beyond it.
        lags: Per group (all of them), the lag in versions.
    """

    admitted: list[int]
    dropped: list[int]
    lags: list[int]


def admit_groups(group_versions: Sequence[int], learner_version: int, max_lag: int) -> Admission:
    """Split groups by ``lag = learner_version - group_version <= max_lag``.

    Args:
        group_versions: Per group, ``group_version`` (oldest step's version).
        learner_version: The version of the weights the update starts from.
        max_lag: L >= 0.

    Raises:
        ValueError: A negative bound, or a group newer than the learner (a version mix-up
            upstream: the engines can only serve what the learner made).
    """
    if max_lag < 0:
        raise ValueError(f"max_policy_lag must be >= 0, got {max_lag}")
    lags = [int(learner_version) - int(v) for v in group_versions]
    newer = [i for i, lag in enumerate(lags) if lag < 0]
    if newer:
        raise ValueError(
            f"group {newer[0]} was sampled at version {group_versions[newer[0]]}, newer than "
            f"the learner's {learner_version}"
        )
    admitted = [i for i, lag in enumerate(lags) if lag <= max_lag]
    dropped = [i for i, lag in enumerate(lags) if lag > max_lag]
    return Admission(admitted, dropped, lags)


def max_groups_in_flight(groups_per_update: int, max_lag: int) -> int:
    """How many groups may be sampling or waiting at once so that, consumed in order, none
    is older than ``max_lag`` updates when trained: the groups of the update being made plus
    those of the next ``max_lag`` updates (sampled by weights at most L versions behind)."""
    return groups_per_update * (max_lag + 1)


def age_metrics(lags: Sequence[int], ages_s: Sequence[float], dropped: int) -> dict[str, float]:
    """The age of what one update trains on (``core.metrics`` keys): lag in versions (mean,
    max), seconds since sampling finished (mean, max), and the groups dropped as too old."""
    out = {M.ASYNC_DROPPED_GROUPS: float(dropped)}
    if len(lags):
        out[M.ASYNC_LAG_MEAN] = float(np.mean(lags))
        out[M.ASYNC_LAG_MAX] = float(np.max(lags))
    if len(ages_s):
        out[M.ASYNC_AGE_MEAN_S] = float(np.mean(ages_s))
        out[M.ASYNC_AGE_MAX_S] = float(np.max(ages_s))
    return out
