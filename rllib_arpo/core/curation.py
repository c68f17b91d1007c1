"""Online task curation: each training task's recent success, and draws that favour mixed groups.

ARPO (arXiv 2505.16282, Sec. 3.3) filters tasks offline: before training, the warm policy runs
every task a few times and only tasks with at least one success are kept ("valuable tasks"). A
policy moves, so that filter goes stale: tasks it solves every time, or never, give GRPO a group
whose rewards have no spread and so no gradient. This is the live form of the filter. The driver
records each fresh group's success share per task, and ``task_order="curated"`` draws tasks with
weights that follow how likely their next group is to come out mixed:

    p_t     = successes / episodes of task t over its last ``window`` groups
    m_t     = 1 - p_t^G - (1 - p_t)^G          P(a group of G is mixed), episodes i.i.d. with p_t
    w_t     = max(m_t, floor)                   a task is rested, never dropped
    w_t     = 1                                 for a task not yet seen (try everything first)
    P(t)    = w_t / sum_u w_u                   drawn without replacement within an iteration

A task whose window is full and all-solved or all-failed is *rested*: drawn at the ``floor``
weight, so it comes back now and then (the policy may forget it, or learn it). With the success
replay a never-solved task still gets no gradient until it is solved once, so resting it costs
ARPO nothing. Replayed copies are not fresh evidence and are not recorded.

No Ray here. ``get_state``/``set_state`` are plain data, kept in the algorithm's checkpoint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rllib_arpo.core import metrics as M

WINDOW = 4
"""Groups per task the recent success covers."""
FLOOR = 0.05
"""Weight of a rested task (always solved or never solved), relative to an unseen task's 1."""
PER_TASK_SCALARS_MAX = 256
"""Task lists longer than this get only the counts in ``metrics``, not one scalar per task."""
STATE_VERSION = 1


def mixed_group_probability(success_rate: float, group_size: int) -> float:
    """P(a group of ``group_size`` i.i.d. episodes holds a success and a failure)."""
    return 1.0 - success_rate**group_size - (1.0 - success_rate) ** group_size


class TaskCurator:
    """Recent success per task (the last ``window`` groups' success counts) and draw weights."""

    def __init__(self, window: int = WINDOW, floor: float = FLOOR) -> None:
        if window < 1:
            raise ValueError(f"curation window={window}: must be at least 1")
        if not 0.0 < floor <= 1.0:
            raise ValueError(f"curation floor={floor}: must be in (0, 1]")
        self.window = window
        self.floor = floor
        self._groups: dict[str, deque[tuple[int, int]]] = {}  # task -> (successes, episodes)
        self._group_size = 0  # the largest group seen: G of m_t

    # -------------------------------------------------------------------------------- record

    def record_group(self, task_id: str, successes: int, episodes: int) -> None:
        """One fresh group of ``task_id``: ``successes`` of its ``episodes`` succeeded."""
        if episodes < 1 or not 0 <= successes <= episodes:
            raise ValueError(f"task {task_id!r}: {successes} successes of {episodes} episodes")
        groups = self._groups.setdefault(task_id, deque(maxlen=self.window))
        groups.append((int(successes), int(episodes)))
        self._group_size = max(self._group_size, int(episodes))

    def success_rate(self, task_id: str) -> float | None:
        """Successes / episodes over the task's last ``window`` groups; None if never seen."""
        groups = self._groups.get(task_id)
        if not groups:
            return None
        return sum(s for s, _ in groups) / sum(n for _, n in groups)

    def is_rested(self, task_id: str) -> bool:
        """Its window is full and every episode in it succeeded, or none did."""
        groups = self._groups.get(task_id)
        if groups is None or len(groups) < self.window:
            return False
        return self.success_rate(task_id) in (0.0, 1.0)

    # -------------------------------------------------------------------------------- draw

    def weights(self, task_ids: Sequence[str]) -> np.ndarray:
        """``w_t`` of each task (module docstring), in order. Shape [len(task_ids)]."""
        out = np.ones(len(task_ids), dtype=np.float64)
        for index, task_id in enumerate(task_ids):
            rate = self.success_rate(task_id)
            if rate is None:
                continue  # unseen: weight 1
            mixed = mixed_group_probability(rate, self._group_size)
            out[index] = max(mixed, self.floor)
        return out

    def sample(self, task_ids: Sequence[str], count: int, rng: np.random.Generator) -> list[int]:
        """``count`` indices into ``task_ids`` drawn with ``P(t) = w_t / sum w``, without
        replacement while ``count <= len(task_ids)`` (with replacement beyond)."""
        if not task_ids:
            raise ValueError("no tasks to draw from")
        weights = self.weights(task_ids)
        probabilities = weights / weights.sum()
        replace = count > len(task_ids)
        picks = rng.choice(len(task_ids), size=count, replace=replace, p=probabilities)
        return [int(i) for i in picks]

    # -------------------------------------------------------------------------------- report

    def metrics(self, task_ids: Sequence[str]) -> dict[str, float]:
        """Counts over ``task_ids`` (unseen, active, rested solved / failed) and, for lists of
        at most ``PER_TASK_SCALARS_MAX`` tasks, each seen task's recent success under
        ``curation/task/<id>``."""
        unseen = solved = failed = 0
        per_task = {}
        for task_id in task_ids:
            rate = self.success_rate(task_id)
            if rate is None:
                unseen += 1
                continue
            if len(task_ids) <= PER_TASK_SCALARS_MAX:
                per_task[f"{M.CURATION_TASK_PREFIX}{task_id}"] = rate
            if self.is_rested(task_id):
                solved += rate == 1.0
                failed += rate == 0.0
        return {
            M.CURATION_UNSEEN: float(unseen),
            M.CURATION_RESTED_SOLVED: float(solved),
            M.CURATION_RESTED_FAILED: float(failed),
            M.CURATION_ACTIVE: float(len(task_ids) - unseen - solved - failed),
            **per_task,
        }

    # -------------------------------------------------------------------------------- state

    def get_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "group_size": self._group_size,
            "tasks": {task: [list(g) for g in groups] for task, groups in self._groups.items()},
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"curation state version={state.get('version')!r}; this code reads {STATE_VERSION}"
            )
        self._group_size = int(state["group_size"])
        self._groups = {
            task: deque(((int(s), int(n)) for s, n in groups), maxlen=self.window)
            for task, groups in state["tasks"].items()
        }
