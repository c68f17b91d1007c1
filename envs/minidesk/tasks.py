"""OSWorld task JSON: loading and validation, with errors that name the file and the field.

Schema (OSWorld ``desktop_env`` task files): ``id`` str, ``instruction`` str, ``config`` list of
``{"type", "parameters"}`` setup steps, ``evaluator`` ``{"func", "result", "expected",
"options", "conj", "postconfig"}``, optional ``snapshot``, ``source``, ``trajectory``,
``related_apps``, ``proxy``; other keys (``noise_meta``, ``minidesk``) are kept and ignored.

A directory laid out as OSWorld's ``evaluation_examples`` (``tasks/<id>.json``,
``noisy_tasks/<id>_noise.json``, index files ``test_*.json`` mapping an app to ids) loads into a
``TaskSet``; tasks are keyed by file stem, so a noisy twin (same ``id`` inside) is
``"<id>_noise"``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envs.minidesk.evaluators import GETTERS, METRICS
from envs.minidesk.setup_steps import REQUIRED_PARAMS, STEP_PARAMS

OPTIONAL_STR_FIELDS = ("snapshot", "source", "trajectory")


class TaskError(ValueError):
    """A task file that does not follow the schema; the message names the file and field."""


def _fail(origin: str, field: str, problem: str) -> TaskError:
    return TaskError(f"{origin}: field {field!r}: {problem}")


def _typename(value: Any) -> str:
    return type(value).__name__


def validate_task(task: Any, origin: str = "<task>") -> dict[str, Any]:
    """Check ``task`` against the schema; returns it unchanged.

    Raises:
        TaskError: naming ``origin`` (the file) and the offending field.
    """
    if not isinstance(task, dict):
        raise _fail(origin, "<root>", f"a task must be a JSON object, got {_typename(task)}")
    for key in ("id", "instruction", "config", "evaluator"):
        if key not in task:
            raise _fail(origin, key, "missing required field")
    for key in ("id", "instruction"):
        if not isinstance(task[key], str) or not task[key]:
            raise _fail(origin, key, f"must be a non-empty str, got {task[key]!r:.60}")
    for key in OPTIONAL_STR_FIELDS:
        if key in task and not isinstance(task[key], str):
            raise _fail(origin, key, f"must be a str, got {_typename(task[key])}")
    if "related_apps" in task and not (
        isinstance(task["related_apps"], list)
        and all(isinstance(a, str) for a in task["related_apps"])
    ):
        raise _fail(origin, "related_apps", "must be a list of str")
    _validate_steps(task["config"], origin, "config")
    ev = task["evaluator"]
    if not isinstance(ev, dict):
        raise _fail(origin, "evaluator", f"must be an object, got {_typename(ev)}")
    if "func" not in ev:
        raise _fail(origin, "evaluator.func", "missing required field")
    funcs = ev["func"]
    if isinstance(funcs, str):
        _check_func(funcs, origin, "evaluator.func")
        if funcs != "infeasible":
            if "result" not in ev:
                raise _fail(origin, "evaluator.result", "missing required field")
            _check_getter(ev["result"], origin, "evaluator.result")
            if "expected" in ev:
                _check_getter(ev["expected"], origin, "evaluator.expected")
        if "options" in ev and not isinstance(ev["options"], dict):
            raise _fail(origin, "evaluator.options", "must be an object for a single func")
    elif isinstance(funcs, list) and funcs:
        for i, f in enumerate(funcs):
            _check_func(f, origin, f"evaluator.func[{i}]")
        for key in ("result", "expected", "options"):
            if key in ev:
                if not isinstance(ev[key], list) or len(ev[key]) != len(funcs):
                    raise _fail(
                        origin,
                        f"evaluator.{key}",
                        f"must be a list of {len(funcs)} items (one per func)",
                    )
                if key != "options":
                    for i, spec in enumerate(ev[key]):
                        if spec is not None:
                            _check_getter(spec, origin, f"evaluator.{key}[{i}]")
        if ev.get("conj", "and") not in ("and", "or"):
            raise _fail(origin, "evaluator.conj", f"must be 'and' or 'or', got {ev.get('conj')!r}")
    else:
        raise _fail(
            origin, "evaluator.func", f"must be a str or a non-empty list, got {_typename(funcs)}"
        )
    if "postconfig" in ev:
        _validate_steps(ev["postconfig"], origin, "evaluator.postconfig")
    return task


def _check_func(name: Any, origin: str, field: str) -> None:
    if not isinstance(name, str):
        raise _fail(origin, field, f"must be a str, got {_typename(name)}")
    if name not in METRICS:
        raise _fail(origin, field, f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")


def _check_getter(spec: Any, origin: str, field: str) -> None:
    if not isinstance(spec, dict):
        raise _fail(origin, field, f"must be an object, got {_typename(spec)}")
    if "type" not in spec:
        raise _fail(origin, f"{field}.type", "missing required field")
    if spec["type"] not in GETTERS:
        raise _fail(
            origin,
            f"{field}.type",
            f"unknown getter {spec['type']!r}; known: {', '.join(sorted(GETTERS))}",
        )
    if spec["type"].startswith("rule") and not isinstance(spec.get("rules"), dict):
        raise _fail(origin, f"{field}.rules", "missing or not an object")


def _validate_steps(steps: Any, origin: str, field: str) -> None:
    if not isinstance(steps, list):
        raise _fail(origin, field, f"must be a list of steps, got {_typename(steps)}")
    for i, step in enumerate(steps):
        where = f"{field}[{i}]"
        if not isinstance(step, dict):
            raise _fail(origin, where, f"a step must be an object, got {_typename(step)}")
        if "type" not in step:
            raise _fail(origin, f"{where}.type", "missing required field")
        kind = step["type"]
        if kind not in STEP_PARAMS:
            raise _fail(
                origin,
                f"{where}.type",
                f"unknown step type {kind!r}; known: {', '.join(sorted(STEP_PARAMS))}",
            )
        params = step.get("parameters", {})
        if not isinstance(params, dict):
            raise _fail(
                origin, f"{where}.parameters", f"must be an object, got {_typename(params)}"
            )
        for name in REQUIRED_PARAMS.get(kind, ()):
            if name not in params:
                raise _fail(origin, f"{where}.parameters.{name}", f"missing (required by {kind})")
        for name, value in params.items():
            allowed = STEP_PARAMS[kind].get(name)
            if allowed is None:
                raise _fail(origin, f"{where}.parameters.{name}", f"unknown parameter of {kind}")
            if not isinstance(value, allowed) or isinstance(value, bool) and bool not in allowed:
                names = " or ".join(t.__name__ for t in allowed)
                raise _fail(
                    origin, f"{where}.parameters.{name}", f"must be {names}, got {_typename(value)}"
                )


def load_task_file(path: str | Path) -> dict[str, Any]:
    """Read and validate one task file."""
    path = Path(path)
    try:
        task = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TaskError(f"{path}: not valid JSON: {exc}") from None
    return validate_task(task, str(path))


class TaskSet:
    """Tasks of a directory, keyed by file stem; ``index`` holds the ``test_*.json`` lists."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.index: dict[str, list[str]] = {}
        for sub in ("tasks", "noisy_tasks"):
            for file in sorted((self.root / sub).glob("*.json")):
                self.tasks[file.stem] = load_task_file(file)
        for file in sorted(self.root.glob("test_*.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            ids = [i for ids in data.values() for i in ids]
            for task_id in ids:
                if task_id not in self.tasks:
                    raise TaskError(
                        f"{file}: lists {task_id!r}, which has no task file under {self.root}"
                    )
            self.index[file.stem] = ids

    def __iter__(self):
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __contains__(self, key: str) -> bool:
        return key in self.tasks

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self.tasks[key]

    def keys(self) -> list[str]:
        return list(self.tasks)


def default_test_data() -> Path:
    """The repository's ``test_data/`` (beside ``envs/``)."""
    return Path(__file__).resolve().parents[2] / "test_data"
