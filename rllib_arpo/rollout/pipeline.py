"""The bookkeeping of asynchronous rollouts (no Ray): what each env runner is sampling, which
complete groups wait for the learner, and how long runners and learner sat idle.

The Algorithm (``ARPO._collect_async``) drives it: it launches a request (a few tasks, each a
group) on every idle runner while ``room`` allows, hands each returned batch to ``arrived``,
and ``take``s one update's groups, oldest first, through the staleness bound
(``core.staleness``). ``room`` keeps at most ``max_groups_in_flight(T, L)`` groups sampling or
waiting, so sampling runs at most L updates ahead of the learner and drops stay rare.

Groups are complete when they arrive: a runner returns whole groups (all G episodes of a task),
never a part of one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rllib_arpo.core import metrics as M
from rllib_arpo.core.groups import group_by_id
from rllib_arpo.core.staleness import (
    Admission,
    admit_groups,
    age_metrics,
    group_version,
    max_groups_in_flight,
)
from rllib_arpo.core.trajectory import Trajectory


@dataclass
class GroupLedger:
    """Where every group an asynchronous run asked for went; checkpointed with the driver.

    At any moment ``launched == trained + dropped + discarded + pending`` (pending: sampling or
    waiting): a group lost or trained twice breaks the sum.
    """

    launched: int = 0
    trained: int = 0
    dropped: int = 0
    discarded: int = 0

    def metrics(self, pending: int) -> dict[str, float]:
        return {
            M.ASYNC_GROUPS_LAUNCHED: float(self.launched),
            M.ASYNC_GROUPS_TRAINED: float(self.trained),
            M.ASYNC_GROUPS_DROPPED: float(self.dropped),
            M.ASYNC_GROUPS_DISCARDED: float(self.discarded),
            M.ASYNC_GROUPS_PENDING: float(pending),
        }


@dataclass
class WaitingGroup:
    """A complete group the learner has not trained on yet."""

    trajectories: list[Trajectory]
    version: int
    arrived_s: float


@dataclass
class Taken:
    """One update's groups, and what the bound kept out."""

    groups: list[WaitingGroup]
    admission: Admission
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def trajectories(self) -> list[Trajectory]:
        return [t for g in self.groups for t in g.trajectories]


class GroupPipeline:
    """Requests in flight per runner, groups waiting, idle time (see the module docstring).

    Args:
        runner_ids: The env runners sampling (one request in flight each at most).
        groups_per_update: T, the groups one learner update trains on.
        max_lag: L >= 1, the staleness bound in versions.
        version_of: Maps a step's recorded version to the learner's version count (the number
            of weight syncs); identity by default (engines record sync versions).
        clock: Wall-clock seconds (``time.time``: runners stamp when a request finished in
            the same clock); a test passes its own.
        ledger: Counts of groups launched, trained, dropped and discarded, kept across
            pipelines (a resumed run continues its checkpoint's); a new one by default.
    """

    def __init__(
        self,
        runner_ids: Sequence[int],
        groups_per_update: int,
        max_lag: int,
        version_of: Callable[[int], int] = int,
        clock: Callable[[], float] = time.time,
        ledger: GroupLedger | None = None,
    ) -> None:
        self.groups_per_update = groups_per_update
        self.ledger = ledger if ledger is not None else GroupLedger()
        self.version_of = version_of
        self.max_lag = max_lag
        self.clock = clock
        self.capacity = max_groups_in_flight(groups_per_update, max_lag)
        self.in_flight: dict[int, int] = {}  # runner -> groups it is sampling
        self.waiting: list[WaitingGroup] = []
        now = clock()
        self._idle_since: dict[int, float] = {r: now for r in runner_ids}
        self._idle_s = 0.0  # runner-seconds without a request, since the last take
        self._busy_s = 0.0  # runner-seconds with one
        self._launched_at: dict[int, float] = {}

    # ------------------------------------------------------------------ requests

    def idle_runners(self) -> list[int]:
        return sorted(self._idle_since)

    def pending(self) -> int:
        """Groups sampling or waiting for the learner."""
        return sum(self.in_flight.values()) + len(self.waiting)

    def room(self) -> int:
        """Groups that may still be launched without exceeding the in-flight bound."""
        return self.capacity - self.pending()

    def launched(self, runner_id: int, num_groups: int) -> None:
        now = self.clock()
        self._idle_s += now - self._idle_since.pop(runner_id)
        self.in_flight[runner_id] = num_groups
        self._launched_at[runner_id] = now
        self.ledger.launched += num_groups

    def arrived(
        self, runner_id: int, trajectories: Sequence[Trajectory], finished_at: float | None = None
    ) -> None:
        """A runner's request came back: its groups wait, the runner is idle again, both from
        ``finished_at`` (when the runner finished; default now)."""
        now = self.clock() if finished_at is None else min(finished_at, self.clock())
        self.in_flight.pop(runner_id, None)
        self._busy_s += now - self._launched_at.pop(runner_id, now)
        self._idle_since[runner_id] = now
        for group in group_by_id(trajectories).values():
            version = self.version_of(group_version(group))
            self.waiting.append(WaitingGroup(group, version, now))

    def track(self, runner_id: int) -> None:
        """A (re)started runner: idle from now."""
        self._idle_since[runner_id] = self.clock()

    def forget_runner(self, runner_id: int) -> int:
        """A runner is gone (failed, restarted): its request will not come back. Returns the
        groups it was sampling (counted as discarded)."""
        self._launched_at.pop(runner_id, None)
        self._idle_since.pop(runner_id, None)
        lost = self.in_flight.pop(runner_id, 0)
        self.ledger.discarded += lost
        return lost

    # ------------------------------------------------------------------ the learner's side

    def ready(self) -> bool:
        return len(self.waiting) >= self.groups_per_update

    def take(self, learner_version: int) -> Taken:
        """The oldest T waiting groups through the bound, with their age and the idle shares
        since the last take."""
        batch, self.waiting = (
            self.waiting[: self.groups_per_update],
            self.waiting[self.groups_per_update :],
        )
        admission = admit_groups([g.version for g in batch], learner_version, self.max_lag)
        now = self.clock()
        kept = [batch[i] for i in admission.admitted]
        metrics = age_metrics(
            [admission.lags[i] for i in admission.admitted],
            [now - g.arrived_s for g in kept],
            dropped=len(admission.dropped),
        )
        self.ledger.trained += len(kept)
        self.ledger.dropped += len(admission.dropped)
        metrics.update(self._idle_metrics(now))
        metrics.update(self.ledger.metrics(self.pending()))
        return Taken(kept, admission, metrics)

    def _idle_metrics(self, now: float) -> dict[str, float]:
        idle = self._idle_s + sum(now - since for since in self._idle_since.values())
        busy = self._busy_s + sum(now - at for at in self._launched_at.values())
        self._idle_s = self._busy_s = 0.0
        self._idle_since = {r: now for r in self._idle_since}
        self._launched_at = {r: now for r in self._launched_at}
        total = idle + busy
        return {M.ASYNC_ENV_IDLE_SHARE: idle / total} if total > 0 else {}
