"""Episode records of an evaluation, and the CSV/JSON files the tables are written to.

An ``EpisodeResult`` is one (task, trial) episode reduced to what the tables count: success,
steps, and how it ended. Episodes whose env failed (``terminated_by == "env_error"``) say nothing
about the policy: the tables count them apart and leave them out of success rates.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rllib_arpo.core.trajectory import SUCCESS_THRESHOLD, Termination, Trajectory
from rllib_arpo.rollout.tasks import TaskRef


@dataclass(frozen=True)
class EpisodeResult:
    """One episode's outcome (a row of ``results.json``'s ``episodes``).

    Attributes:
        domain: The task list's domain.
        task_id: The task's id (a noisy twin's ends with ``_noise``).
        trial: Which of the task's trials, from 0.
        episode_id: The trajectory's id (the parquet log's key).
        eval_result: The evaluator's score.
        success: ``eval_result`` above ``SUCCESS_THRESHOLD``.
        steps: Steps taken.
        terminated_by: How the episode ended (a ``Termination`` value).
        format_error: Ended by an unparsable answer.
        env_error: Ended by an env failure.
        error: What went wrong, or None: the env's error (a task that cannot be loaded or set
            up, a failed step), else the evaluator's, else the unparsable answer's.
    """

    domain: str
    task_id: str
    trial: int
    episode_id: str
    eval_result: float
    success: bool
    steps: int
    terminated_by: str
    format_error: bool
    env_error: bool
    error: str | None = None


ERROR_CHARS = 2000
"""Longest ``EpisodeResult.error`` kept (an answer or message can be long)."""


def episode_result(
    ref: TaskRef,
    trial: int,
    trajectory: Trajectory | None,
    fallback_id: str,
    reset_error: str | None = None,
) -> EpisodeResult:
    """The record of one episode.

    Args:
        ref: The episode's task.
        trial: Which trial of the task.
        trajectory: The episode, or None when it never reached the policy (counted as an env
            error).
        fallback_id: The episode id to record when there is no trajectory.
        reset_error: Why the env could not be reset to the task (a task file that cannot be
            loaded, a setup step that fails), for an episode that never got a step.
    """
    if trajectory is None:  # never reached the policy (cannot happen with GroupRollout today)
        return EpisodeResult(
            ref.domain, ref.task_id, trial, fallback_id, 0.0, False, 0,
            Termination.ENV_ERROR.value, False, True, _clip(reset_error),
        )  # fmt: skip
    terminated_by = trajectory.terminated_by.value
    return EpisodeResult(
        domain=ref.domain,
        task_id=ref.task_id,
        trial=trial,
        episode_id=trajectory.episode_id,
        eval_result=float(trajectory.eval_result),
        success=trajectory.is_success(SUCCESS_THRESHOLD),
        steps=trajectory.num_steps,
        terminated_by=terminated_by,
        format_error=terminated_by == Termination.PARSE_ERROR.value,
        env_error=terminated_by == Termination.ENV_ERROR.value,
        error=_clip(_error_of(trajectory, reset_error)),
    )


def _error_of(trajectory: Trajectory, reset_error: str | None) -> str | None:
    """What went wrong in the episode (see ``EpisodeResult.error``), or None."""
    if not trajectory.steps:
        return reset_error if trajectory.terminated_by is Termination.ENV_ERROR else None
    last = trajectory.steps[-1]
    for key in ("error", "eval_error"):
        if last.env_info.get(key):
            return str(last.env_info[key])
    if last.parse_error:
        return f"unparsable answer ({last.parse_error}): {last.response_text}"
    return None


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= ERROR_CHARS:
        return text
    return text[:ERROR_CHARS] + "..."


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Path:
    """Writes ``rows`` as CSV with a header, None as an empty cell.

    Args:
        path: The file to write.
        rows: Flat rows keyed by ``columns``.
        columns: The header, in order.

    Returns:
        ``path``.
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return path


def write_json(path: Path, document: Mapping[str, Any]) -> Path:
    """Writes ``document`` as indented JSON; dataclasses (``EpisodeResult``) and paths included.

    Args:
        path: The file to write.
        document: Built-in values, dataclass instances and paths.

    Returns:
        ``path``.
    """
    path.write_text(json.dumps(document, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    return path


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
