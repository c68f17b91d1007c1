"""Task selection (``arpo select-tasks``): ARPO's valuable-task filter and middle difficulty.

ARPO keeps the tasks a policy solved at least ``min_success`` times in N trials (the paper keeps
128 of 369 OSWorld tasks with 16 trials of UI-TARS-1.5-7B); "middle difficulty" selection also
bounds the success rate to ``[min_rate, max_rate]``. The selection is written as a task list
(``rollout.tasks``' format), so it feeds back into training and ``arpo eval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rllib_arpo.evaluation.errors import EvalError
from rllib_arpo.evaluation.records import EpisodeResult, write_csv, write_json
from rllib_arpo.rollout.tasks import TaskRef, write_task_list

RATE_TOLERANCE = 1e-12
"""Slack on ``--min-rate``/``--max-rate`` so that e.g. 0.1 keeps a task at exactly 1/10."""
SELECTED_TASKS_JSON = "selected_tasks.json"
TASK_SUCCESS_CSV = "task_success.csv"
TASK_SUCCESS_JSON = "task_success.json"


@dataclass(frozen=True)
class TaskCount:
    """One task's successes in a selection run.

    Attributes:
        ref: The task.
        trials: Episodes run.
        valid: Episodes without env errors.
        successes: Solved episodes.
        selected: Whether ``select_tasks`` kept it.
    """

    ref: TaskRef
    trials: int
    valid: int
    successes: int
    selected: bool = False

    @property
    def success_rate(self) -> float | None:
        """``successes / valid``; None when no episode is valid."""
        return self.successes / self.valid if self.valid else None


def count_successes(refs: Sequence[TaskRef], episodes: Sequence[EpisodeResult]) -> list[TaskCount]:
    """Per task of ``refs`` (in order): trials, valid trials and successes.

    Args:
        refs: The tasks run.
        episodes: Every episode of the run.
    """
    by_ref: dict[TaskRef, list[EpisodeResult]] = {ref: [] for ref in refs}
    for episode in episodes:
        by_ref.setdefault(TaskRef(episode.domain, episode.task_id), []).append(episode)
    counts = []
    for ref, items in by_ref.items():
        valid = [e for e in items if not e.env_error]
        counts.append(TaskCount(ref, len(items), len(valid), sum(e.success for e in valid)))
    return counts


def select_tasks(
    counts: Sequence[TaskCount],
    *,
    min_success: int = 1,
    min_rate: float | None = None,
    max_rate: float | None = None,
) -> list[TaskCount]:
    """ARPO's valuable-task filter, and middle-difficulty selection.

    A task is kept when it was solved at least ``min_success`` times and its success rate (over
    trials without env errors) lies within ``[min_rate, max_rate]`` (each bound optional). The
    paper: 16 trials of UI-TARS-1.5-7B, ``min_success=1``, keeps 128 of 369 OSWorld tasks. With
    ``max_rate < 1`` tasks the policy always solves are dropped too: they give GRPO groups
    without reward variance, so no gradient.

    Args:
        counts: Each task's counts (``count_successes``).
        min_success: Fewest successes kept.
        min_rate: Lowest success rate kept, or None.
        max_rate: Highest success rate kept, or None.

    Returns:
        ``counts`` in order with ``selected`` set.

    Raises:
        EvalError: a bound out of range (see ``check_selection_bounds``).
    """
    check_selection_bounds(min_success, min_rate, max_rate)
    out = []
    for count in counts:
        rate = count.success_rate
        keep = (
            rate is not None
            and count.successes >= min_success
            and (min_rate is None or rate >= min_rate - RATE_TOLERANCE)
            and (max_rate is None or rate <= max_rate + RATE_TOLERANCE)
        )
        out.append(TaskCount(count.ref, count.trials, count.valid, count.successes, keep))
    return out


def check_selection_bounds(
    min_success: int, min_rate: float | None, max_rate: float | None
) -> None:
    """Checks ``select_tasks``' bounds before a run.

    Args:
        min_success: Must be >= 0.
        min_rate: None or within [0, 1].
        max_rate: None or within [0, 1], and not below ``min_rate``.

    Raises:
        EvalError: naming the bad bound (as its ``--`` flag) and its value.
    """
    if min_success < 0:
        raise EvalError(f"--min-success must be >= 0, got {min_success}")
    for name, value in (("--min-rate", min_rate), ("--max-rate", max_rate)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise EvalError(f"{name} must be within [0, 1], got {value}")
    if min_rate is not None and max_rate is not None and min_rate > max_rate:
        raise EvalError(f"--min-rate {min_rate} is above --max-rate {max_rate}")


def count_dict(count: TaskCount) -> dict[str, Any]:
    """A count as flat built-in values (a row of ``task_success.csv``).

    Args:
        count: One task's counts.
    """
    return {
        "domain": count.ref.domain,
        "task_id": count.ref.task_id,
        "trials": count.trials,
        "valid": count.valid,
        "successes": count.successes,
        "success_rate": count.success_rate,
        "selected": count.selected,
    }


def write_selection(
    out_dir: Path, counts: Sequence[TaskCount], extra: dict[str, Any]
) -> dict[str, Path]:
    """Writes ``selected_tasks.json`` ({domain: [ids]}) and ``task_success.csv``/``.json``.

    Args:
        out_dir: The output directory (created).
        counts: Every task's counts, ``selected`` set.
        extra: More top-level keys of ``task_success.json`` (settings).

    Returns:
        ``{"selected": path, "csv": path, "json": path}``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = write_task_list(out_dir / SELECTED_TASKS_JSON, [c.ref for c in counts if c.selected])
    rows = [count_dict(c) for c in counts]
    document = {
        "selected": sum(c.selected for c in counts),
        "tasks": len(counts),
        "counts": rows,
        **extra,
    }
    return {
        "selected": selected,
        "csv": write_csv(out_dir / TASK_SUCCESS_CSV, rows, list(rows[0]) if rows else ["task_id"]),
        "json": write_json(out_dir / TASK_SUCCESS_JSON, document),
    }


def format_counts(counts: Sequence[TaskCount]) -> str:
    """Every task's success count, selected ones marked with ``*``.

    Args:
        counts: Every task's counts, ``selected`` set.
    """
    width = max([len("task"), *(len(f"{c.ref.domain}/{c.ref.task_id}") for c in counts)])
    lines = [f"{'task'.ljust(width)}  successes  rate  selected"]
    for c in counts:
        rate = "n/a" if c.success_rate is None else f"{100 * c.success_rate:.0f}%"
        lines.append(
            f"{f'{c.ref.domain}/{c.ref.task_id}'.ljust(width)}  "
            f"{f'{c.successes}/{c.valid}':>9}  {rate:>4}  {'*' if c.selected else ''}"
        )
    return "\n".join(lines)
