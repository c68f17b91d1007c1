"""Setup steps with values of the wrong shape are ``TaskError``s naming the task, the step (index
and type) and the field, at load time; a step that fails while it runs is a ``SetupError`` (a
``ValueError``) naming the task and the step."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from minidesk_helpers import FIXED_NOW

from envs.minidesk import (
    FAMILIES,
    MiniDeskEnv,
    TaskError,
    load_task_file,
    make_task,
    setup_steps,
    validate_task,
)
from envs.minidesk.families import levels_for
from envs.minidesk.setup_steps import SetupError
from envs.minidesk.tasks import default_test_data

TASK_ID = "f3b19d1e-2d48-44e9-b4e1-defcae1a0197"
BASE = json.loads((default_test_data() / "tasks" / f"{TASK_ID}.json").read_text())


def _with_step(step_type: str, parameters: Any) -> dict[str, Any]:
    task = copy.deepcopy(BASE)
    task["config"].append({"type": step_type, "parameters": parameters})
    return task


APP = "minidesk_app_state"
BAD_STEPS = [
    ("launch", {"command": [1, 2]}, "command[0]", "must be str, got int"),
    ("launch", {"command": "google-chrome 'https://a.test"}, "command", "No closing quotation"),
    ("launch", {"command": ["google-chrome", None]}, "command[1]", "must be str, got NoneType"),
    ("execute", {"command": ["python", "-c", 5]}, "command[2]", "must be str"),
    ("execute", {"command": 'python -c "import os"'}, "command", "rejected by the interpreter"),
    ("command", {"command": 'echo "unclosed'}, "command", "No closing quotation"),
    ("update_browse_history", {"history": ["https://a.test"]}, "history[0]", "an object"),
    ("update_browse_history", {"history": [{"title": "t"}]}, "history[0].url", "missing"),
    ("update_browse_history", {"history": [{"url": 5}]}, "history[0].url", "must be str"),
    (
        "update_browse_history",
        {"history": [{"url": "https://a.test", "visit_time_from_now_in_seconds": "soon"}]},
        "history[0].visit_time_from_now_in_seconds",
        "must be int or float",
    ),
    (
        "update_browse_history",
        {"history": [{"url": "https://a.test", "title": ["t"]}]},
        "history[0].title",
        "must be str",
    ),
    ("chrome_open_tabs", {"urls_to_open": [5]}, "urls_to_open[0]", "must be str, got int"),
    ("chrome_close_tabs", {"urls_to_close": [{}]}, "urls_to_close[0]", "must be str"),
    ("sleep", {"seconds": -1}, "seconds", ">= 0"),
    ("sleep", {"seconds": float("nan")}, "seconds", "finite"),
    ("sleep", {"seconds": 10**400}, "seconds", "finite"),
    (
        "update_browse_history",
        {"history": [{"url": "https://a.test", "visit_time_from_now_in_seconds": -(10**400)}]},
        "history[0].visit_time_from_now_in_seconds",
        "finite",
    ),
    (
        APP,
        {"app": "form", "state": {"elements": [{"kind": "list", "rows": 10**400}]}},
        "state.elements[0].rows",
        "finite",
    ),
    (
        "minidesk_files",
        {"files": {"/home/user/a.txt": 5}},
        "files['/home/user/a.txt']",
        "must be str",
    ),
    ("minidesk_dialog", {"text": "hi", "buttons": [1]}, "buttons[0]", "must be str"),
    (APP, {"app": "spreadsheet", "state": {}}, "app", "expected one of"),
    (APP, {"app": "browser", "state": {"tabs": "x"}}, "state.tabs", "must be list"),
    (APP, {"app": "browser", "state": {"tabs": [], "active": "1"}}, "state.active", "must be int"),
    (APP, {"app": "editor", "state": {"text": 5}}, "state.text", "must be str"),
    (APP, {"app": "files", "state": {"folder": []}}, "state.folder", "must be str"),
    (APP, {"app": "form", "state": {"elements": [5]}}, "state.elements[0]", "an object"),
    (
        APP,
        {"app": "form", "state": {"elements": [{"kind": "rocket"}]}},
        "state.elements[0].kind",
        "one of",
    ),
    (
        APP,
        {"app": "form", "state": {"elements": [{"kind": "button", "rect": [0, 0, 10]}]}},
        "state.elements[0].rect",
        "4 numbers",
    ),
    (
        APP,
        {"app": "form", "state": {"elements": [{"kind": "button", "colour": "red"}]}},
        "state.elements[0].colour",
        "unknown",
    ),
    (APP, {"app": "form", "state": {"title": 3}}, "state.title", "must be str"),
]


@pytest.mark.parametrize(("step_type", "parameters", "field", "problem"), BAD_STEPS)
def test_bad_step_values_name_task_step_and_field(
    step_type: str, parameters: dict, field: str, problem: str
) -> None:
    task = _with_step(step_type, parameters)
    index = len(task["config"]) - 1
    with pytest.raises(TaskError) as error:
        validate_task(task)
    message = str(error.value)
    assert repr(TASK_ID) in message, message
    assert f"config[{index}].parameters.{field}" in message, message
    assert f"step {index} ({step_type})" in message, message
    assert problem in message, message
    with pytest.raises(TaskError, match=re.escape(f"config[{index}].parameters.{field}")):
        MiniDeskEnv(now=FIXED_NOW).reset(options={"task": task})


def test_task_files_name_the_file_and_the_task(tmp_path: Path) -> None:
    path = tmp_path / "task.json"
    path.write_text(json.dumps(_with_step("launch", {"command": [1, 2]})))
    with pytest.raises(TaskError) as error:
        load_task_file(path)
    assert str(path) in str(error.value) and repr(TASK_ID) in str(error.value)


def test_postconfig_steps_are_checked_the_same_way() -> None:
    task = copy.deepcopy(BASE)
    task["evaluator"]["postconfig"] = [{"type": "launch", "parameters": {"command": [7]}}]
    with pytest.raises(TaskError, match=re.escape("evaluator.postconfig[0].parameters.command[0]")):
        validate_task(task)


def test_a_step_that_fails_while_running_is_a_setup_error_naming_task_and_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(desk: Any, seconds: float) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(setup_steps._STEPS, "sleep", broken)
    task = _with_step("sleep", {"seconds": 1})
    with pytest.raises(SetupError) as error:
        MiniDeskEnv(now=FIXED_NOW).reset(options={"task": task})
    message = str(error.value)
    assert repr(TASK_ID) in message and "step 4 (sleep)" in message and "KeyError" in message
    assert isinstance(error.value, ValueError)


def test_every_valid_task_still_validates_and_resets() -> None:
    for path in sorted(default_test_data().rglob("*.json")):
        if path.parent.name in ("tasks", "noisy_tasks"):
            load_task_file(path)
    env = MiniDeskEnv(now=FIXED_NOW)
    for family in FAMILIES:
        for level in levels_for(env.screen_size):
            for seed in range(3):
                task = make_task(family, level, seed)
                validate_task(task)
                env.reset(options={"task": task})
