"""OSWorld task JSON: loading and validation, with errors that name the file and the field.

Schema (OSWorld ``desktop_env`` task files): ``id`` str, ``instruction`` str, ``config`` list of
``{"type", "parameters"}`` setup steps, ``evaluator`` ``{"func", "result", "expected",
"options", "conj", "postconfig"}``, optional ``snapshot``, ``source``, ``trajectory``,
``related_apps``, ``proxy``; MiniDesk's own ``minidesk`` record (``task_id``, ``screen_size``,
``plan``) is checked; other keys (``noise_meta``) are kept and ignored.

A directory of task files loads into a ``TaskSet``, in one of two layouts (``detect_layout``):

- OSWorld's own ``evaluation_examples`` when it has an ``examples/`` folder: task files
  ``examples/<domain>/<id>.json``;
- otherwise the seed's test_data layout: ``tasks/<id>.json`` and ``noisy_tasks/<id>_noise.json``.

Either way, index files ``test_*.json`` at the top map a domain to task ids (``test_all.json``,
``test_10tasks.json``), and tasks are keyed by file stem, so a noisy twin (same ``id`` inside) is
``"<id>_noise"``. Index files are read and checked when the set is made; a task file only when
its task is used, so that one bad file blames itself and blocks no other task.

Every problem is a ``TaskError`` whose message names the file (or the task) and the field; a bad
setup step also names the step's index and type.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import envs.minidesk.site_getters  # noqa: F401 - registers the site getters before any check
from envs.minidesk.evaluators import GETTERS, METRICS
from envs.minidesk.setup_steps import STEP_PARAMS, StepParamError, check_parameters
from envs.minidesk.site_check import unknown_sites

OPTIONAL_STR_FIELDS = ("snapshot", "source", "trajectory")
TEST_DATA_FOLDERS = ("tasks", "noisy_tasks")
"""The test_data layout's folders of task files."""
OSWORLD_EXAMPLES = "examples"
"""OSWorld's ``evaluation_examples`` folder of ``<domain>/<id>.json`` task files."""
INDEX_PATTERN = "test_*.json"
"""Index files at a task directory's top: ``{domain: [task ids]}``."""


class TaskError(ValueError):
    """A task (or index) file that cannot be read or does not follow the schema; the message
    names the file (or the task id) and the field."""


class UnknownSiteError(TaskError):
    """A task that needs a web site MiniDesk does not simulate (``site_check``); the message
    names the file (or the task id) and the site."""


def _fail(origin: str, field: str, problem: str) -> TaskError:
    return TaskError(f"{origin}: field {field!r}: {problem}")


def _typename(value: Any) -> str:
    return type(value).__name__


def _origin(task: Any, origin: str | None) -> str:
    """What errors name: ``origin`` (a file) and the task's id where it has one."""
    task_id = task.get("id") if isinstance(task, dict) else None
    named = f"task {task_id!r}" if isinstance(task_id, str) and task_id else None
    if origin is None:
        return named or "<task>"
    return f"{origin} ({named})" if named and repr(task_id) not in origin else origin


def validate_task(task: Any, origin: str | None = None) -> dict[str, Any]:
    """Check ``task`` against the schema; returns it unchanged.

    Args:
        task: The task's JSON value.
        origin: Where it came from (a file path) for the messages; the task's id is added.

    Raises:
        TaskError: naming ``origin`` and the task id, and the offending field (a setup step's
            also its index and type).
    """
    origin = _origin(task, origin)
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
    _validate_meta(task.get("minidesk", {}), origin)
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
                for i, spec in enumerate(ev[key]):
                    if key == "options":
                        if not isinstance(spec, dict):
                            raise _fail(
                                origin,
                                f"evaluator.options[{i}]",
                                f"must be an object, got {_typename(spec)}",
                            )
                    elif spec is not None:
                        _check_getter(spec, origin, f"evaluator.{key}[{i}]")
        if ev.get("conj", "and") not in ("and", "or"):
            raise _fail(origin, "evaluator.conj", f"must be 'and' or 'or', got {ev.get('conj')!r}")
    else:
        raise _fail(
            origin, "evaluator.func", f"must be a str or a non-empty list, got {_typename(funcs)}"
        )
    if "postconfig" in ev:
        _validate_steps(ev["postconfig"], origin, "evaluator.postconfig")
    missing = unknown_sites(task)
    if missing:
        raise UnknownSiteError(
            f"{origin}: site {missing[0]!r} is not simulated by MiniDesk"
            + (f" (nor {', '.join(map(repr, missing[1:]))})" if missing[1:] else "")
        )
    return task


