"""Success replay (the "R" of ARPO): keep each task's recent successes, swap one into all-fail groups.

ARPO (arXiv 2505.16282, Sec. 3.2) observes that on hard GUI tasks whole groups fail, their rewards
have no spread, and GRPO gets no gradient from them. The reference keeps, per task, the last 8
successful trajectories (evaluator result > 0.1) and, for a group whose evaluator results have
std < 0.05 and mean < 0.2, replaces the group's first rollout with a stored success drawn uniformly.
With G = 8 the success then gets advantage +2.47 and each failure -0.35. The buffer is updated after
the injection with the step's own successes, so a group never receives its own fresh success.

This buffer keeps those rules and adds, as the project's design asks:

- **Prioritized draws within a task.** Entries are ranked by a mode (``PriorityMode``) and drawn
  with probability ``P(i) = p_i^alpha / sum_j p_j^alpha`` where ``p_i = 1 / rank(i)`` (rank-based
  prioritization, Schaul et al. 2016, "Prioritized Experience Replay", arXiv 1511.05952, Sec. 3.3).
  ``alpha = 0`` is the reference's uniform draw. Ties share their mean rank. Modes:
  ``recent`` (newest first), ``shortest`` (fewest steps first: shortest demonstrations of a
  solution), ``surprise`` (lowest mean token log-prob under the current policy first: the success
  the policy is least likely to reproduce). Surprise scores come from the learner through
  ``trajectories_to_score``/``update_scores``; the sampler's mean log-prob is the fallback.
- **Compact storage.** Whole ``Trajectory`` records: PNG bytes and token ids, not the reference's
  ~50 MB fp32 processed tensor per 1080p screenshot (``memory_bytes`` measures it).
- **Marked copies.** An injected trajectory is a copy with ``is_replay=True`` and the target group's
  ``group_id``; it keeps its ``policy_version`` (the weights it was sampled with), so its old
  log-probs must be recomputed by the learner under the current policy, as for every rollout.
- **Checkpointable state** (``get_state``/``set_state``: plain dicts, lists, bytes) and metrics.

No Ray here: the driver owns one buffer and calls ``process_group`` per group, in the reference
order (trigger -> inject -> add).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import numpy as np

from rllib_arpo.core import metrics as M
from rllib_arpo.core.reward import SUCCESS_THRESHOLD
from rllib_arpo.core.trajectory import Trajectory
from rllib_arpo.core.values import parse_enum

logger = logging.getLogger(__name__)

CAPACITY_PER_TASK = 8
"""Stored successes per task; the oldest is evicted first (reference: 8)."""
TRIGGER_STD_THRESHOLD = 0.05
"""A group triggers injection when the std of its evaluator results is below this ..."""
TRIGGER_MEAN_THRESHOLD = 0.2
"""... and their mean is below this (all failed)."""
NUM_INJECT = 1
"""Rollouts replaced per triggered group (reference: 1, the first)."""
STATE_VERSION = 1
"""Version of the ``get_state`` layout."""


class PriorityMode(str, Enum):
    """How stored successes of one task are ranked for prioritized draws."""

    UNIFORM = "uniform"
    """Every entry has the same priority (the reference), whatever alpha."""
    RECENT = "recent"
    """Newest first (rank 1 = last added)."""
    SHORTEST = "shortest"
    """Fewest steps first."""
    SURPRISE = "surprise"
    """Lowest mean token log-prob under the current policy first."""


def should_inject(
    group_eval_results: Sequence[float],
    std_threshold: float = TRIGGER_STD_THRESHOLD,
    mean_threshold: float = TRIGGER_MEAN_THRESHOLD,
) -> bool:
    """The reference trigger: ``std(results) < std_threshold and mean(results) < mean_threshold``.

    The std is the population one (``numpy.std``); with 0/1 results any success makes it >= 0.33,
    so the trigger means "everyone failed".

    Args:
        group_eval_results: Evaluator results of one group (not rewards: the format penalty does
            not count).
        std_threshold: Upper bound (exclusive) on the results' std.
        mean_threshold: Upper bound (exclusive) on the results' mean.

    Returns:
        True when the group should receive a stored success; False for an empty group.
    """
    results = np.asarray(group_eval_results, dtype=np.float64)
    if results.size == 0:
        return False
    return bool(results.std() < std_threshold and results.mean() < mean_threshold)


def _mean_ranks(keys: Sequence[float]) -> list[float]:
    """1-based ranks of ``keys`` in ascending order; tied keys share their mean rank."""
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    ranks = [0.0] * len(keys)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and keys[order[end + 1]] == keys[order[start]]:
            end += 1
        for pos in range(start, end + 1):
            ranks[order[pos]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks


@dataclass
class _Entry:
    """A stored success and its bookkeeping."""

    trajectory: Trajectory
    insert_index: int
    """Global insertion counter: larger is newer."""
    score: float | None = None
    """Mean token log-prob under the policy version ``score_version`` (surprise mode)."""
    score_version: int | None = None

    def surprise_key(self) -> float:
        """Lower is more surprising: the learner's score, else the sampler's, else 0."""
        if self.score is not None:
            return self.score
        sampler = self.trajectory.mean_sampler_logprob()
        return 0.0 if sampler is None else sampler

    def to_dict(self) -> dict[str, Any]:
        return {
            "trajectory": self.trajectory.to_dict(),
            "insert_index": self.insert_index,
            "score": self.score,
            "score_version": self.score_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _Entry:
        return cls(
            trajectory=Trajectory.from_dict(data["trajectory"]),
            insert_index=int(data["insert_index"]),
            score=None if data["score"] is None else float(data["score"]),
            score_version=None if data["score_version"] is None else int(data["score_version"]),
        )


@dataclass
class ReplayOutcome:
    """What ``process_group`` did to one group.

    Attributes:
        group: The group to train on (same size as the input).
        triggered: Whether the group met the all-fail trigger.
        injected: The replay copies put into ``group`` (``is_replay=True``), in slot order.
        replaced: The fresh rollouts they displaced.
        added: The group's fresh successes stored after the injection.
    """

    group: list[Trajectory]
    triggered: bool
    injected: list[Trajectory] = field(default_factory=list)
    replaced: list[Trajectory] = field(default_factory=list)
    added: list[Trajectory] = field(default_factory=list)


class SuccessReplayBuffer:
    """Per-task store of successful trajectories, injected into all-fail groups (ARPO Sec. 3.2).

    Typical driver use, once per group after rewards are computed and before advantages::

        outcome = buffer.process_group(group, rng, policy_version=version)
        train_on(outcome.group)

    In ``surprise`` mode the driver refreshes scores before sampling::

        todo = buffer.trajectories_to_score(policy_version=version)
        for traj, mean_logp in zip(todo, learner_mean_logps(todo)):
            buffer.update_scores(traj.task_id, {traj.episode_id: mean_logp}, version)

    Args:
        capacity_per_task: Most successes kept per task; FIFO eviction.
        success_threshold: A trajectory is stored when ``eval_result > success_threshold``.
        priority_mode: A ``PriorityMode`` or its string value.
        priority_alpha: Exponent alpha >= 0 of the rank priorities; 0 is uniform.
        std_threshold: Trigger: std of the group's evaluator results below this ...
        mean_threshold: ... and mean below this.
        num_inject: Rollouts replaced per triggered group (the first ones), at most G - 1.
    """

    def __init__(
        self,
        capacity_per_task: int = CAPACITY_PER_TASK,
        success_threshold: float = SUCCESS_THRESHOLD,
        priority_mode: PriorityMode | str = PriorityMode.UNIFORM,
        priority_alpha: float = 0.0,
        std_threshold: float = TRIGGER_STD_THRESHOLD,
        mean_threshold: float = TRIGGER_MEAN_THRESHOLD,
        num_inject: int = NUM_INJECT,
    ) -> None:
        if capacity_per_task < 1:
            raise ValueError(f"capacity_per_task={capacity_per_task} must be >= 1")
        if priority_alpha < 0 or not math.isfinite(priority_alpha):
            raise ValueError(f"priority_alpha={priority_alpha} must be a finite number >= 0")
        if num_inject < 1:
            raise ValueError(f"num_inject={num_inject} must be >= 1")
        self.capacity_per_task = capacity_per_task
        self.success_threshold = success_threshold
        self.priority_mode = parse_enum(PriorityMode, priority_mode, "priority_mode")
        self.priority_alpha = float(priority_alpha)
        self.std_threshold = std_threshold
        self.mean_threshold = mean_threshold
        self.num_inject = num_inject
        self._tasks: dict[str, list[_Entry]] = {}
        self._insert_counter = 0
        self._injections_total = 0
        self.reset_iteration_metrics()

    # ----------------------------------------------------------------------------------------
    # Contents
    # ----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(entries) for entries in self._tasks.values())

    def task_ids(self) -> list[str]:
        """Tasks with at least one stored success, in order of first storage."""
        return list(self._tasks)

    def trajectories(self, task_id: str) -> list[Trajectory]:
        """The stored successes of a task, oldest first (empty for an unknown task)."""
        return [e.trajectory for e in self._tasks.get(task_id, [])]

    def memory_bytes(self) -> int:
        """Approximate memory of the stored trajectories' payload (``Trajectory.nbytes``)."""
        return sum(e.trajectory.nbytes() for entries in self._tasks.values() for e in entries)

    def is_success(self, trajectory: Trajectory) -> bool:
        """``eval_result > success_threshold``."""
        return trajectory.is_success(self.success_threshold)

    def add(self, trajectories: Iterable[Trajectory]) -> list[Trajectory]:
        """Store the successes among fresh rollouts; evict the oldest beyond capacity.

        Replay copies (``is_replay``) and episodes already stored (same task and episode id) are
        skipped, so a success is never stored twice.

        Args:
            trajectories: Any rollouts; failures are ignored.

        Returns:
            The trajectories that were stored.
        """
        added = []
        for traj in trajectories:
            if traj.is_replay or not self.is_success(traj):
                continue
            entries = self._tasks.setdefault(traj.task_id, [])
            if any(e.trajectory.episode_id == traj.episode_id for e in entries):
                continue
            entries.append(_Entry(trajectory=traj, insert_index=self._insert_counter))
            self._insert_counter += 1
            del entries[: max(0, len(entries) - self.capacity_per_task)]  # FIFO eviction
            added.append(traj)
        self._added += len(added)
        return added

    # ----------------------------------------------------------------------------------------
    # Priorities and draws
    # ----------------------------------------------------------------------------------------
    def _ranks(self, entries: Sequence[_Entry]) -> list[float]:
        if self.priority_mode is PriorityMode.RECENT:
            return _mean_ranks([-e.insert_index for e in entries])
        if self.priority_mode is PriorityMode.SHORTEST:
            return _mean_ranks([e.trajectory.num_steps for e in entries])
        if self.priority_mode is PriorityMode.SURPRISE:
            return _mean_ranks([e.surprise_key() for e in entries])
        return [1.0] * len(entries)

    def _probabilities(self, entries: Sequence[_Entry]) -> np.ndarray:
        """``P(i) = (1 / rank_i)^alpha / sum_j (1 / rank_j)^alpha``, shape (n,)."""
        ranks = np.asarray(self._ranks(entries), dtype=np.float64)  # (n,)
        weights = ranks ** (-self.priority_alpha)  # (n,): p_i^alpha with p_i = 1 / rank_i
        return weights / weights.sum()  # (n,)

    def sampling_probabilities(self, task_id: str) -> dict[str, float]:
        """Probability of drawing each stored success of a task, keyed by episode id.

        Args:
            task_id: The task.

        Returns:
            ``{episode_id: P(i)}`` oldest first, summing to 1; empty for an unknown task.
        """
        entries = self._tasks.get(task_id, [])
        if not entries:
            return {}
        probs = self._probabilities(entries)
        return {e.trajectory.episode_id: float(p) for e, p in zip(entries, probs)}

    def sample(self, task_id: str, rng: np.random.Generator, k: int = 1) -> list[Trajectory]:
        """Draw up to ``k`` distinct stored successes of a task by priority.

        Args:
            task_id: The task.
            rng: The driver's seeded generator (its state belongs in the checkpoint).
            k: How many, without replacement; fewer when fewer are stored.

        Returns:
            The drawn trajectories as stored (not marked); empty for an unknown task.
        """
        entries = self._tasks.get(task_id, [])
        k = min(k, len(entries))
        if k <= 0:
            return []
        picks = rng.choice(len(entries), size=k, replace=False, p=self._probabilities(entries))
        return [entries[int(i)].trajectory for i in picks]

    # ----------------------------------------------------------------------------------------
    # Surprise scores
    # ----------------------------------------------------------------------------------------
    def trajectories_to_score(
        self, policy_version: int | None = None, task_ids: Iterable[str] | None = None
    ) -> list[Trajectory]:
        """Stored trajectories whose surprise score is missing or from another policy version.

        Only meaningful in ``surprise`` mode (other modes never read scores). Scoring = the mean
        log-prob of the trajectory's response tokens under the current weights, computed by the
        learner exactly as old log-probs are.

        Args:
            policy_version: The current version; None lists only never-scored entries.
            task_ids: Restrict to these tasks (e.g. those of this iteration's all-fail groups).

        Returns:
            The trajectories to score, task by task, oldest first.
        """
        tasks = self._tasks if task_ids is None else {t: self._tasks.get(t, []) for t in task_ids}
        return [
            e.trajectory
            for entries in tasks.values()
            for e in entries
            if e.score is None or (policy_version is not None and e.score_version != policy_version)
        ]

    def update_scores(
        self, task_id: str, scores: Mapping[str, float], policy_version: int | None = None
    ) -> int:
        """Set surprise scores (mean token log-prob under the current policy) of stored entries.

        Args:
            task_id: The task.
            scores: ``{episode_id: mean_logp}``; ids no longer stored (evicted) are ignored.
            policy_version: The version the scores were computed with.

        Returns:
            How many entries were updated.
        """
        updated = 0
        for entry in self._tasks.get(task_id, []):
            score = scores.get(entry.trajectory.episode_id)
            if score is None:
                continue
            if not math.isfinite(score):
                raise ValueError(f"score for episode {entry.trajectory.episode_id!r} is {score}")
            entry.score, entry.score_version = float(score), policy_version
            updated += 1
        return updated

    # ----------------------------------------------------------------------------------------
    # The ARPO step: trigger -> inject -> add
    # ----------------------------------------------------------------------------------------
    def should_inject(self, group_eval_results: Sequence[float]) -> bool:
        """The module's ``should_inject`` with this buffer's thresholds."""
        return should_inject(group_eval_results, self.std_threshold, self.mean_threshold)

    def inject(
        self,
        group: Sequence[Trajectory],
        rng: np.random.Generator,
        *,
        policy_version: int | None = None,
    ) -> tuple[list[Trajectory], list[Trajectory]]:
        """Replace the group's first rollout(s) with stored successes of its task.

        Does not check the trigger (``process_group`` does). Replaces
        ``min(num_inject, stored, len(group) - 1)`` rollouts, the first ones as the reference,
        so the group keeps its size and at least one fresh rollout.

        Args:
            group: The G rollouts of one task.
            rng: The driver's seeded generator.
            policy_version: Current policy version, for the age metric; None skips it.

        Returns:
            ``(new_group, injected)``: a new list of the same size, and the copies put in it
            (``is_replay=True``, the group's ``group_id``), empty when the task has nothing stored.
        """
        task_id = _single_task(group)
        drawn = self.sample(task_id, rng, k=min(self.num_inject, len(group) - 1))
        injected = [replace(t, group_id=group[0].group_id, is_replay=True) for t in drawn]
        new_group = injected + list(group[len(injected) :])
        self._injections += len(injected)
        self._injections_total += len(injected)
        if policy_version is not None:
            self._injected_ages.extend(policy_version - t.policy_version for t in injected)
        return new_group, injected

    def process_group(
        self,
        group: Sequence[Trajectory],
        rng: np.random.Generator,
        *,
        policy_version: int | None = None,
    ) -> ReplayOutcome:
        """ARPO's replay step for one group, in the reference order: trigger, inject, then add.

        Because the buffer is updated only after the injection, a group never receives one of
        its own fresh successes. The fresh rollouts (including a displaced one) are offered to
        ``add``; replay copies never are.

        Args:
            group: The G rollouts of one task, rewards already computed.
            rng: The driver's seeded generator.
            policy_version: Current policy version, for the age metric.

        Returns:
            A ``ReplayOutcome``; its ``group`` is what to train on.
        """
        fresh = list(group)
        triggered = self.should_inject([t.eval_result for t in fresh])
        injected: list[Trajectory] = []
        new_group = fresh
        if triggered:
            self._triggered += 1
            new_group, injected = self.inject(fresh, rng, policy_version=policy_version)
            if not injected:
                self._triggered_empty += 1
        added = self.add(fresh)
        return ReplayOutcome(
            group=new_group,
            triggered=triggered,
            injected=injected,
            replaced=fresh[: len(injected)],
            added=added,
        )

    # ----------------------------------------------------------------------------------------
    # Metrics
    # ----------------------------------------------------------------------------------------
    def reset_iteration_metrics(self) -> None:
        """Zero the per-iteration counters (call at the start of each training iteration)."""
        self._triggered = 0
        self._triggered_empty = 0
        self._injections = 0
        self._added = 0
        self._injected_ages: list[int] = []

    def metrics(self) -> dict[str, float]:
        """Buffer metrics keyed by ``core.metrics`` names.

        Returns:
            Size, tasks covered, fill rate, memory, and since the last
            ``reset_iteration_metrics``: triggered groups, triggered groups with nothing stored,
            injections, successes added, and the mean age (policy versions) of the injected
            trajectories when any were injected with a ``policy_version``.
        """
        size, tasks = len(self), len(self._tasks)
        out = {
            M.REPLAY_SIZE: float(size),
            M.REPLAY_TASKS_COVERED: float(tasks),
            M.REPLAY_FILL_RATE: size / (self.capacity_per_task * tasks) if tasks else 0.0,
            M.REPLAY_MEMORY_BYTES: float(self.memory_bytes()),
            M.REPLAY_TRIGGERED_GROUPS: float(self._triggered),
            M.REPLAY_TRIGGERED_EMPTY: float(self._triggered_empty),
            M.REPLAY_INJECTIONS: float(self._injections),
            M.REPLAY_ADDED: float(self._added),
            M.REPLAY_INJECTIONS_TOTAL: float(self._injections_total),
        }
        if self._injected_ages:
            out[M.REPLAY_INJECTED_AGE_MEAN] = sum(self._injected_ages) / len(self._injected_ages)
        return out

    # ----------------------------------------------------------------------------------------
    # Checkpoint state
    # ----------------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The buffer's contents as plain data (dicts, lists, str, numbers, bytes), picklable.

        Settings (capacity, thresholds, mode) are not part of the state: they come from the
        config. Per-iteration counters are not either.
        """
        return {
            "version": STATE_VERSION,
            "insert_counter": self._insert_counter,
            "injections_total": self._injections_total,
            "tasks": {
                task_id: [e.to_dict() for e in entries] for task_id, entries in self._tasks.items()
            },
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore ``get_state`` output; tasks over this buffer's capacity keep their newest."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"replay state version={state.get('version')!r}; this code reads {STATE_VERSION}"
            )
        tasks: dict[str, list[_Entry]] = {}
        for task_id, entries in state["tasks"].items():
            restored = [_Entry.from_dict(e) for e in entries]
            if len(restored) > self.capacity_per_task:
                logger.warning(
                    "replay state holds %d successes of task %r; keeping the newest %d "
                    "(capacity_per_task)",
                    len(restored),
                    task_id,
                    self.capacity_per_task,
                )
                restored = restored[-self.capacity_per_task :]
            tasks[task_id] = restored
        self._tasks = tasks
        self._insert_counter = int(state["insert_counter"])
        self._injections_total = int(state["injections_total"])


def _single_task(group: Sequence[Trajectory]) -> str:
    if not group:
        raise ValueError("a group needs at least one trajectory")
    task_ids = {t.task_id for t in group}
    if len(task_ids) != 1:
        raise ValueError(f"a group holds one task; got task ids {sorted(task_ids)}")
    return group[0].task_id
