"""OSWorld task files: test_data loads, schema errors name the file and the field."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from envs.minidesk import (
    TaskError,
    TaskSet,
    load_task_file,
)
from envs.minidesk.tasks import default_test_data


# git blob hashes of the seed files (OSWORLD.md: "Byte-exact; git blob hashes match").
def _git_blob(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_test_data_layout_and_index() -> None:
    ts = TaskSet(default_test_data())
    assert len(ts.keys()) == 10
    assert len(ts.index["test_10tasks"]) == 5 and len(ts.index["test_10tasks_noisy"]) == 5
    for key in ts.index["test_10tasks_noisy"]:
        original = ts[key.removesuffix("_noise")]
        twin = ts[key]
        assert twin["id"] == original["id"] and twin["evaluator"] == original["evaluator"]
        assert twin["instruction"] == original["instruction"]


def test_test_data_is_byte_exact_copy_of_the_seed() -> None:
    seed = Path(__file__).resolve().parents[4] / "shared" / "seed-test-data"
    if not seed.is_dir():
        pytest.skip("shared seed data not present on this machine")
    ours = default_test_data()
    files = sorted(p.relative_to(seed) for p in seed.rglob("*.json"))
    # test_data/ also holds OSWorld's Chrome domain (osworld_chrome/, its own SOURCE.md).
    copies = [p.relative_to(ours) for p in ours.rglob("*.json")]
    assert files and files == sorted(p for p in copies if p.parts[0] != "osworld_chrome")
    for rel in files:
        assert _git_blob(seed / rel) == _git_blob(ours / rel), rel


def _write(tmp_path: Path, task: dict) -> Path:
    path = tmp_path / "bad_task.json"
    path.write_text(json.dumps(task))
    return path


BASE = json.loads(
    (default_test_data() / "tasks" / "f3b19d1e-2d48-44e9-b4e1-defcae1a0197.json").read_text()
)


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda t: t.pop("instruction"), "instruction"),
        (lambda t: t.pop("evaluator"), "evaluator"),
        (lambda t: t.__setitem__("id", 5), "id"),
        (lambda t: t["config"].append({"type": "teleport", "parameters": {}}), "config[4].type"),
        (
            lambda t: t["config"][2]["parameters"].__setitem__("urls_to_open", "x"),
            "config[2].parameters.urls_to_open",
        ),
        (lambda t: t["config"][0]["parameters"].pop("command"), "config[0].parameters.command"),
        (lambda t: t["config"][0].pop("type"), "config[0].type"),
        (lambda t: t["evaluator"].__setitem__("func", "no_such_metric"), "evaluator.func"),
        (
            lambda t: t["evaluator"]["result"].__setitem__("type", "no_such_getter"),
            "evaluator.result.type",
        ),
        (lambda t: t.__setitem__("related_apps", "chrome"), "related_apps"),
        (lambda t: t.__setitem__("config", {}), "config"),
    ],
)
def test_schema_errors_name_file_and_field(tmp_path, mutate, field) -> None:
    task = copy.deepcopy(BASE)
    mutate(task)
    path = _write(tmp_path, task)
    with pytest.raises(TaskError) as err:
        load_task_file(path)
    assert str(path) in str(err.value) and repr(field) in str(err.value)


def test_invalid_json_names_the_file(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(TaskError, match="broken.json"):
        load_task_file(path)
