"""Task lists: OSWorld's ``{domain: [task ids]}`` JSON, the one reader and writer.

Training (``config.tasks``, through ``resolve_task_list``), ``arpo eval`` and ``arpo
select-tasks`` read task lists here; ``select-tasks`` writes its selection in the same format, so
its output feeds back into either. A plain JSON list of ids is read as the domain ``"tasks"``.

A noisy twin of a task (the seed's test_data convention) has the original's id plus
``NOISE_SUFFIX``; ``base_task_id`` maps it back.

Errors name the file and what is wrong with it (``TaskListError``, a ``ValueError``).
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOISE_SUFFIX = "_noise"
"""A noisy twin's id is its original's id plus this (the seed's test_data convention)."""
PLAIN_LIST_DOMAIN = "tasks"
"""The domain of the ids of a task list that is a plain JSON list."""
CONFIG_TASKS = "config.tasks"
"""What ``resolve_task_list``'s errors name: the setting the value came from."""


TASK_ORDERS = ("cycle", "random", "curated")
"""How the algorithm draws each iteration's tasks (``ARPOConfig.task_order``): in turn, at random,
or curated (``core.curation``)."""


class TaskListError(ValueError):
    """A task list that cannot be read: missing, not JSON, or not ``{domain: [ids]}``."""


@dataclass(frozen=True)
class TaskRef:
    """One task of a list: its domain (the JSON key) and id."""

    domain: str
    task_id: str

    @property
    def base_id(self) -> str:
        """The original's id (``<id>_noise`` -> ``<id>``)."""
        return base_task_id(self.task_id)

    @property
    def is_noisy(self) -> bool:
        """Whether this is a noisy twin (its id ends with ``NOISE_SUFFIX``)."""
        return self.task_id.endswith(NOISE_SUFFIX)


def base_task_id(task_id: str) -> str:
    """The original's id of a noisy twin; other ids unchanged.

    Args:
        task_id: A task id, e.g. ``"<id>_noise"`` (-> ``"<id>"``).
    """
    return task_id[: -len(NOISE_SUFFIX)] if task_id.endswith(NOISE_SUFFIX) else task_id


def load_task_list(path: str | Path) -> list[TaskRef]:
    """Reads an OSWorld task list ``{domain: [ids]}`` (a plain JSON list of ids is domain "tasks").

    Args:
        path: The JSON file.

    Returns:
        The tasks in file order.

    Raises:
        TaskListError: the file is missing or unreadable (a folder, a symlink loop), is not JSON
            (or nested too deeply to read), or has another shape (the message names it).
    """
    path = Path(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise TaskListError(f"task list {path} is not a file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskListError(f"task list {path} does not exist") from None
    except OSError as error:  # a symlink loop, no permission, ...
        raise TaskListError(f"task list {path} cannot be read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise TaskListError(f"task list {path} is not valid JSON: {error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:  # JSONDecodeError
        raise TaskListError(f"task list {path} is not valid JSON: {error}") from None
    except RecursionError:
        raise TaskListError(f"task list {path} is not valid JSON: nested too deeply") from None
    if isinstance(data, list):
        data = {PLAIN_LIST_DOMAIN: data}
    if not isinstance(data, dict):
        raise TaskListError(
            f"task list {path} must be a JSON object {{domain: [task ids]}}, "
            f"got {type(data).__name__}"
        )
    refs: list[TaskRef] = []
    for domain, ids in data.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise TaskListError(
                f"task list {path}: domain {domain!r} must map to a list of task ids"
            )
        refs.extend(TaskRef(str(domain), task_id) for task_id in ids)
    if not refs:
        raise TaskListError(f"task list {path} lists no tasks")
    return refs


def resolve_task_list(tasks: Any) -> list[Any]:
    """``config.tasks`` -> the task ids/dicts to train on.

    Args:
        tasks: None (no tasks: the caller picks its default), a list or tuple of task ids or task
            dicts (returned as a list), or the path of a task-list file (read by
            ``load_task_list``; its ids are returned, domains dropped).

    Raises:
        TaskListError: the file cannot be read; the message starts with ``config.tasks:`` and names
            the file.
    """
    if tasks is None:
        return []
    if isinstance(tasks, (list, tuple)):
        return list(tasks)
    try:
        return [ref.task_id for ref in load_task_list(tasks)]
    except TaskListError as error:
        raise TaskListError(f"{CONFIG_TASKS}: {error}") from None


def merge_task_lists(*lists: Iterable[TaskRef]) -> list[TaskRef]:
    """The lists concatenated, first occurrence of each (domain, id) kept.

    Args:
        *lists: Task lists, e.g. the originals and their noisy twins.
    """
    seen: dict[TaskRef, None] = {}
    for refs in lists:
        for ref in refs:
            seen.setdefault(ref, None)
    return list(seen)


def task_list_dict(refs: Iterable[TaskRef]) -> dict[str, list[str]]:
    """``{domain: [ids]}`` in first-seen order (OSWorld's task list format).

    Args:
        refs: The tasks.
    """
    out: dict[str, list[str]] = {}
    for ref in refs:
        out.setdefault(ref.domain, []).append(ref.task_id)
    return out


def write_task_list(path: str | Path, refs: Iterable[TaskRef]) -> Path:
    """Writes ``{domain: [ids]}`` JSON (what ``load_task_list`` and OSWorld's runners read).

    Args:
        path: The file to write (its folder is created).
        refs: The tasks, in the order to write them.

    Returns:
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(task_list_dict(refs), indent=2) + "\n", encoding="utf-8")
    return path
