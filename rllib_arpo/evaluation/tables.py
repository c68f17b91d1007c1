"""The per-task table of ``arpo eval``: each task beside its noisy twin, as text, CSV and JSON.

``task_table`` pairs a task with its noisy twin (``<id>_noise``) and reports the success rate of
each, the delta, mean steps, format and env errors. Env-error episodes are counted apart and left
out of success rates (they say nothing about the policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rllib_arpo.evaluation.records import EpisodeResult, write_csv, write_json
from rllib_arpo.rollout.tasks import base_task_id

RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
TABLE_COLUMNS = (
    "domain", "task_id",
    "original_trials", "original_successes", "original_success_rate",
    "noisy_trials", "noisy_successes", "noisy_success_rate",
    "delta", "mean_steps", "mean_steps_original", "mean_steps_noisy",
    "format_errors", "env_errors",
)  # fmt: skip
"""Columns of ``results.csv`` (one row per task and its noisy twin)."""


@dataclass(frozen=True)
class VariantStats:
    """One task variant's episodes (the original or the noisy twin).

    Attributes:
        trials: Episodes run.
        valid: Episodes without env errors (the denominator of ``success_rate``).
        successes: Episodes the evaluator scored above ``SUCCESS_THRESHOLD``.
        success_rate: ``successes / valid``; None when no episode is valid.
        mean_steps: Mean steps over valid episodes; None when none.
        format_errors: Episodes ended by an unparsable answer.
        env_errors: Episodes ended by an env failure.
    """

    trials: int
    valid: int
    successes: int
    success_rate: float | None
    mean_steps: float | None
    format_errors: int
    env_errors: int


def variant_stats(episodes: Sequence[EpisodeResult]) -> VariantStats:
    """The counts of one variant's episodes.

    Args:
        episodes: Every episode of one task variant.
    """
    valid = [e for e in episodes if not e.env_error]
    successes = sum(e.success for e in valid)
    return VariantStats(
        trials=len(episodes),
        valid=len(valid),
        successes=successes,
        success_rate=successes / len(valid) if valid else None,
        mean_steps=sum(e.steps for e in valid) / len(valid) if valid else None,
        format_errors=sum(e.format_error for e in episodes),
        env_errors=sum(e.env_error for e in episodes),
    )


@dataclass(frozen=True)
class TaskRow:
    """One row of the per-task table: a task and its noisy twin.

    Attributes:
        domain: The task list's domain.
        task_id: The original's id (the noisy twin is ``task_id + "_noise"``).
        original: Stats of the original, or None when it was not run.
        noisy: Stats of the noisy twin, or None when it was not run.
        delta: ``noisy.success_rate - original.success_rate`` when both exist.
    """

    domain: str
    task_id: str
    original: VariantStats | None
    noisy: VariantStats | None
    delta: float | None

    @property
    def all_steps(self) -> float | None:
        """Mean steps over the valid episodes of both variants."""
        parts = [v for v in (self.original, self.noisy) if v is not None and v.valid]
        total = sum(v.valid for v in parts)
        return sum(v.mean_steps * v.valid for v in parts) / total if total else None  # type: ignore[operator]

    @property
    def format_errors(self) -> int:
        """Format errors of both variants."""
        return sum(v.format_errors for v in (self.original, self.noisy) if v is not None)

    @property
    def env_errors(self) -> int:
        """Env errors of both variants."""
        return sum(v.env_errors for v in (self.original, self.noisy) if v is not None)


def task_table(episodes: Sequence[EpisodeResult]) -> list[TaskRow]:
    """Per-task rows, a noisy twin (``<id>_noise``) on its original's row, first-seen order.

    Args:
        episodes: Every episode of a run.
    """
    groups: dict[tuple[str, str], dict[bool, list[EpisodeResult]]] = {}
    for episode in episodes:
        base_id = base_task_id(episode.task_id)
        variants = groups.setdefault((episode.domain, base_id), {False: [], True: []})
        variants[episode.task_id != base_id].append(episode)
    rows = []
    for (domain, task_id), variants in groups.items():
        original = variant_stats(variants[False]) if variants[False] else None
        noisy = variant_stats(variants[True]) if variants[True] else None
        delta = None
        if original and noisy and None not in (original.success_rate, noisy.success_rate):
            delta = noisy.success_rate - original.success_rate  # type: ignore[operator]
        rows.append(TaskRow(domain, task_id, original, noisy, delta))
    return rows


def summary(rows: Sequence[TaskRow]) -> dict[str, Any]:
    """Overall success rates (over episodes), the paired delta and error counts.

    Args:
        rows: The per-task table.
    """

    def pooled(variants: list[VariantStats]) -> float | None:
        valid = sum(v.valid for v in variants)
        return sum(v.successes for v in variants) / valid if valid else None

    originals = [r.original for r in rows if r.original is not None]
    noisies = [r.noisy for r in rows if r.noisy is not None]
    deltas = [r.delta for r in rows if r.delta is not None]
    return {
        "tasks": len(rows),
        "episodes": sum(v.trials for v in originals + noisies),
        "success_rate_original": pooled(originals),
        "success_rate_noisy": pooled(noisies),
        "mean_delta": sum(deltas) / len(deltas) if deltas else None,
        "pairs": len(deltas),
        "format_errors": sum(r.format_errors for r in rows),
        "env_errors": sum(r.env_errors for r in rows),
    }


def row_dict(row: TaskRow) -> dict[str, Any]:
    """A table row as flat built-in values (``TABLE_COLUMNS``; None where not run).

    Args:
        row: One row of the per-task table.
    """
    o, n = row.original, row.noisy
    return {
        "domain": row.domain,
        "task_id": row.task_id,
        "original_trials": o.trials if o else None,
        "original_successes": o.successes if o else None,
        "original_success_rate": o.success_rate if o else None,
        "noisy_trials": n.trials if n else None,
        "noisy_successes": n.successes if n else None,
        "noisy_success_rate": n.success_rate if n else None,
        "delta": row.delta,
        "mean_steps": row.all_steps,
        "mean_steps_original": o.mean_steps if o else None,
        "mean_steps_noisy": n.mean_steps if n else None,
        "format_errors": row.format_errors,
        "env_errors": row.env_errors,
    }


def _rate(v: VariantStats | None) -> str:
    if v is None:
        return "-"
    if v.success_rate is None:
        return f"n/a (0/{v.trials})"
    return f"{100 * v.success_rate:.0f}% ({v.successes}/{v.valid})"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.0f}%"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def format_table(rows: Sequence[TaskRow]) -> str:
    """The per-task table as aligned text, with a total line.

    Args:
        rows: The per-task table.
    """
    header = ("task", "original", "noisy", "delta", "mean steps", "format errors", "env errors")
    lines = [
        (
            f"{r.domain}/{r.task_id}",
            _rate(r.original),
            _rate(r.noisy),
            _signed(r.delta),
            "-" if r.all_steps is None else f"{r.all_steps:.1f}",
            str(r.format_errors),
            str(r.env_errors),
        )
        for r in rows
    ]
    total = summary(rows)
    lines.append(
        (
            f"all ({total['tasks']} tasks, {total['episodes']} episodes)",
            _pct(total["success_rate_original"]),
            _pct(total["success_rate_noisy"]),
            _signed(total["mean_delta"]),
            "",
            str(total["format_errors"]),
            str(total["env_errors"]),
        )
    )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(c) for c in lines[:-1]), rule, fmt(lines[-1])])


def write_table(out_dir: Path, rows: Sequence[TaskRow], extra: dict[str, Any]) -> dict[str, Path]:
    """Writes ``results.csv`` (``TABLE_COLUMNS``) and ``results.json`` (rows, summary, ``extra``).

    Args:
        out_dir: The output directory (created).
        rows: The per-task table.
        extra: More top-level keys of ``results.json`` (settings, episodes).

    Returns:
        ``{"csv": path, "json": path}``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    flat = [row_dict(r) for r in rows]
    document = {"summary": summary(rows), "tasks": flat, **extra}
    return {
        "csv": write_csv(out_dir / RESULTS_CSV, flat, TABLE_COLUMNS),
        "json": write_json(out_dir / RESULTS_JSON, document),
    }