def _check_func(name: Any, origin: str, field: str) -> None:
    if not isinstance(name, str):
        raise _fail(origin, field, f"must be a str, got {_typename(name)}")
    if name == "":
        raise _fail(origin, field, "empty: the task file has no evaluator, so it cannot be scored")
    if name not in METRICS:
        raise _fail(origin, field, f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")


def _check_getter(spec: Any, origin: str, field: str) -> None:
    if not isinstance(spec, dict):
        raise _fail(origin, field, f"must be an object, got {_typename(spec)}")
    if "type" not in spec:
        raise _fail(origin, f"{field}.type", "missing required field")
    if not isinstance(spec["type"], str) or spec["type"] not in GETTERS:
        raise _fail(
            origin,
            f"{field}.type",
            f"unknown getter {spec['type']!r:.60}; known: {', '.join(sorted(GETTERS))}",
        )
    if spec["type"].startswith("rule") and not isinstance(spec.get("rules"), dict):
        raise _fail(origin, f"{field}.rules", "missing or not an object")


def _validate_meta(meta: Any, origin: str) -> None:
    """MiniDesk's own ``minidesk`` record (procedural tasks): the keys the env reads."""
    if not isinstance(meta, dict):
        raise _fail(origin, "minidesk", f"must be an object, got {_typename(meta)}")
    if "task_id" in meta and not isinstance(meta["task_id"], str):
        raise _fail(origin, "minidesk.task_id", f"must be a str, got {_typename(meta['task_id'])}")
    size = meta.get("screen_size")
    if size is not None and not (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise _fail(origin, "minidesk.screen_size", f"must be [width, height], got {size!r:.60}")
    if "plan" in meta and not isinstance(meta["plan"], list):
        raise _fail(origin, "minidesk.plan", f"must be a list, got {_typename(meta['plan'])}")


def _validate_steps(steps: Any, origin: str, field: str) -> None:
    if not isinstance(steps, list):
        raise _fail(origin, field, f"must be a list of steps, got {_typename(steps)}")
    for i, step in enumerate(steps):
        where = f"{field}[{i}]"
        if not isinstance(step, dict):
            raise _fail(origin, where, f"step {i}: must be an object, got {_typename(step)}")
        if "type" not in step:
            raise _fail(origin, f"{where}.type", f"step {i}: missing required field")
        kind = step["type"]
        if not isinstance(kind, str) or kind not in STEP_PARAMS:
            raise _fail(
                origin,
                f"{where}.type",
                f"step {i}: unknown step type {kind!r:.60}; known: {', '.join(sorted(STEP_PARAMS))}",
            )
        params = step.get("parameters", {})
        if not isinstance(params, dict):
            raise _fail(
                origin,
                f"{where}.parameters",
                f"step {i} ({kind}): must be an object, got {_typename(params)}",
            )
        try:
            check_parameters(kind, params)
        except StepParamError as error:
            raise _fail(
                origin, f"{where}.parameters.{error.where}", f"step {i} ({kind}): {error.problem}"
            ) from None


def _read_json(path: Path, what: str) -> Any:
    """The JSON value of the ``what`` (``"task file"``, ``"index file"``) at ``path``.

    Raises:
        TaskError: naming ``path``: unreadable (a folder, a symlink loop, not UTF-8) or not JSON
            (nested too deeply included).
    """
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "Is a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise TaskError(f"{path}: cannot read the {what}: {kind}")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:  # missing, a symlink loop, no permission
        raise TaskError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TaskError(f"{path}: not valid JSON: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError
        raise TaskError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise TaskError(f"{path}: not valid JSON: nested too deeply") from None


def load_task_file(path: str | Path) -> dict[str, Any]:
    """Read and validate one task file.

    Raises:
        TaskError: naming the file (and the task id and field where it has them).
    """
    path = Path(path)
    return validate_task(_read_json(path, "task file"), str(path))


def _is_id_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, str) and i for i in value)


def detect_layout(root: str | Path) -> str:
    """``"osworld"`` when ``root`` has an ``examples/`` folder (OSWorld's ``evaluation_examples``:
    ``examples/<domain>/<id>.json``), else ``"test_data"`` (``tasks/``, ``noisy_tasks/``)."""
    return "osworld" if (Path(root) / OSWORLD_EXAMPLES).is_dir() else "test_data"


class TaskSet:
    """The tasks of a directory (either layout, ``detect_layout``), keyed by file stem.

    A task file is read and validated the first time its task is looked up (``ts[key]``), so a
    bad file raises only for its own task; ``index`` holds the ``test_*.json`` lists, read and
    checked here.

    Args:
        root: The directory.

    Raises:
        TaskError: an index file that cannot be read, is not ``{domain: [task ids]}`` or lists a
            task without a file (the message names the index file).
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.layout = detect_layout(self.root)
        self.files: dict[str, Path] = {}
        self._duplicates: dict[str, list[Path]] = {}
        self._loaded: dict[str, dict[str, Any]] = {}
        if self.layout == "osworld":
            found = sorted((self.root / OSWORLD_EXAMPLES).glob("*/*.json"))
        else:
            found = [
                f for sub in TEST_DATA_FOLDERS for f in sorted((self.root / sub).glob("*.json"))
            ]
        for file in found:
            if file.stem in self.files:
                self._duplicates.setdefault(file.stem, [self.files[file.stem]]).append(file)
            else:
                self.files[file.stem] = file
        self.index: dict[str, list[str]] = {
            file.stem: self._read_index(file) for file in sorted(self.root.glob(INDEX_PATTERN))
        }

    def _read_index(self, file: Path) -> list[str]:
        data = _read_json(file, "index file")
        if not isinstance(data, dict):
            raise TaskError(
                f"{file}: an index file must be a JSON object {{domain: [task ids]}}, "
                f"got {_typename(data)}"
            )
        not_ids = [d for d, listed in data.items() if not _is_id_list(listed)]
        if not_ids:
            raise TaskError(f"{file}: domain {not_ids[0]!r} must map to a list of task ids")
        ids = [task_id for listed in data.values() for task_id in listed]
        missing = [task_id for task_id in ids if task_id not in self.files]
        if missing:
            raise TaskError(
                f"{file}: lists {missing[0]!r}, which has no task file under {self.root}"
            )
        return ids

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def __contains__(self, key: str) -> bool:
        return key in self.files

    def __getitem__(self, key: str) -> dict[str, Any]:
        """The task of file stem ``key``, read and validated on first use.

        Raises:
            KeyError: no task file has that stem.
            TaskError: the file cannot be read or breaks the schema, or two domains hold a file
                of that name (the message names the files).
        """
        task = self._loaded.get(key)
        if task is not None:
            return task
        if key in self._duplicates:
            names = ", ".join(str(p) for p in self._duplicates[key])
            raise TaskError(f"task id {key!r} has several task files: {names}; keep one")
        task = load_task_file(self.files[key])
        self._loaded[key] = task
        return task

    def keys(self) -> list[str]:
        return list(self.files)


def default_test_data() -> Path:
    """The repository's ``test_data/`` (beside ``envs/``)."""
    return Path(__file__).resolve().parents[2] / "test_data"
