"""What ``arpo eval`` and ``arpo select-tasks`` do, one function each, below the click layer.

``evaluate`` and ``select_valuable_tasks`` read the task lists, check the env, the tasks and the policy before
anything runs (a problem the user can fix is one ``EvalError`` or ``TaskListError`` line), run
every (task, trial) once with each finished batch logged to ``episodes.parquet``, and write the
tables (and the HTML report). They return what the command prints; progress lines go to the
``progress`` callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rllib_arpo.evaluation.envs import EnvSpec, check_env, make_env_factory
from rllib_arpo.evaluation.errors import EvalError
from rllib_arpo.evaluation.policies import (
    EXPERT_POLICY,
    EvalPolicy,
    SamplingSettings,
    build_policy,
)
from rllib_arpo.evaluation.report import ImageMode, ReportWriter
from rllib_arpo.evaluation.run import DEFAULT_PARALLEL, EvalRun, TrajectorySink, run_evaluation
from rllib_arpo.evaluation.selection import (
    TaskCount,
    check_selection_bounds,
    count_successes,
    select_tasks,
    write_selection,
)
from rllib_arpo.evaluation.tables import TaskRow, task_table, write_table
from rllib_arpo.outputs.episode_log import EpisodeLogWriter
from rllib_arpo.rollout.tasks import TaskRef, load_task_list, merge_task_lists

EPISODE_LOG = "episodes.parquet"
REPORT_HTML = "report.html"

Progress = Callable[[str], None]
"""Gets one line per event of a run (start, each finished batch)."""


@dataclass(frozen=True)
class EvalSettings:
    """The settings ``arpo eval`` and ``arpo select-tasks`` share.

    Attributes:
        policy: The ``--policy`` value: a checkpoint directory, ``tiny``, ``expert`` or an http(s)
            chat-completions URL (``policies.build_policy``).
        env: Which envs to run on.
        trials: Episodes per task.
        sampling: Sampling of the model policies.
        parallel: Episodes in flight at once; None: the env's limit (osworld: the number of
            servers), else ``DEFAULT_PARALLEL``.
        seed: Seed of resets and sampling.
        device: A local model's device (default: cuda if any).
        step_timeout_s: Limit on one env call.
        model: An endpoint's served model name.
        api_key: An endpoint's bearer key.
        coords: An endpoint's coordinate convention ("absolute" or "relative1000").
        checkpoint: With an endpoint URL: the served checkpoint's local directory (the URL is a
            vLLM server asked in token ids; ``policies.build_policy``).
        log_screenshots: ``episodes.parquet``'s screenshots: "bytes" (in the table) or "files".
    """

    policy: str
    env: EnvSpec
    trials: int = 1
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    parallel: int | None = None
    seed: int = 0
    device: str | None = None
    step_timeout_s: float = 300.0
    model: str = "ui-tars"
    api_key: str | None = None
    coords: str = "absolute"
    checkpoint: str | None = None
    log_screenshots: str = "bytes"

    def record(self, **extra: Any) -> dict[str, Any]:
        """The settings written into the result files (``settings``), then ``extra``.

        Args:
            **extra: More entries (task list paths, parallelism, wall time).
        """
        return {
            "policy": self.policy,
            "env": self.env.name,
            "trials": self.trials,
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "max_new_tokens": self.sampling.max_new_tokens,
            "max_steps": self.env.max_steps,
            "seed": self.seed,
            **extra,
        }


@dataclass(frozen=True)
class EvalOutcome:
    """What ``evaluate`` did.

    Attributes:
        rows: The per-task table.
        run: Every episode's result and the rollout counters.
        written: The files written, in order.
    """

    rows: list[TaskRow]
    run: EvalRun
    written: list[Path]


@dataclass(frozen=True)
class SelectionOutcome:
    """What ``select_valuable_tasks`` did.

    Attributes:
        counts: Every task's counts, ``selected`` set.
        written: The files written, in order.
    """

    counts: list[TaskCount]
    written: list[Path]


def evaluate(
    settings: EvalSettings,
    tasks_path: str,
    out_dir: str | Path,
    *,
    noisy_path: str | None = None,
    report_images: ImageMode | None = "inline",
    progress: Progress | None = None,
) -> EvalOutcome:
    """``arpo eval``: every task ``trials`` times; the table, the parquet log and the report.

    Args:
        settings: Policy, env, trials, sampling, parallelism.
        tasks_path: The task list ``{domain: [ids]}``.
        out_dir: Where ``results.csv``/``.json``, ``episodes.parquet`` and ``report.html`` go.
        noisy_path: The noisy twins' task list (ids ``<id>_noise``), paired with the originals.
        report_images: The report's images, "inline" or "files"; None writes no report.
        progress: Gets the start line and one line per finished batch.

    Raises:
        TaskListError: a task list cannot be read.
        EvalError: a problem with the env, a task, the policy or a setting.
    """
    refs = load_task_list(tasks_path)
    if noisy_path:
        refs = merge_task_lists(refs, load_task_list(noisy_path))
    out = _check_out_dir(out_dir)
    factory, policy, parallel = _prepare(settings, refs, progress)
    _make_out_dir(out, policy)
    record = settings.record(tasks=tasks_path, noisy=noisy_path, parallel=parallel)
    report = None
    if report_images is not None:
        report = ReportWriter(
            out / REPORT_HTML,
            title=f"arpo eval: {settings.policy} on {settings.env.name}",
            images=report_images,
        )
    if progress is not None:
        progress(
            f"evaluating {len(refs)} tasks x {settings.trials} trials with {policy.name} on "
            f"{settings.env.name} ({parallel} in parallel)"
        )
    sinks = [] if report is None else [report.add]
    run = _run_logged(refs, factory, policy, parallel, settings, out, sinks, progress)
    rows = task_table(run.episodes)
    record["wall_s"] = round(run.wall_s, 2)
    record["env_steps"] = run.stats.env_steps
    paths = write_table(out, rows, {"settings": record, "episodes": run.episodes})
    written = [paths["csv"], paths["json"], out / EPISODE_LOG]
    if report is not None:
        written.append(report.write(rows, record))
    return EvalOutcome(rows, run, written)


def select_valuable_tasks(
    settings: EvalSettings,
    tasks_path: str,
    out_dir: str | Path,
    *,
    min_success: int = 1,
    min_rate: float | None = None,
    max_rate: float | None = None,
    progress: Progress | None = None,
) -> SelectionOutcome:
    """``arpo select-tasks``: every task ``trials`` times, then ARPO's valuable-task filter.

    Args:
        settings: Policy, env, trials, sampling, parallelism.
        tasks_path: All tasks, ``{domain: [ids]}``.
        out_dir: Where ``selected_tasks.json``, ``task_success.csv``/``.json`` and
            ``episodes.parquet`` go.
        min_success: Keep tasks solved at least this often.
        min_rate: Keep tasks with a success rate at least this, or None.
        max_rate: Keep tasks with a success rate at most this, or None.
        progress: Gets one line per finished batch.

    Raises:
        TaskListError: the task list cannot be read.
        EvalError: a bound out of range, or a problem with the env, a task or the policy.
    """
    refs = load_task_list(tasks_path)
    check_selection_bounds(min_success, min_rate, max_rate)
    out = _check_out_dir(out_dir)
    factory, policy, parallel = _prepare(settings, refs, progress)
    _make_out_dir(out, policy)
    started = time.perf_counter()
    run = _run_logged(refs, factory, policy, parallel, settings, out, [], progress)
    counts = select_tasks(
        count_successes(refs, run.episodes),
        min_success=min_success,
        min_rate=min_rate,
        max_rate=max_rate,
    )
    record = settings.record(
        tasks=tasks_path,
        min_success=min_success,
        min_rate=min_rate,
        max_rate=max_rate,
        wall_s=round(time.perf_counter() - started, 2),
    )
    paths = write_selection(out, counts, {"settings": record})
    return SelectionOutcome(counts, [*paths.values(), out / EPISODE_LOG])


def _check_out_dir(out_dir: str | Path) -> Path:
    """``--out`` as a path; fails early on one that names a file (or lies below one).

    Raises:
        EvalError: ``out_dir`` or a folder above it exists and is not a directory.
    """
    out = Path(out_dir)
    for path in (out, *out.parents):
        try:
            if path.exists():
                if not path.is_dir():
                    raise EvalError(f"--out {out_dir}: {path} exists and is not a directory")
                break
        except OSError as error:
            raise EvalError(f"--out {out_dir}: {path} cannot be read: {error.strerror}") from None
    return out


def _make_out_dir(out: Path, policy: EvalPolicy) -> None:
    """Creates ``--out`` (closing the policy if that fails).

    Raises:
        EvalError: the directory cannot be created (the message names it and why).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        policy.close()
        raise EvalError(
            f"--out {out}: cannot create the directory: {error.strerror or error}"
        ) from None


