"""Tests of rllib_arpo/core/staleness.py: which groups an asynchronous update may train on."""

from __future__ import annotations

import dataclasses

import pytest

from rllib_arpo.core import metrics as M
from rllib_arpo.core.staleness import (
    admit_groups,
    age_metrics,
    group_version,
    max_groups_in_flight,
)
from tests.core.test_trajectory import make_step, make_trajectory


def versioned(*step_versions: int | None):
    steps = [dataclasses.replace(make_step(), policy_version=v) for v in step_versions]
    return make_trajectory(steps=steps)


def test_a_group_is_as_old_as_its_oldest_step_partial_rollouts_included() -> None:
    # One episode spans the sync from version 4 to 5 (a partial rollout); the other is all 5.
    assert group_version([versioned(4, 4, 5), versioned(5, 5)]) == 4
    assert group_version([versioned(7)]) == 7


def test_a_step_without_a_version_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="policy_version"):
        group_version([versioned(3, None)])
    with pytest.raises(ValueError, match="without steps"):
        group_version([make_trajectory(steps=[])])


def test_groups_beyond_the_bound_are_dropped_and_the_rest_kept_in_order() -> None:
    admission = admit_groups([5, 3, 4, 2, 5], learner_version=5, max_lag=1)
    assert admission.lags == [0, 2, 1, 3, 0]
    assert admission.admitted == [0, 2, 4]
    assert admission.dropped == [1, 3]


def test_lag_zero_admits_only_the_current_weights() -> None:
    admission = admit_groups([5, 4, 5], learner_version=5, max_lag=0)
    assert admission.admitted == [0, 2] and admission.dropped == [1]


def test_a_group_newer_than_the_learner_or_a_negative_bound_is_an_error() -> None:
    with pytest.raises(ValueError, match="newer than the learner's 5"):
        admit_groups([6], learner_version=5, max_lag=2)
    with pytest.raises(ValueError, match="max_policy_lag"):
        admit_groups([5], learner_version=5, max_lag=-1)


def test_in_flight_groups_cover_the_update_being_made_and_the_next_lag_updates() -> None:
    assert max_groups_in_flight(4, 0) == 4  # synchronous: one update's groups
    assert max_groups_in_flight(4, 1) == 8
    assert max_groups_in_flight(16, 2) == 48


def test_age_metrics_in_versions_and_seconds() -> None:
    metrics = age_metrics([0, 1, 2], [1.0, 2.0, 6.0], dropped=3)
    assert metrics == {
        M.ASYNC_DROPPED_GROUPS: 3.0,
        M.ASYNC_LAG_MEAN: 1.0,
        M.ASYNC_LAG_MAX: 2.0,
        M.ASYNC_AGE_MEAN_S: 3.0,
        M.ASYNC_AGE_MAX_S: 6.0,
    }
    assert age_metrics([], [], dropped=0) == {M.ASYNC_DROPPED_GROUPS: 0.0}
