"""From rolled-out groups to a training batch: env errors out, replay in, advantages computed.

The driver's whole data step between rollout and learner, as one pure function so its order is
fixed and tested (ARPO Sec. 3): (1) leave out episodes the environment broke, (2) per group,
success replay in the reference order (trigger -> inject -> add), (3) group-normalized advantages
keyed by group, (4) optionally drop the groups with no reward spread (they carry no gradient).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rllib_arpo.core import metrics as M
from rllib_arpo.core.advantages import compute_group_advantages, zero_variance_group_fraction
from rllib_arpo.core.replay import SuccessReplayBuffer
from rllib_arpo.core.trajectory import Termination, Trajectory, summarize_rollouts


@dataclass
class TrainingGroups:
    """What the learner trains on.

    Attributes:
        trajectories: Training trajectories, grouped rows adjacent (group order kept).
        advantages: One advantage per trajectory, shape (N,), float32.
        metrics: Rollout and replay statistics of this batch, keyed by ``core.metrics`` names.
    """

    trajectories: list[Trajectory]
    advantages: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)


MINIDESK_PREFIX = "minidesk/"
"""MiniDesk's procedural ids: ``minidesk/<family>/<level>/<seed>`` (``envs.minidesk.families``)."""
MINIWOB_PREFIX = "miniwob/"
"""MiniWoB++ ids: ``miniwob/<task>/<seed>`` (``envs.miniwob.tasks``)."""


def task_family(task_id: str) -> str:
    """The family a task's success is reported under:

    - ``<family>/<level>`` for a procedural MiniDesk id (``minidesk/<family>/<level>/<seed>``);
    - ``miniwob/<task>`` for a MiniWoB++ instance (``miniwob/<task>/<seed>``);
    - the task id itself otherwise (OSWorld tasks are few and each is its own family).
    """
    if task_id.startswith(MINIDESK_PREFIX):
        parts = task_id[len(MINIDESK_PREFIX) :].split("/")
        if len(parts) >= 2:
            return f"{parts[0]}/{parts[1]}"
    if task_id.startswith(MINIWOB_PREFIX):
        name, _, seed = task_id[len(MINIWOB_PREFIX) :].partition("/")
        if name and seed.isdigit():
            return f"{MINIWOB_PREFIX}{name}"
    return task_id


def success_by_family(trajectories: Sequence[Trajectory]) -> dict[str, float]:
    """``{"success/<family>": rate}`` over fresh (non-replayed, non-env-error) episodes."""
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for trajectory in trajectories:
        if trajectory.is_replay or trajectory.terminated_by == Termination.ENV_ERROR:
            continue
        outcomes[task_family(trajectory.task_id)].append(trajectory.is_success())
    return {
        f"{M.SUCCESS_BY_FAMILY_PREFIX}{family}": float(np.mean(values))
        for family, values in sorted(outcomes.items())
    }


def group_by_id(trajectories: Sequence[Trajectory]) -> dict[str, list[Trajectory]]:
    """Trajectories keyed by group id, in first-seen order."""
    groups: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        groups[trajectory.group_id].append(trajectory)
    return dict(groups)


def prepare_training_groups(
    trajectories: Sequence[Trajectory],
    *,
    replay: SuccessReplayBuffer | None,
    rng: np.random.Generator,
    policy_version: int,
    drop_zero_advantage_groups: bool = True,
) -> TrainingGroups:
    """Rollouts -> training trajectories with advantages (replay applied when given).

    Args:
        trajectories: This iteration's rollouts (rewards set), any order.
        replay: The success replay buffer, or None for plain GRPO.
        rng: The driver's seeded generator (replay draws).
        policy_version: Version of the current weights (replay age metric).
        drop_zero_advantage_groups: Leave out groups whose rewards are all equal: their advantage
            is exactly 0, so they add compute but no gradient. False keeps them, as the
            reference does (they then count in the loss's trajectory mean).

    Returns:
        ``TrainingGroups``.
    """
    metrics: dict[str, float] = summarize_rollouts(trajectories)
    metrics.update(success_by_family(trajectories))
    usable = [t for t in trajectories if t.terminated_by != Termination.ENV_ERROR]
    groups = group_by_id(usable)
    metrics[M.ROLLOUT_NUM_GROUPS] = float(len(groups))
    if usable:
        rewards_seen = np.array([t.reward for t in usable])
        metrics[M.REWARD_MEAN] = float(rewards_seen.mean())
        metrics[M.REWARD_STD] = float(rewards_seen.std())
        metrics[M.REWARD_MIN] = float(rewards_seen.min())
        metrics[M.REWARD_MAX] = float(rewards_seen.max())

    train: list[Trajectory] = []
    for members in groups.values():
        if replay is not None:
            members = replay.process_group(members, rng, policy_version=policy_version).group
        train.extend(members)

    rewards = np.array([t.reward for t in train], dtype=np.float64)
    group_ids = [t.group_id for t in train]
    advantages = compute_group_advantages(rewards, group_ids).astype(np.float32)
    metrics[M.ADV_ZERO_VARIANCE_GROUP_FRAC] = (
        zero_variance_group_fraction(rewards, group_ids) if train else 0.0
    )
    if replay is not None:
        metrics.update(replay.metrics())
    if drop_zero_advantage_groups and train:
        signal = _groups_with_signal(train, advantages)
        keep = np.array([t.group_id in signal for t in train])
        train = [t for t, k in zip(train, keep) if k]
        advantages = advantages[keep]
    if len(advantages):
        metrics[M.ADV_MEAN] = float(advantages.mean())
        metrics[M.ADV_STD] = float(advantages.std())
        metrics[M.ADV_ABS_MAX] = float(np.abs(advantages).max())
    metrics[M.TRAIN_NUM_TRAJECTORIES] = float(len(train))
    return TrainingGroups(train, advantages, metrics)


def _groups_with_signal(train: Sequence[Trajectory], advantages: np.ndarray) -> set[str]:
    return {t.group_id for t, a in zip(train, advantages) if a != 0.0}
