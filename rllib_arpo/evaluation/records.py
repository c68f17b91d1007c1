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


def episode_result(
    ref: TaskRef, trial: int, trajectory: Trajectory | None, fallback_id: str
) -> EpisodeResult:
    """The record of one episode.

    Args:
        ref: The episode's task.
        trial: Which trial of the task.
        trajectory: The episode, or None when it never reached the policy (counted as an env
            error).
        fallback_id: The episode id to record when there is no trajectory.
    """
    if trajectory is None:  # never reached the policy (cannot happen with GroupRollout today)
        return EpisodeResult(
            ref.domain, ref.task_id, trial, fallback_id, 0.0, False, 0,
            Termination.ENV_ERROR.value, False, True,
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
    )


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
