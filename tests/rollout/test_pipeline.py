"""Tests of rllib_arpo/rollout/pipeline.py: asynchronous sampling's bookkeeping."""

from __future__ import annotations

import dataclasses

import pytest

from rllib_arpo.core import metrics as M
from rllib_arpo.rollout.pipeline import GroupPipeline
from tests.core.test_trajectory import make_step, make_trajectory


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def group(name: str, version: int, size: int = 2) -> list:
    step = dataclasses.replace(make_step(), policy_version=version)
    return [
        make_trajectory(group_id=name, episode_id=f"{name}-{k}", steps=[step]) for k in range(size)
    ]


def test_interleaved_trajectories_wait_as_their_groups_in_order() -> None:
    pipeline = GroupPipeline([1], groups_per_update=2, max_lag=1, clock=Clock())
    a, b = group("a", 0), group("b", 0)
    pipeline.launched(1, 2)
    pipeline.arrived(1, [a[0], b[0], a[1], b[1]])
    assert [[t.episode_id for t in g.trajectories] for g in pipeline.waiting] == [
        ["a-0", "a-1"],
        ["b-0", "b-1"],
    ]


def test_room_bounds_what_samples_or_waits_to_the_lag_plus_one_updates() -> None:
    pipeline = GroupPipeline([1, 2], groups_per_update=4, max_lag=1, clock=Clock())
    assert pipeline.room() == 8
    pipeline.launched(1, 2)
    pipeline.launched(2, 2)
    assert pipeline.room() == 4 and pipeline.idle_runners() == []
    pipeline.arrived(1, group("a", 0) + group("b", 0))
    assert pipeline.room() == 4  # arrived groups wait: they still count
    assert pipeline.idle_runners() == [1] and not pipeline.ready()


def test_take_trains_the_oldest_groups_and_drops_those_beyond_the_bound() -> None:
    clock = Clock()
    pipeline = GroupPipeline([1], groups_per_update=2, max_lag=1, clock=clock)
    pipeline.launched(1, 3)
    clock.now = 10.0
    pipeline.arrived(1, group("old", 3) + group("ok", 4) + group("next", 5))
    clock.now = 12.0
    taken = pipeline.take(learner_version=5)
    assert [g.trajectories[0].group_id for g in taken.groups] == ["ok"]  # "old": lag 2 > 1
    assert taken.admission.dropped == [0] and taken.admission.lags == [2, 1]
    assert taken.metrics[M.ASYNC_DROPPED_GROUPS] == 1.0
    assert taken.metrics[M.ASYNC_LAG_MAX] == 1.0
    assert taken.metrics[M.ASYNC_AGE_MEAN_S] == pytest.approx(2.0)
    assert [g.version for g in pipeline.waiting] == [5]  # the next update's


def test_idle_share_counts_runner_time_without_a_request() -> None:
    clock = Clock()
    pipeline = GroupPipeline([1, 2], groups_per_update=1, max_lag=1, clock=clock)
    pipeline.launched(1, 1)  # runner 2 stays idle
    clock.now = 4.0
    pipeline.arrived(1, group("a", 0))
    taken = pipeline.take(learner_version=0)
    assert taken.metrics[M.ASYNC_ENV_IDLE_SHARE] == pytest.approx(0.5)  # 4 s busy, 4 s idle


def test_a_lost_runner_gives_back_the_groups_it_was_sampling() -> None:
    pipeline = GroupPipeline([1, 2], groups_per_update=2, max_lag=1, clock=Clock())
    pipeline.launched(1, 2)
    assert pipeline.forget_runner(1) == 2
    assert pipeline.room() == 4 and pipeline.idle_runners() == [2]


def test_recorded_versions_are_mapped_to_sync_versions() -> None:
    # Env runners holding weights record RLlib's weights sequence number (learner updates);
    # the pipeline counts in syncs: syncs at sequence numbers 8 and 16 -> 8 is version 1.
    syncs = [8, 16]
    pipeline = GroupPipeline(
        [1], 1, max_lag=1, version_of=lambda v: sum(s <= v for s in syncs), clock=Clock()
    )
    pipeline.launched(1, 1)
    pipeline.arrived(1, group("a", 8))
    assert pipeline.waiting[0].version == 1
    assert pipeline.take(learner_version=2).admission.lags == [1]


def test_a_request_counts_as_finished_when_the_runner_finished_not_when_fetched() -> None:
    clock = Clock()
    pipeline = GroupPipeline([1], groups_per_update=1, max_lag=1, clock=clock)
    pipeline.launched(1, 1)
    clock.now = 10.0  # the driver fetches late: it was updating the learners
    pipeline.arrived(1, group("a", 0), finished_at=4.0)
    taken = pipeline.take(learner_version=0)
    assert taken.metrics[M.ASYNC_ENV_IDLE_SHARE] == pytest.approx(0.6)  # idle from 4 to 10
    assert taken.metrics[M.ASYNC_AGE_MEAN_S] == pytest.approx(6.0)


def test_the_ledger_accounts_for_every_group_launched() -> None:
    """launched == trained + dropped + discarded + pending, through drops, a lost runner and a
    ledger handed to a new pipeline (a resumed run)."""
    pipeline = GroupPipeline([1, 2], groups_per_update=2, max_lag=1, clock=Clock())
    pipeline.launched(1, 3)
    pipeline.launched(2, 2)
    pipeline.arrived(1, group("old", 0) + group("a", 2) + group("b", 2))
    pipeline.forget_runner(2)
    taken = pipeline.take(learner_version=2)  # "old" has lag 2: dropped
    ledger = pipeline.ledger
    assert (ledger.launched, ledger.trained, ledger.dropped, ledger.discarded) == (5, 1, 1, 2)
    assert taken.metrics[M.ASYNC_GROUPS_PENDING] == 1.0  # "b" waits
    assert taken.metrics[M.ASYNC_GROUPS_LAUNCHED] == 5.0
    resumed = GroupPipeline([1], groups_per_update=2, max_lag=1, clock=Clock(), ledger=ledger)
    resumed.launched(1, 2)
    assert resumed.ledger.launched == 7
    counts = resumed.ledger
    assert counts.launched == counts.trained + counts.dropped + counts.discarded + 1 + 2
