"""``rllib_arpo.rollout.tasks``: reading, merging and writing task lists; ``config.tasks``."""

from __future__ import annotations

import json

import pytest

from rllib_arpo.rollout.tasks import (
    TaskListError,
    TaskRef,
    base_task_id,
    load_task_list,
    merge_task_lists,
    resolve_task_list,
    write_task_list,
)


def test_task_lists_round_trip_and_errors(tmp_path) -> None:
    path = write_task_list(tmp_path / "l.json", [TaskRef("a", "1"), TaskRef("b", "2")])
    assert json.loads(path.read_text()) == {"a": ["1"], "b": ["2"]}
    assert load_task_list(path) == [TaskRef("a", "1"), TaskRef("b", "2")]
    (tmp_path / "plain.json").write_text('["x", "y"]')
    assert [r.task_id for r in load_task_list(tmp_path / "plain.json")] == ["x", "y"]
    (tmp_path / "bad.json").write_text('{"a": "1"}')
    with pytest.raises(TaskListError, match=r"bad.json: domain 'a' must map to a list of task ids"):
        load_task_list(tmp_path / "bad.json")
    (tmp_path / "num.json").write_text("3")
    with pytest.raises(TaskListError, match=r"num.json must be a JSON object"):
        load_task_list(tmp_path / "num.json")
    assert merge_task_lists([TaskRef("a", "1")], [TaskRef("a", "1"), TaskRef("a", "2")]) == [
        TaskRef("a", "1"), TaskRef("a", "2"),
    ]  # fmt: skip


def test_missing_and_empty_lists_name_the_file(tmp_path) -> None:
    with pytest.raises(TaskListError, match=r"task list .*nope.json does not exist"):
        load_task_list(tmp_path / "nope.json")
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(TaskListError, match=r"task list .*empty.json lists no tasks"):
        load_task_list(tmp_path / "empty.json")
    assert issubclass(TaskListError, ValueError)


def test_noisy_twins_map_to_their_originals() -> None:
    assert base_task_id("t1_noise") == "t1" and base_task_id("t1") == "t1"
    assert TaskRef("d", "t1_noise").is_noisy and TaskRef("d", "t1_noise").base_id == "t1"
    assert not TaskRef("d", "t1").is_noisy


def test_config_tasks_are_lists_or_files(tmp_path) -> None:
    assert resolve_task_list(None) == []
    assert resolve_task_list(("a", {"id": "b"})) == ["a", {"id": "b"}]
    path = tmp_path / "tasks.json"
    path.write_text('{"chrome": ["x", "y"], "gimp": ["z"]}')
    assert resolve_task_list(path) == ["x", "y", "z"]
    path.write_text("[]")
    with pytest.raises(TaskListError, match=r"^config.tasks: task list .*tasks.json lists no"):
        resolve_task_list(str(path))


def test_unreadable_task_lists_are_one_clear_error(tmp_path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(TaskListError, match=r"task list .*deep.json is not valid JSON: nested"):
        load_task_list(deep)
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(TaskListError, match=r"task list .*loop.json cannot be read: .*symbolic"):
        load_task_list(loop)
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(TaskListError, match=r"task list .*folder.json is not a file"):
        load_task_list(tmp_path / "folder.json")
    (tmp_path / "nested.json").write_text(json.dumps({"chrome": [["a"]]}))
    with pytest.raises(TaskListError, match=r"nested.json: domain 'chrome' must map to a list"):
        load_task_list(tmp_path / "nested.json")
