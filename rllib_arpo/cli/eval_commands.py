"""``arpo eval`` and ``arpo select-tasks``: flags in, ``evaluation.session`` does the work.

``register(group)`` adds both commands to the ``arpo`` group. Errors a user can fix (missing,
unreadable or malformed task lists and index files, a bad ``--task-dir`` or ``--out``, an unknown
env or task, a policy path that does not load) end the command with one ``Error: ...`` line and
exit status 1 (a malformed flag value, e.g. ``--screen-size``, is a usage error, status 2). A task that cannot run (its file, its setup, its expert) is its episodes' error.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from rllib_arpo.cli.options import SCREEN_SIZE

if TYPE_CHECKING:
    from rllib_arpo.evaluation.session import EvalSettings

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
            "--screen-size",
            type=SCREEN_SIZE,
            default="448x336",
            show_default=True,
            help="MiniDesk screen WxH.",
        ),
        click.option(
            "--task-dir",
            default=None,
            help="MiniDesk: a directory of OSWorld task files: OSWorld's evaluation_examples "
            "(examples/<domain>/<id>.json; used when it has examples/) or test_data's layout "
            "(tasks/<id>.json, noisy_tasks/<id>_noise.json).",
        ),
        click.option(
            "--server-url",
            "server_urls",
            multiple=True,
            help="osworld: env server URL (repeat, or comma-separate: one env per server).",
        ),
        click.option(
            "--token",
            default=None,
            help="osworld: server token [default: the token variable of docs/osworld.md, read by "
            "the OSWorld client].",
        ),
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
            "--checkpoint",
            default=None,
            help="OpenAI URL of a vLLM server started with --enable-scale-out: the served "
            "checkpoint's local directory; the server is then asked in token ids and answers "
            "with token ids and log-probs (docs/engines.md), instead of chat text.",
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
    """``EvalError``, ``TaskListError`` and a file that cannot be written (an ``OSError`` naming
    it) -> ``Error: <one line>``, exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rllib_arpo.evaluation.errors import EvalError
        from rllib_arpo.rollout.tasks import TaskListError

        try:
            return command(*args, **kwargs)
        except (EvalError, TaskListError) as error:
            raise click.ClickException(" ".join(str(error).split())) from None
        except OSError as error:
            if error.filename is None:
                raise
            raise click.ClickException(f"{error.filename}: {error.strerror or error}") from None

    return wrapper


def _settings(options: dict[str, Any]) -> EvalSettings:
    """The shared options as ``EvalSettings``."""
    from rllib_arpo.evaluation.envs import EnvSpec
    from rllib_arpo.evaluation.policies import SamplingSettings
    from rllib_arpo.evaluation.session import EvalSettings

    urls = tuple(u.strip() for value in options["server_urls"] for u in value.split(",") if u)
    return EvalSettings(
        policy=options["policy"],
        env=EnvSpec(
            name=options["env_name"],
            max_steps=options["max_steps"],
            screen_size=options["screen_size"],
            task_dir=options["task_dir"],
            server_urls=urls,
            token=options["token"],
        ),
        trials=options["trials"],
        sampling=SamplingSettings(
            temperature=options["temperature"],
            top_p=options["top_p"],
            max_new_tokens=options["max_new_tokens"],
        ),
        parallel=options["parallel"],
        seed=options["seed"],
        device=options["device"],
        step_timeout_s=options["step_timeout_s"],
        model=options["model"],
        api_key=options["api_key"] or os.environ.get(OPENAI_KEY_ENV_VAR),
        coords=options["coords"],
        checkpoint=options["checkpoint"],
        log_screenshots=options["log_screenshots"],
    )


def _progress(line: str) -> None:
    click.echo(line, err=True)


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
    from rllib_arpo.evaluation.session import evaluate
    from rllib_arpo.evaluation.tables import format_table

    outcome = evaluate(
        _settings(options),
        tasks_path,
        out_dir,
        noisy_path=noisy_path,
        report_images=None if no_report else report_images,  # type: ignore[arg-type]
        progress=_progress,
    )
    click.echo(format_table(outcome.rows))
    click.echo(f"{outcome.run.stats.env_steps} env steps in {outcome.run.wall_s:.1f} s", err=True)
    for path in outcome.written:
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
    from rllib_arpo.evaluation.selection import format_counts
    from rllib_arpo.evaluation.session import select_valuable_tasks

    outcome = select_valuable_tasks(
        _settings(options),
        tasks_path,
        out_dir,
        min_success=min_success,
        min_rate=min_rate,
        max_rate=max_rate,
        progress=_progress,
    )
    click.echo(format_counts(outcome.counts))
    selected = sum(c.selected for c in outcome.counts)
    click.echo(f"selected {selected} of {len(outcome.counts)} tasks")
    for path in outcome.written:
        click.echo(f"wrote {path}", err=True)


def register(group: click.Group) -> None:
    """Adds ``eval`` and ``select-tasks`` to ``group`` (the ``arpo`` command group)."""
    group.add_command(eval_command)
    group.add_command(select_tasks_command)


if __name__ == "__main__":  # pragma: no cover - python -m rllib_arpo.cli.eval_commands
    group = click.Group(commands={"eval": eval_command, "select-tasks": select_tasks_command})
    sys.exit(group())
