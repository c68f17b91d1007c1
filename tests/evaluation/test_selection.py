"""``rllib_arpo.evaluation.selection``: ARPO's valuable-task filter and middle difficulty."""

from __future__ import annotations

import json

import pytest

from rllib_arpo.evaluation.errors import EvalError
from rllib_arpo.evaluation.selection import count_successes, select_tasks, write_selection
from rllib_arpo.rollout.tasks import TaskRef


def test_selection_valuable_and_middle_difficulty(make_episode) -> None:
    refs = [TaskRef("chrome", f"t{i}") for i in range(4)]
    wins = {"t0": 0, "t1": 1, "t2": 8, "t3": 16}
    episodes = [
        make_episode(ref.task_id, k, k < wins[ref.task_id]) for ref in refs for k in range(16)
    ]
    counts = count_successes(refs, episodes)
    assert [c.successes for c in counts] == [0, 1, 8, 16]
    valuable = select_tasks(counts, min_success=1)
    assert [c.ref.task_id for c in valuable if c.selected] == ["t1", "t2", "t3"]
    middle = select_tasks(counts, min_success=1, min_rate=0.25, max_rate=0.75)
    assert [c.ref.task_id for c in middle if c.selected] == ["t2"]
    with pytest.raises(EvalError, match="--min-rate 0.8 is above --max-rate 0.2"):
        select_tasks(counts, min_rate=0.8, max_rate=0.2)
    with pytest.raises(EvalError, match=r"--max-rate must be within \[0, 1\], got 2"):
        select_tasks(counts, max_rate=2)


def test_selection_is_written_as_a_task_list(make_episode, tmp_path) -> None:
    refs = [TaskRef("chrome", "t0"), TaskRef("chrome", "t1")]
    episodes = [make_episode("t0", 0, False), make_episode("t1", 0, True)]
    counts = select_tasks(count_successes(refs, episodes), min_success=1)
    paths = write_selection(tmp_path, counts, {"settings": {"trials": 1}})
    assert json.loads(paths["selected"].read_text()) == {"chrome": ["t1"]}
    assert paths["csv"].read_text().splitlines()[0] == (
        "domain,task_id,trials,valid,successes,success_rate,selected"
    )
    document = json.loads(paths["json"].read_text())
    assert document["selected"] == 1 and document["tasks"] == 2
    assert document["settings"] == {"trials": 1}
