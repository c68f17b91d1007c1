"""The ``rllib`` command: ``rllib train`` and ``rllib tune`` (Ray 2.60 ships no RLlib CLI).

Flags and printing only. Names resolve through ``rllib_arpo.launch.registry`` (``rllib.algorithms``
/ ``rllib.envs`` entry points, then RLlib's built-ins), files through
``rllib_arpo.launch.tune_config``, and every run goes through ``rllib_arpo.launch.run.run_spec``
(Ray Tune), which writes results, checkpoints and TensorBoard event files under
``storage_path/<experiment>``.

Errors are one line and exit code 2 (bad flags, missing files, unknown names, bad YAML); a trial
that fails exits 1. Ctrl-C stops the trials after their current iteration and checkpoints them;
a second Ctrl-C quits at once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from rllib_arpo.launch.run import LaunchError, apply_overrides, describe_plan, run_spec
from rllib_arpo.launch.tune_config import (
    TuneConfigError,
    TuneSpec,
    load_tune_file,
    tune_spec_from_dict,
)

EXIT_USAGE = 2
"""Exit code of one-line errors (click's own for usage errors)."""


class RunError(click.ClickException):
    """A one-line error about the run (exit code 2, like click's usage errors)."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """``LaunchError`` -> ``RunError``, the option it is about written as its flag."""
    try:
        yield
    except LaunchError as error:
        flag = f"--{error.option.replace('_', '-')} " if error.option else ""
        raise RunError(f"{flag}{error}") from None


def _storage_path_option(help: str) -> Any:
    return click.option("--storage-path", type=click.Path(file_okay=False), help=help)


def _stop_iters_option(help: str) -> Any:
    return click.option("--stop-iters", type=click.IntRange(min=1), help=help)


def _restore_option(help: str) -> Any:
    return click.option("--restore", type=click.Path(path_type=Path), help=help)


_NAME_OPTION = click.option("--name", help="Experiment name (folder under the storage path).")
_VERBOSE_OPTION = click.option(
    "-v", "--verbose", is_flag=True, help="Also show Tune's own status tables."
)


# ------------------------------------------------------------------------------------ commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def rllib() -> None:
    """RLlib from the command line: train one algorithm or run a Tune sweep.

    Algorithms: rllib.algorithms plugins (e.g. ARPO), then RLlib's built-ins (PPO, APPO, ...).
    Envs: gymnasium ids, rllib.envs plugins (e.g. minidesk) or Tune-registered names.
    """


@rllib.command("train")
@click.option("--algo", help="Algorithm name: a plugin (ARPO) or an RLlib built-in (PPO).")
@click.option("--env", help="Env name: gymnasium id, rllib.envs plugin or registered name.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A tune file (YAML or JSON, docs/configuration.md); flags override it.",
)
@_stop_iters_option("Training iterations to run.")
@click.option("--num-env-runners", type=click.IntRange(min=0), help="Remote env runners.")
@click.option("--num-learners", type=click.IntRange(min=0), help="Remote learners (0: local).")
@_storage_path_option("Where results go.")
@click.option(
    "--checkpoint-freq",
    type=click.IntRange(min=0),
    help="Checkpoint every N iterations (0: only at the end).",
)
@_restore_option(
    "An RLlib checkpoint directory to start from, or a Tune experiment directory to resume "
    "(each trial from its newest complete checkpoint)."
)
@_NAME_OPTION
@_VERBOSE_OPTION
def train(
    algo: str | None,
    env: str | None,
    config_file: Path | None,
    stop_iters: int | None,
    num_env_runners: int | None,
    num_learners: int | None,
    storage_path: str | None,
    checkpoint_freq: int | None,
    restore: Path | None,
    name: str | None,
    verbose: bool,
) -> None:
    """Train one algorithm on one env through Ray Tune.

    \b
    Examples:
      rllib train --algo PPO --env CartPole-v1 --stop-iters 5
      rllib train --algo ARPO --env minidesk --config tune_configs/minidesk_cpu_demo.yaml
    """
    if config_file is None and algo is None:
        raise click.UsageError("Missing option '--algo' (or give --config FILE with 'algo:').")
    overrides = {"algo": algo, "env": env, "name": name, "storage_path": storage_path}
    spec = _load_spec(config_file, overrides)
    if spec.param_space:
        where = config_file or "the config"
        raise RunError(
            f"{where} sweeps {', '.join(spec.param_space)} (param_space/seeds); "
            f"run it with `rllib tune {where}`"
        )
    with _one_line_errors():
        apply_overrides(
            spec,
            stop_iters=stop_iters,
            num_env_runners=num_env_runners,
            num_learners=num_learners,
            checkpoint_freq=checkpoint_freq,
        )
    _run(spec, restore=restore, verbose=verbose)


@rllib.command("tune")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_storage_path_option("Overrides the file's.")
@_NAME_OPTION
@_restore_option(
    "Resume an interrupted sweep (its Tune experiment directory; each trial from its newest "
    "complete checkpoint)."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file and print the trials and resources; start nothing.",
)
@_stop_iters_option("Training iterations per trial (added to the file's stop criteria).")
@_VERBOSE_OPTION
def tune_command(
    file: Path,
    storage_path: str | None,
    name: str | None,
    restore: Path | None,
    dry_run: bool,
    stop_iters: int | None,
    verbose: bool,
) -> None:
    """Run the sweep described by FILE (docs/configuration.md)."""
    spec = _load_spec(file, {"storage_path": storage_path, "name": name})
    with _one_line_errors():
        apply_overrides(spec, stop_iters=stop_iters)
    if dry_run:
        with _one_line_errors():
            plan = describe_plan(spec)
        for line in plan:
            click.echo(line)
        return
    _run(spec, restore=restore, verbose=verbose)


def main() -> None:  # pragma: no cover - console entry point
    rllib()


# ------------------------------------------------------------------------------------ pieces


def _load_spec(path: Path | None, overrides: dict[str, Any]) -> TuneSpec:
    try:
        if path is None:
            return tune_spec_from_dict({k: v for k, v in overrides.items() if v is not None})
        return load_tune_file(path, **overrides)
    except TuneConfigError as error:
        message = str(error)
        if path is None:  # the keys came from flags: name them as flags
            message = f"--{message}" if message.split(":")[0] in overrides else message
        raise RunError(message) from None


def _run(spec: TuneSpec, *, restore: Path | None, verbose: bool) -> None:
    with _one_line_errors():
        code = run_spec(spec, restore=restore, verbose=verbose, echo=click.echo)
    if code:
        sys.exit(code)
