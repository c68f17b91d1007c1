"""Online task curation: recent success per task, mixed-group weights, rest, state."""

from __future__ import annotations

import numpy as np
import pytest

from rllib_arpo.core import metrics as M
from rllib_arpo.core.curation import (
    PER_TASK_SCALARS_MAX,
    TaskCurator,
    mixed_group_probability,
)


def test_mixed_group_probability_matches_hand_values() -> None:
    # 1 - 0.25^8 - 0.75^8 = 1 - 0.0000153 - 0.1001129
    assert mixed_group_probability(0.25, 8) == pytest.approx(0.8998718, abs=1e-7)
    assert mixed_group_probability(0.5, 2) == pytest.approx(0.5)
    assert mixed_group_probability(0.0, 8) == 0.0 and mixed_group_probability(1.0, 8) == 0.0


def test_weights_follow_recent_success_and_rest_constant_tasks() -> None:
    curator = TaskCurator(window=2, floor=0.05)
    curator.record_group("mixed", 2, 8)
    curator.record_group("mixed", 2, 8)  # p = 0.25
    curator.record_group("solved", 8, 8)
    curator.record_group("solved", 8, 8)  # window full, all solved: rested
    curator.record_group("failed-once", 0, 8)  # window not full yet: p = 0 but not rested
    weights = curator.weights(["mixed", "solved", "failed-once", "unseen"])
    assert weights == pytest.approx([0.8998718, 0.05, 0.05, 1.0], abs=1e-7)
    assert curator.is_rested("solved") and not curator.is_rested("failed-once")
    assert curator.success_rate("unseen") is None


def test_the_window_forgets_old_groups() -> None:
    curator = TaskCurator(window=2)
    for successes in (8, 8, 0, 0):
        curator.record_group("t", successes, 8)
    assert curator.success_rate("t") == 0.0 and curator.is_rested("t")
    curator.record_group("t", 4, 8)
    assert curator.success_rate("t") == pytest.approx(0.25) and not curator.is_rested("t")


def test_draws_favour_tasks_likely_to_give_mixed_groups() -> None:
    curator = TaskCurator(window=1, floor=0.05)
    curator.record_group("mixed", 4, 8)  # m = 1 - 2 * 0.5^8 = 0.9921875
    curator.record_group("solved", 8, 8)  # rested: 0.05
    rng = np.random.default_rng(0)
    draws = [curator.sample(["mixed", "solved"], 1, rng)[0] for _ in range(20_000)]
    share_solved = draws.count(1) / len(draws)
    assert share_solved == pytest.approx(0.05 / (0.05 + 0.9921875), abs=0.006)
    # Without replacement within an iteration while there are enough tasks.
    picks = curator.sample(["a", "b", "c"], 3, rng)
    assert sorted(picks) == [0, 1, 2]
    assert len(curator.sample(["a"], 3, rng)) == 3


def test_state_round_trips_and_metrics_count_each_kind() -> None:
    curator = TaskCurator(window=2)
    curator.record_group("a", 8, 8)
    curator.record_group("a", 8, 8)
    curator.record_group("b", 0, 4)
    curator.record_group("b", 0, 4)
    curator.record_group("c", 1, 4)
    restored = TaskCurator(window=2)
    restored.set_state(curator.get_state())
    tasks = ["a", "b", "c", "d"]
    assert restored.weights(tasks) == pytest.approx(curator.weights(tasks))
    metrics = restored.metrics(tasks)
    assert metrics[M.CURATION_UNSEEN] == 1.0
    assert metrics[M.CURATION_RESTED_SOLVED] == 1.0
    assert metrics[M.CURATION_RESTED_FAILED] == 1.0
    assert metrics[M.CURATION_ACTIVE] == 1.0
    assert metrics[f"{M.CURATION_TASK_PREFIX}c"] == 0.25
    many = [f"t{i}" for i in range(PER_TASK_SCALARS_MAX + 1)]
    restored.record_group("t0", 1, 4)
    counts = restored.metrics(many)  # a long list: counts only
    assert counts[M.CURATION_ACTIVE] == 1.0
    assert not any(key.startswith(M.CURATION_TASK_PREFIX) for key in counts)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: TaskCurator(window=0), "window=0"),
        (lambda: TaskCurator(floor=0.0), "floor=0.0"),
        (lambda: TaskCurator().record_group("t", 9, 8), "'t': 9 successes of 8"),
        (lambda: TaskCurator().sample([], 1, np.random.default_rng(0)), "no tasks"),
        (lambda: TaskCurator().set_state({"version": 99}), "version=99"),
    ],
)
def test_bad_input_is_named(call, needle) -> None:
    with pytest.raises(ValueError, match=needle):
        call()