def _prepare(
    settings: EvalSettings, refs: Sequence[TaskRef], progress: Progress | None = None
) -> tuple[Callable[[], Any], EvalPolicy, int]:
    """(env factory, policy, parallel); fails early on bad inputs, before a policy loads.

    A task the env knows but cannot load does not stop the run: it is reported to ``progress``
    and its episodes end as env errors that record why.
    """
    factory, env_limit = make_env_factory(settings.env)
    if settings.policy == EXPERT_POLICY and settings.env.name != "minidesk":
        raise EvalError("--policy expert reads MiniDesk's desktop: use it with --env minidesk")
    problems = check_env(factory, settings.env.name, refs)
    if progress is not None:
        for ref, problem in problems.items():
            progress(
                f"task {ref.domain}/{ref.task_id} cannot run, its episodes are recorded as env "
                f"errors: {problem}"
            )
    parallel = settings.parallel or env_limit or DEFAULT_PARALLEL
    if env_limit is not None and parallel > env_limit:
        raise EvalError(f"--parallel {parallel} needs {parallel} env servers, got {env_limit}")
    policy = build_policy(
        settings.policy,
        sampling=settings.sampling,
        seed=settings.seed,
        device=settings.device,
        model=settings.model,
        api_key=settings.api_key,
        coords=settings.coords,
        checkpoint=settings.checkpoint,
    )
    return factory, policy, parallel


def _run_logged(
    refs: Sequence[TaskRef],
    factory: Callable[[], Any],
    policy: EvalPolicy,
    parallel: int,
    settings: EvalSettings,
    out: Path,
    sinks: Sequence[TrajectorySink],
    progress: Progress | None,
) -> EvalRun:
    """Every (task, trial) once, each finished batch written to ``out/episodes.parquet`` (and to
    the extra ``sinks``); the policy is closed afterwards."""
    try:
        with EpisodeLogWriter(
            out / EPISODE_LOG, overwrite=True, screenshots=settings.log_screenshots
        ) as log:
            return run_evaluation(
                refs,
                factory,
                policy,
                trials=settings.trials,
                max_steps=settings.env.max_steps,
                parallel=parallel,
                step_timeout_s=settings.step_timeout_s,
                seed=settings.seed,
                sinks=[lambda trajectories, _results: log.write(trajectories), *sinks],
                progress=progress,
            )
    finally:
        policy.close()
