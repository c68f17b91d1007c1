"""``arpo eval`` and ``arpo select-tasks``: thin over ``rllib_arpo.evaluation.run``.

``register(group)`` adds both commands to the ``arpo`` group. Errors a user can fix (missing or
malformed task lists, an unknown env or task, a policy path that does not load) end the command
with one ``Error: ...`` line and exit status 1.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

TOKEN_ENV_VAR = "ARPO_ENV_TOKEN"
OPENAI_KEY_ENV_VAR = "OPENAI_API_KEY"


def _shared_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options common to ``eval`` and ``select-tasks`` (policy, env, sampling, parallelism)."""
    options = [
        click.option(
            "--policy",
            required=True,
            help="A checkpoint directory, 'tiny' (the cached tiny model), 'expert' (MiniDesk's "
            "scripted expert) or an http(s):// OpenAI-compatible chat-completions URL.",
        ),
        click.option(
            "--env",
            "env_name",
            default="minidesk",
            show_default=True,
            help="minidesk, osworld (through env servers) or miniwob.",
        ),
        click.option("--trials", default=1, show_default=True, help="Episodes per task."),
        click.option("--temperature", default=1.0, show_default=True, help="0 = greedy."),
        click.option("--top-p", default=1.0, show_default=True, help="Nucleus sampling mass."),
        click.option("--max-new-tokens", default=512, show_default=True, help="Per answer."),
        click.option("--max-steps", default=15, show_default=True, help="Steps per episode."),
        click.option(
            "--parallel",
            default=None,
            type=int,
            help="Episodes in flight at once [default: 32; osworld: the number of servers].",
        ),
        click.option("--seed", default=0, show_default=True, help="Seed of resets and sampling."),
        click.option("--device", default=None, help="cpu, cuda, cuda:1 [default: cuda if any]."),
        click.option(
            "--screen-size", default="448x336", show_default=True, help="MiniDesk screen WxH."
        ),
        click.option(
            "--task-dir", default=None, help="MiniDesk: a directory of OSWorld task files."
        ),
        click.option(
            "--server-url",
            "server_urls",
            multiple=True,
            help="osworld: env server URL (repeat, or comma-separate: one env per server).",
        ),
        click.option("--token", default=None, help=f"osworld: server token [${TOKEN_ENV_VAR}]."),
        click.option(
            "--step-timeout-s", default=300.0, show_default=True, help="Limit on one env call."
        ),
        click.option(
            "--model", default="ui-tars", show_default=True, help="OpenAI URL: model name."
        ),
        click.option(
            "--api-key", default=None, help=f"OpenAI URL: bearer key [${OPENAI_KEY_ENV_VAR}]."
        ),
        click.option(
            "--log-screenshots",
            type=click.Choice(["bytes", "files"]),
            default="bytes",
            show_default=True,
            help="episodes.parquet: screenshots as PNG bytes in the table, or PNG files beside it "
            "(episodes_images/).",
        ),
        click.option(
            "--coords",
            type=click.Choice(["absolute", "relative1000"]),
            default="absolute",
            show_default=True,
            help="OpenAI URL: the model's coordinates (UI-TARS-1.5: absolute).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """``EvalError`` (and unreadable inputs) -> ``Error: <one line>``, exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rllib_arpo.evaluation.run import EvalError

        try:
            return command(*args, **kwargs)
        except EvalError as error:
            raise click.ClickException(" ".join(str(error).split())) from None

    return wrapper


def _prepare(options: dict[str, Any], refs: list[Any]) -> tuple[Any, Any, int]:
    """(env factory, policy, parallel) from the shared options; fails early on bad inputs."""
    from rllib_arpo.evaluation.run import (
        DEFAULT_PARALLEL,
        EnvSpec,
        EvalError,
        SamplingSettings,
        build_policy,
        check_env,
        make_env_factory,
    )

    try:
        width, height = (int(v) for v in options["screen_size"].lower().split("x"))
    except ValueError:
        raise EvalError(
            f"--screen-size must be WIDTHxHEIGHT such as 448x336, got {options['screen_size']!r}"
        ) from None
    urls = tuple(u.strip() for value in options["server_urls"] for u in value.split(",") if u)
    spec = EnvSpec(
        name=options["env_name"],
        max_steps=options["max_steps"],
        screen_size=(width, height),
        task_dir=options["task_dir"],
        server_urls=urls,
        token=options["token"] or os.environ.get(TOKEN_ENV_VAR),
    )
    factory, env_limit = make_env_factory(spec)
    if options["policy"] == "expert" and spec.name != "minidesk":
        raise EvalError("--policy expert reads MiniDesk's desktop: use it with --env minidesk")
    check_env(factory, spec.name, refs)
    parallel = options["parallel"] or env_limit or DEFAULT_PARALLEL
    if env_limit is not None and parallel > env_limit:
        raise EvalError(f"--parallel {parallel} needs {parallel} env servers, got {env_limit}")
    sampling = SamplingSettings(
        temperature=options["temperature"],
        top_p=options["top_p"],
        max_new_tokens=options["max_new_tokens"],
    )
    policy = build_policy(
        options["policy"],
        sampling=sampling,
        seed=options["seed"],
        device=options["device"],
        model=options["model"],
        api_key=options["api_key"] or os.environ.get(OPENAI_KEY_ENV_VAR),
        coords=options["coords"],
    )
    return factory, policy, parallel


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _settings(options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    keep = ("policy", "env_name", "trials", "temperature", "top_p", "max_new_tokens",
            "max_steps", "seed")  # fmt: skip
    settings = {("env" if k == "env_name" else k): options[k] for k in keep}
    settings.update(extra)
    return settings


@click.command("eval")
@click.option("--tasks", "tasks_path", required=True, help="Task list JSON {domain: [ids]}.")
@click.option(
    "--noisy", "noisy_path", default=None, help="Noisy twins' list (ids '<id>_noise'), paired."
)
@click.option("--out", "out_dir", required=True, help="Output directory.")
@click.option(
    "--report-images",
    type=click.Choice(["inline", "files"]),
    default="inline",
    show_default=True,
    help="HTML report images: data URIs in one file, or PNG files beside it.",
)
@click.option("--no-report", is_flag=True, help="Skip the HTML report.")
@_shared_options
@_one_line_errors
def eval_command(
    tasks_path: str,
    noisy_path: str | None,
    out_dir: str,
    report_images: str,
    no_report: bool,
    **options: Any,
) -> None:
    """Run every task --trials times; write a parquet of every step, the per-task table
    (results.csv/json) and report.html; print the table."""
    from rllib_arpo.evaluation.report import ReportWriter
    from rllib_arpo.evaluation.run import (
        format_table,
        load_task_list,
        merge_task_lists,
        task_table,
        write_table,
    )

    refs = load_task_list(tasks_path)
    if noisy_path:
        refs = merge_task_lists(refs, load_task_list(noisy_path))
    factory, policy, parallel = _prepare(options, refs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = _settings(options, tasks=tasks_path, noisy=noisy_path, parallel=parallel)
    report = None
    if not no_report:
        report = ReportWriter(
            out / "report.html",
            title=f"arpo eval: {options['policy']} on {options['env_name']}",
            images=report_images,  # type: ignore[arg-type]
        )
    click.echo(
        f"evaluating {len(refs)} tasks x {options['trials']} trials with {policy.name} on "
        f"{options['env_name']} ({parallel} in parallel)",
        err=True,
    )
    run = _run_logged(
        refs, factory, policy, parallel, options, out, [] if report is None else [report.add]
    )
    rows = task_table(run.episodes)
    settings["wall_s"] = round(run.wall_s, 2)
    settings["env_steps"] = run.stats.env_steps
    paths = write_table(out, rows, {"settings": settings, "episodes": run.episodes})
    click.echo(format_table(rows))
    written = [paths["csv"], paths["json"], out / "episodes.parquet"]
    if report is not None:
        written.append(report.write(rows, settings))
    click.echo(f"{run.stats.env_steps} env steps in {run.wall_s:.1f} s", err=True)
    for path in written:
        click.echo(f"wrote {path}", err=True)


@click.command("select-tasks")
@click.option("--tasks", "tasks_path", required=True, help="All tasks, JSON {domain: [ids]}.")
@click.option(
    "--min-success", default=1, show_default=True, help="Keep tasks solved at least this often."
)
@click.option("--min-rate", default=None, type=float, help="Keep tasks with success rate >= this.")
@click.option("--max-rate", default=None, type=float, help="Keep tasks with success rate <= this.")
@click.option("--out", "out_dir", required=True, help="Output directory.")
@_shared_options
@_one_line_errors
def select_tasks_command(
    tasks_path: str,
    min_success: int,
    min_rate: float | None,
    max_rate: float | None,
    out_dir: str,
    **options: Any,
) -> None:
    """ARPO's valuable-task filter: run every task --trials times (the paper: 16), keep those
    solved at least --min-success times (and, for middle difficulty, with a success rate within
    [--min-rate, --max-rate]); writes selected_tasks.json ({domain: [ids]}) and
    task_success.csv/json (every task's count)."""
    from rllib_arpo.evaluation.run import (
        check_selection_bounds,
        count_successes,
        format_counts,
        load_task_list,
        select_tasks,
        write_selection,
    )

    refs = load_task_list(tasks_path)
    check_selection_bounds(min_success, min_rate, max_rate)
    factory, policy, parallel = _prepare(options, refs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    run = _run_logged(refs, factory, policy, parallel, options, out, [])
    counts = select_tasks(
        count_successes(refs, run.episodes),
        min_success=min_success,
        min_rate=min_rate,
        max_rate=max_rate,
    )
    settings = _settings(
        options,
        tasks=tasks_path,
        min_success=min_success,
        min_rate=min_rate,
        max_rate=max_rate,
        wall_s=round(time.perf_counter() - started, 2),
    )
    paths = write_selection(out, counts, {"settings": settings})
    click.echo(format_counts(counts))
    click.echo(f"selected {sum(c.selected for c in counts)} of {len(counts)} tasks")
    for path in (*paths.values(), out / "episodes.parquet"):
        click.echo(f"wrote {path}", err=True)


def _run_logged(refs, factory, policy, parallel: int, options: dict, out: Path, sinks: list):
    """Every (task, trial) once, each finished batch written to ``out/episodes.parquet`` (and to
    the extra ``sinks``); the policy is closed afterwards."""
    from rllib_arpo.evaluation.run import run_evaluation
    from rllib_arpo.outputs.episode_log import EpisodeLogWriter

    try:
        with EpisodeLogWriter(
            out / "episodes.parquet", overwrite=True, screenshots=options["log_screenshots"]
        ) as log:
            return run_evaluation(
                refs,
                factory,
                policy,
                trials=options["trials"],
                max_steps=options["max_steps"],
                parallel=parallel,
                step_timeout_s=options["step_timeout_s"],
                seed=options["seed"],
                sinks=[lambda trajectories, _results: log.write(trajectories), *sinks],
                progress=_progress,
            )
    finally:
        policy.close()


def register(group: click.Group) -> None:
    """Adds ``eval`` and ``select-tasks`` to ``group`` (the ``arpo`` command group)."""
    group.add_command(eval_command)
    group.add_command(select_tasks_command)


if __name__ == "__main__":  # pragma: no cover - python -m rllib_arpo.cli.eval_commands
    group = click.Group(commands={"eval": eval_command, "select-tasks": select_tasks_command})
    sys.exit(group())
