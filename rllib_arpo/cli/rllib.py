"""The ``rllib`` command: ``rllib train`` and ``rllib tune`` (Ray 2.60 ships no RLlib CLI).

Thin over the API: names resolve through ``rllib_arpo.launch.registry`` (``rllib.algorithms`` /
``rllib.envs`` entry points, then RLlib's built-ins), files through ``rllib_arpo.launch.tune_config``,
and every run goes through Ray Tune (``TuneSpec.tuner``), which writes results, checkpoints and
TensorBoard event files under ``storage_path/<experiment>``.

Errors are one line and exit code 2 (bad flags, missing files, unknown names, bad YAML); a trial
that fails exits 1. Ctrl-C stops the trials after their current iteration and checkpoints them;
a second Ctrl-C quits at once.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from rllib_arpo.launch.registry import NameResolutionError, PluginError
from rllib_arpo.launch.tune_config import (
    TuneConfigError,
    TuneSpec,
    load_tune_file,
    tune_spec_from_dict,
)

if TYPE_CHECKING:
    from ray.tune import ResultGrid

EXIT_USAGE = 2
"""Exit code of one-line errors (click's own for usage errors)."""
EXIT_TRIAL_FAILED = 1
EXIT_INTERRUPTED = 130

RLLIB_CHECKPOINT_MARKERS = ("rllib_checkpoint.json", "class_and_ctor_args.pkl")
"""Files that make a directory an RLlib checkpoint (``Algorithm.save_to_path``)."""
TUNE_EXPERIMENT_MARKER = "tuner.pkl"
"""File that makes a directory a Tune experiment (resumable with ``Tuner.restore``)."""

LOCAL_CPU_OBJECT_STORE_BYTES = 2 * 1024**3
"""Object store of a local Ray started for a CPU-only run (Ray's default is 30% of RAM)."""

_SUCCESS_SUFFIX = "success_rate"
_RETURN_KEYS = ("env_runners/episode_return_mean", "reward/mean")

_interrupted = threading.Event()
_experiment_signalled = threading.Event()
_live_trials: set[str] = set()
"""Ids of started, unfinished trials (kept by the progress callback, read by the stopper)."""


class RunError(click.ClickException):
    """A one-line error about the run (exit code 2, like click's usage errors)."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class InterruptStopper:
    """Tune stopper that stops every trial at its next result once Ctrl-C was pressed.

    Stopping through the stopper (instead of Tune's own SIGINT handling) makes the trial end as if
    it reached its stop criteria, so ``checkpoint_at_end`` writes a checkpoint. Once no started
    trial is left, the experiment is interrupted the way Tune's own handler does it (SIGUSR1):
    trials that never started stay pending, so ``--restore`` of the experiment runs them.
    """

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        return _interrupted.is_set()

    def stop_all(self) -> bool:
        if _interrupted.is_set() and not _live_trials and not _experiment_signalled.is_set():
            _experiment_signalled.set()
            if hasattr(signal, "SIGUSR1"):
                os.kill(os.getpid(), signal.SIGUSR1)
        return False


def _tune_stopper() -> Any:
    from ray.tune.stopper import Stopper

    class _Stopper(InterruptStopper, Stopper):
        pass

    return _Stopper()


class ProgressCallback:
    """Prints one line per trial result: iteration, success rate, return, time, ETA."""

    def __init__(self, stop_iters: int | None) -> None:
        self.stop_iters = stop_iters

    def line(self, trial_name: str, result: dict[str, Any]) -> str:
        from ray.tune.utils import flatten_dict

        flat = flatten_dict(result)
        iteration = int(flat.get("training_iteration", 0))
        parts = [f"[{trial_name}] iter {iteration}"]
        if self.stop_iters:
            parts[0] += f"/{self.stop_iters}"
        success = sorted((k for k in flat if k.endswith(_SUCCESS_SUFFIX)), key=len)
        if success and _is_number(flat[success[0]]):
            parts.append(f"success {flat[success[0]]:.3f}")
        for key in _RETURN_KEYS:
            if _is_number(flat.get(key)):
                parts.append(f"return {flat[key]:.3f}")
                break
        elapsed = flat.get("time_total_s")
        if _is_number(elapsed):
            parts.append(f"time {_duration(elapsed)}")
            if self.stop_iters and iteration and iteration < self.stop_iters:
                eta = elapsed / iteration * (self.stop_iters - iteration)
                parts.append(f"ETA {_duration(eta)}")
        return "  ".join(parts)


def _tune_progress_callback(stop_iters: int | None) -> Any:
    from ray.tune import Callback

    class _Progress(ProgressCallback, Callback):
        def on_trial_start(self, iteration: int, trials: list, trial: Any, **_: Any) -> None:
            _live_trials.add(trial.trial_id)

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **_: Any):
            click.echo(self.line(str(trial), result))

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **_: Any) -> None:
            _live_trials.discard(trial.trial_id)

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **_: Any) -> None:
            _live_trials.discard(trial.trial_id)
            click.echo(f"[{trial}] failed; see {trial.local_path}/error.txt", err=True)

    return _Progress(stop_iters)


# ------------------------------------------------------------------------------------ commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def rllib() -> None:
    """RLlib from the command line: train one algorithm or run a Tune sweep.

    Algorithms: rllib.algorithms plugins (e.g. ARPO), then RLlib's built-ins (PPO, APPO, ...).
    Envs: gymnasium ids, rllib.envs plugins (e.g. minidesk) or Tune-registered names.
    """
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@rllib.command("train")
@click.option("--algo", help="Algorithm name: a plugin (ARPO) or an RLlib built-in (PPO).")
@click.option("--env", help="Env name: gymnasium id, rllib.envs plugin or registered name.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A tune file (YAML or JSON, docs/configuration.md); flags override it.",
)
@click.option("--stop-iters", type=click.IntRange(min=1), help="Training iterations to run.")
@click.option("--num-env-runners", type=click.IntRange(min=0), help="Remote env runners.")
@click.option("--num-learners", type=click.IntRange(min=0), help="Remote learners (0: local).")
@click.option("--storage-path", type=click.Path(file_okay=False), help="Where results go.")
@click.option(
    "--checkpoint-freq",
    type=click.IntRange(min=0),
    help="Checkpoint every N iterations (0: only at the end).",
)
@click.option(
    "--restore",
    type=click.Path(path_type=Path),
    help="Resume from an RLlib checkpoint directory or a Tune experiment directory.",
)
@click.option("--name", help="Experiment name (folder under the storage path).")
@click.option("-v", "--verbose", is_flag=True, help="Also show Tune's own status tables.")
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
    _apply_flags(spec, stop_iters, num_env_runners, num_learners, checkpoint_freq)
    _run(spec, restore=restore, verbose=verbose)


@rllib.command("tune")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--storage-path", type=click.Path(file_okay=False), help="Overrides the file's.")
@click.option("--name", help="Experiment name (folder under the storage path).")
@click.option(
    "--restore",
    type=click.Path(path_type=Path),
    help="Resume an interrupted sweep (its Tune experiment directory).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file and print the trials and resources; start nothing.",
)
@click.option(
    "--stop-iters",
    type=click.IntRange(min=1),
    help="Training iterations per trial (added to the file's stop criteria).",
)
@click.option("-v", "--verbose", is_flag=True, help="Also show Tune's own status tables.")
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
    _apply_flags(spec, stop_iters, None, None, None)
    if dry_run:
        _register_and_check_env(spec)
        _print_plan(spec)
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


def _apply_flags(
    spec: TuneSpec,
    stop_iters: int | None,
    num_env_runners: int | None,
    num_learners: int | None,
    checkpoint_freq: int | None,
) -> None:
    if stop_iters is not None:
        spec.stop["training_iteration"] = stop_iters
    if checkpoint_freq is not None:
        spec.checkpoint_freq = checkpoint_freq
    if num_env_runners is not None:
        spec.config.env_runners(num_env_runners=num_env_runners)
    if num_learners is not None:
        spec.config.learners(num_learners=num_learners)
    if num_env_runners is not None or num_learners is not None:
        # The file's `resources` described its own layout; the cluster check still applies.
        spec.resources = None
        try:
            spec.config.validate()
        except Exception as problem:  # noqa: BLE001 - RLlib raises ValueError/TypeError
            raise RunError(f"invalid config: {' '.join(str(problem).split())}") from None


def _print_plan(spec: TuneSpec) -> None:
    needed = spec.check_resources()
    click.echo(f"algo: {spec.algo} ({spec.algo_class.__module__}.{spec.algo_class.__name__})")
    click.echo(f"env: {spec.env}")
    click.echo(f"trials: {spec.num_trials()}")
    for key, space in spec.param_space.items():
        click.echo(f"  {key.lstrip('_')}: {_describe(space)}")
    click.echo(f"stop: {spec.stop or 'never (Ctrl-C to stop)'}")
    click.echo(
        f"per trial: {_fmt(needed.get('CPU', 0))} CPUs, {_fmt(needed.get('GPU', 0))} GPUs"
        + (f" (resources: {spec.resources})" if spec.resources else "")
    )
    click.echo(f"storage: {spec.storage_dir}")


def _run(spec: TuneSpec, *, restore: Path | None, verbose: bool) -> None:
    import ray

    restore_from = _check_restore(restore)
    _register_and_check_env(spec)  # before init: pending registrations are flushed by init
    started_ray = _init_ray(spec, verbose)
    try:
        _check_cluster(spec)
        tuner = _make_tuner(spec, restore_from, verbose)
        results = _fit(tuner, spec, verbose)
        code = _report(results, spec)
    finally:
        if started_ray:
            ray.shutdown()
    if code:
        sys.exit(code)


def _check_restore(restore: Path | None) -> tuple[str, Path] | None:
    """("experiment" | "checkpoint", absolute path) for ``--restore``, checked before Ray starts."""
    if restore is None:
        return None
    restore = restore.expanduser().resolve()
    if not restore.exists():
        raise RunError(f"--restore {restore}: no such file or directory")
    if (restore / TUNE_EXPERIMENT_MARKER).exists():
        return "experiment", restore
    if any((restore / marker).exists() for marker in RLLIB_CHECKPOINT_MARKERS):
        return "checkpoint", restore
    raise RunError(
        f"--restore {restore}: neither an RLlib checkpoint (no "
        f"{' or '.join(RLLIB_CHECKPOINT_MARKERS)}) nor a Tune experiment "
        f"(no {TUNE_EXPERIMENT_MARKER})"
    )


def _init_ray(spec: TuneSpec, verbose: bool) -> bool:
    """Starts a local Ray (unless one is running or RAY_ADDRESS is set); True if it did.

    Without ``verbose`` the workers' logs stay in Ray's session folder (a failed trial is
    reported with its error.txt) so that the console shows our progress lines and summary.
    """
    import ray

    if ray.is_initialized():
        return False
    quiet = {
        "log_to_driver": verbose,
        "logging_level": logging.INFO if verbose else logging.WARNING,
    }
    if os.environ.get("RAY_ADDRESS"):
        ray.init(**quiet)
        return True
    needed = spec.check_resources()
    local_cpus = os.cpu_count() or 1
    num_cpus = max(local_cpus, math.ceil(needed.get("CPU", 0.0)))
    if num_cpus > local_cpus:
        click.echo(
            f"note: a trial reserves {_fmt(needed['CPU'])} CPUs and this machine has "
            f"{local_cpus}; starting local Ray with {num_cpus} logical CPUs (oversubscribed). "
            "Lower --num-env-runners to avoid it.",
            err=True,
        )
    kwargs: dict[str, Any] = {}
    if not needed.get("GPU"):
        kwargs["object_store_memory"] = LOCAL_CPU_OBJECT_STORE_BYTES
    ray.init(num_cpus=num_cpus, include_dashboard=False, **quiet, **kwargs)
    return True


def _register_and_check_env(spec: TuneSpec) -> None:
    from rllib_arpo.launch.registry import check_env_name, register_env_plugins

    try:
        register_env_plugins()
        if isinstance(spec.env, str):
            check_env_name(spec.env)
    except (NameResolutionError, PluginError) as error:
        raise RunError(str(error)) from None


def _check_cluster(spec: TuneSpec) -> None:
    import ray

    needed = spec.trial_resources()
    available = ray.cluster_resources()
    for resource in ("CPU", "GPU"):
        want, have = needed.get(resource, 0.0), float(available.get(resource, 0.0))
        if want > have + 1e-9:
            raise RunError(
                f"a trial reserves {_fmt(want)} {resource}s but the Ray cluster has {_fmt(have)}; "
                "lower num_env_runners / num_learners / num_gpus_per_learner, or run on a "
                "bigger cluster (RAY_ADDRESS)"
            )
    if spec.resources:
        for key, resource in (("num_cpus", "CPU"), ("num_gpus", "GPU")):
            want = spec.resources.get(key, 0.0)
            have = float(available.get(resource, 0.0))
            if want > have + 1e-9:
                raise RunError(
                    f"{spec.source}: resources.{key} asks for {_fmt(want)} {resource}s per trial; "
                    f"the Ray cluster has {_fmt(have)}"
                )


def _make_tuner(spec: TuneSpec, restore: tuple[str, Path] | None, verbose: bool) -> Any:
    from ray import tune

    callbacks = [_tune_progress_callback(spec.stop.get("training_iteration"))]
    if restore is not None and restore[0] == "experiment":
        click.echo(f"Resuming the Tune experiment in {restore[1]}")
        # The param space is given again: Tune stores classes in it (RLModule specs, env runner
        # classes) as references that it cannot rebuild on its own.
        return tune.Tuner.restore(
            str(restore[1]),
            trainable=spec.algo_class,
            param_space=spec.tune_param_space(),
            resume_unfinished=True,
            resume_errored=True,
        )
    if restore is not None:
        click.echo(f"Starting from the RLlib checkpoint {restore[1]}")
        existing = spec.config.callbacks_on_algorithm_init
        hooks = list(existing) if isinstance(existing, (list, tuple)) else [existing]
        hooks = [h for h in hooks if h is not None] + [_restore_callback(str(restore[1]))]
        spec.config.callbacks(on_algorithm_init=hooks if len(hooks) > 1 else hooks[0])
    return spec.tuner(callbacks=callbacks, stopper=_tune_stopper(), verbose=2 if verbose else 0)


def _restore_callback(path: str) -> Any:
    def restore_weights(algorithm: Any, **_: Any) -> None:
        algorithm.restore_from_path(path)

    return restore_weights


def _fit(tuner: Any, spec: TuneSpec, verbose: bool) -> ResultGrid:
    _interrupted.clear()
    _experiment_signalled.clear()
    _live_trials.clear()
    previous = signal.getsignal(signal.SIGINT)
    in_main = threading.current_thread() is threading.main_thread()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if _interrupted.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        _interrupted.set()
        click.echo(
            "\nCtrl-C: stopping every trial after its current iteration and checkpointing it "
            "(press Ctrl-C again to quit now, without a final checkpoint).",
            err=True,
        )

    # Our handler replaces Tune's (which stops without a final checkpoint). Without -v, Tune's
    # console output is off: its banner points TensorBoard at the driver's artifact folder, not
    # at the experiment folder where the event files are (we print that one at the end).
    quiet = {"TUNE_DISABLE_SIGINT_HANDLER": "1"}
    if not verbose:
        quiet["RAY_AIR_NEW_OUTPUT"] = "0"
    old_env = {key: os.environ.get(key) for key in quiet}
    os.environ.update(quiet)
    if in_main:
        signal.signal(signal.SIGINT, on_sigint)
    try:
        return tuner.fit()
    except KeyboardInterrupt:
        experiment = spec.storage_dir / (spec.name or "")
        click.echo(
            f"Interrupted. Periodic checkpoints (if any) and Tune state are under {experiment}; "
            f"resume with --restore <experiment dir>.",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # noqa: BLE001 - Tune wraps setup failures in many types
        raise RunError(f"Tune failed: {type(error).__name__}: {_first_line(error)}") from None
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _report(results: ResultGrid, spec: TuneSpec) -> int:
    experiment = Path(results.experiment_path)
    failed = 0
    click.echo("")
    for index in range(len(results)):
        result = results[index]
        metrics = result.metrics or {}
        if not metrics and result.error is None:
            click.echo(f"trial {Path(result.path).name}: not started")
            continue
        iteration = metrics.get("training_iteration", 0)
        trial = metrics.get("trial_id", index)
        line = f"trial {trial}: {iteration} iterations"
        if result.error is not None:
            failed += 1
            line += f", FAILED: {type(result.error).__name__}: {_first_line(result.error)}"
            line += f" (log: {result.path}/error.txt)"
        if result.checkpoint is not None:
            line += f", checkpoint {result.checkpoint.path}"
        click.echo(line)
    if _interrupted.is_set():
        click.echo(
            f"Stopped by Ctrl-C; the checkpoints above hold the last iteration. Resume with "
            f"`rllib train --config ... --restore <checkpoint>` or "
            f"`rllib tune ... --restore {experiment}`."
        )
    if spec.metric and len(results) > 1 and not failed:
        try:
            best = results.get_best_result()
        except RuntimeError:  # no trial reported the metric
            best = None
        if best is not None:
            click.echo(f"best trial ({spec.metric}, {spec.mode}): {best.path}")
    click.echo(f"Results and TensorBoard event files: {experiment}")
    click.echo(f"To watch: tensorboard --logdir {experiment}")
    if failed:
        click.echo(f"{failed} of {len(results)} trials failed.", err=True)
        return EXIT_TRIAL_FAILED
    return 0


# ------------------------------------------------------------------------------------ helpers


def _describe(space: Any) -> str:
    """A search space as the YAML wrote it: ``grid_search [1, 2]``, ``loguniform [a, b]``."""
    if isinstance(space, dict) and "grid_search" in space:
        return f"grid_search {space['grid_search']}"
    if hasattr(space, "categories"):
        return f"choice {list(space.categories)}"
    sampler = type(getattr(space, "sampler", None)).__name__.lstrip("_").lower()
    kind = (
        "loguniform"
        if "log" in sampler
        else "randint"
        if "int" in type(space).__name__.lower()
        else "uniform"
    )
    return f"{kind} [{getattr(space, 'lower', '?')}, {getattr(space, 'upper', '?')}]"


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(error).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else f"{amount:g}"


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
