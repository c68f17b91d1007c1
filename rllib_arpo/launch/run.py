"""Running a ``TuneSpec`` on Ray Tune: the engine behind ``rllib train`` and ``rllib tune``.

``run_spec`` is the one entry point. In order: check the restore path (before Ray starts),
register the ``rllib.envs`` plugins and check the env name, start a local Ray unless one runs
(or ``RAY_ADDRESS`` names a cluster), check that one trial fits the cluster, build the Tuner
(resuming a Tune experiment or starting from an RLlib checkpoint), fit it with our Ctrl-C handling,
and turn the ``ResultGrid`` into report lines and an exit status.

Checkpoint folders are marked complete once Tune has persisted them; a resumed experiment
continues each trial from its newest complete folder (Tune's own record can lag by 10 s) and
numbers new folders after the highest one on disk (``plan_resume``, docs/configuration.md).

Ctrl-C stops every trial after its current iteration and checkpoints it (``InterruptStopper``); a
second Ctrl-C quits at once (exit status ``EXIT_INTERRUPTED``). A failed trial makes the status
``EXIT_TRIAL_FAILED``. Problems a user can fix (a bad restore path, an unknown env, a cluster too
small) raise ``LaunchError``, one line. Text goes through an ``echo`` callback: the CLI passes
``click.echo``; the default logs.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from rllib_arpo.core.metrics import REWARD_MEAN
from rllib_arpo.core.values import is_number
from rllib_arpo.launch.registry import NameResolutionError, PluginError
from rllib_arpo.launch.tune_config import TuneSpec, format_amount

if TYPE_CHECKING:
    from ray.tune import ResultGrid, Tuner

logger = logging.getLogger(__name__)

EXIT_TRIAL_FAILED = 1
EXIT_INTERRUPTED = 130

RLLIB_CHECKPOINT_MARKERS = ("rllib_checkpoint.json", "class_and_ctor_args.pkl")
"""Files that make a directory an RLlib checkpoint (``Algorithm.save_to_path``)."""
TUNE_EXPERIMENT_MARKER = "tuner.pkl"
"""File that makes a directory a Tune experiment (resumable with ``Tuner.restore``)."""
CHECKPOINT_COMPLETE_MARKER = ".checkpoint_complete.json"
"""Written into a trial's checkpoint folder once Tune reports the folder persisted (every file
copied); holds the result keys Tune restores with it (``RESTORED_RESULT_KEYS``). A resumed run
continues only from folders that have it (``is_complete_checkpoint``)."""
RESTORED_RESULT_KEYS = ("training_iteration", "time_total_s", "timesteps_total", "episodes_total")
"""What ``Trainable.restore`` reads from a checkpoint's result (RLlib's own state then sets the
iteration again)."""
CHECKPOINT_FOLDER = re.compile(r"checkpoint_(\d+)")
"""Tune's name for a trial's n-th checkpoint folder: ``checkpoint_000012``."""

LOCAL_CPU_OBJECT_STORE_BYTES = 2 * 1024**3
"""Object store of a local Ray started for a CPU-only run (Ray's default is 30% of RAM)."""
RAY_AUTH_ENV_VAR = "RAY_AUTH_MODE"
"""Ray 2.60's token authentication; off (unless set) for a Ray started on this machine."""

SUCCESS_SUFFIX = "success_rate"
"""The progress line shows the shortest result key ending in this (``rollout/success_rate``)."""
RLLIB_EPISODE_RETURN_MEAN = "env_runners/episode_return_mean"
"""RLlib's mean episode return; the progress line falls back to ``REWARD_MEAN`` (ARPO)."""
RETURN_KEYS = (RLLIB_EPISODE_RETURN_MEAN, REWARD_MEAN)

Echo = Callable[..., None]
"""Writes one line: ``echo(text)``, or ``echo(text, err=True)`` for problems (``click.echo``)."""

# Run-wide state, read by Tune's stopper and callbacks. Module globals, not attributes: Tune
# pickles its run config (with the stopper and callbacks in it) into the experiment folder.
_interrupted = threading.Event()
_experiment_signalled = threading.Event()
_live_trials: set[str] = set()
"""Ids of started, unfinished trials (kept by the progress callback, read by the stopper)."""


class LaunchError(ValueError):
    """A run that cannot start or ends in a way a user can fix; the message is one line.

    Attributes:
        option: The setting the message is about (``"restore"``), or None.
    """

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


def log_echo(message: str = "", *, err: bool = False, **_: Any) -> None:
    """The default ``Echo``: problems as warnings, the rest as info, on this module's logger."""
    (logger.warning if err else logger.info)("%s", message)


def disable_local_ray_auth() -> None:
    """Token authentication off for a Ray started on this machine (unless the user set it)."""
    os.environ.setdefault(RAY_AUTH_ENV_VAR, "disabled")


# ------------------------------------------------------------------------------------ run


def run_spec(
    spec: TuneSpec, *, restore: Path | None = None, verbose: bool = False, echo: Echo = log_echo
) -> int:
    """Runs ``spec`` through Ray Tune; returns the exit status (0, ``EXIT_TRIAL_FAILED`` or
    ``EXIT_INTERRUPTED``).

    Args:
        spec: A loaded tune file (``load_tune_file``), flags applied (``apply_overrides``).
        restore: An RLlib checkpoint to start from, or a Tune experiment to resume.
        verbose: Also show Tune's status tables and the workers' logs.
        echo: Where progress lines and the report go.

    Raises:
        LaunchError: Bad restore path, unknown env, trial larger than the cluster, Tune setup
            failure.
    """
    import ray

    restore_from = check_restore(restore)
    register_and_check_env(spec)  # before init: pending registrations are flushed by init
    started_ray = init_local_ray(spec, verbose=verbose, echo=echo)
    try:
        check_cluster(spec)
        tuner = make_tuner(spec, restore_from, verbose=verbose, echo=echo)
        try:
            results = fit(tuner, spec, verbose=verbose, echo=echo)
        except KeyboardInterrupt:
            experiment = spec.storage_dir / (spec.name or "")
            echo(
                f"Interrupted. Periodic checkpoints (if any) and Tune state are under "
                f"{experiment}; resume with --restore <experiment dir>.",
                err=True,
            )
            return EXIT_INTERRUPTED
        report = summarize_results(results, spec, interrupted=_interrupted.is_set())
    finally:
        if started_ray:
            ray.shutdown()
    for line in report.lines:
        echo(line)
    if report.failure:
        echo(report.failure, err=True)
    return report.exit_code


def apply_overrides(
    spec: TuneSpec,
    *,
    stop_iters: int | None = None,
    num_env_runners: int | None = None,
    num_learners: int | None = None,
    checkpoint_freq: int | None = None,
) -> None:
    """Applies command-line settings over the file's (None leaves the file's); revalidates.

    Raises:
        LaunchError: The layout makes the config invalid.
    """
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
            raise LaunchError(f"invalid config: {' '.join(str(problem).split())}") from None


def describe_plan(spec: TuneSpec) -> list[str]:
    """What ``run_spec`` would start (``rllib tune --dry-run``): trials, sweep, stop, resources.

    Registers the env plugins and checks the env name; starts nothing.
    """
    register_and_check_env(spec)
    needed = spec.check_resources()
    lines = [
        f"algo: {spec.algo} ({spec.algo_class.__module__}.{spec.algo_class.__name__})",
        f"env: {spec.env}",
        f"trials: {spec.num_trials()}",
    ]
    lines += [f"  {key.lstrip('_')}: {describe_space(s)}" for key, s in spec.param_space.items()]
    lines.append(f"stop: {spec.stop or 'never (Ctrl-C to stop)'}")
    lines.append(
        f"per trial: {format_amount(needed.get('CPU', 0))} CPUs, "
        f"{format_amount(needed.get('GPU', 0))} GPUs"
        + (f" (resources: {spec.resources})" if spec.resources else "")
    )
    lines.append(f"storage: {spec.storage_dir}")
    return lines


# ------------------------------------------------------------------------------------ steps


@dataclass(frozen=True)
class Restore:
    """Where a run restores from: a Tune experiment (resumed) or an RLlib checkpoint (weights)."""

    kind: Literal["experiment", "checkpoint"]
    path: Path


def check_restore(restore: Path | None) -> Restore | None:
    """What ``restore`` is (absolute path), checked before Ray starts; None for None."""
    if restore is None:
        return None
    restore = restore.expanduser().resolve()
    if not restore.exists():
        raise LaunchError(f"{restore}: no such file or directory", option="restore")
    if (restore / TUNE_EXPERIMENT_MARKER).exists():
        return Restore("experiment", restore)
    if any((restore / marker).exists() for marker in RLLIB_CHECKPOINT_MARKERS):
        return Restore("checkpoint", restore)
    raise LaunchError(
        f"{restore}: neither an RLlib checkpoint (no {' or '.join(RLLIB_CHECKPOINT_MARKERS)}) "
        f"nor a Tune experiment (no {TUNE_EXPERIMENT_MARKER})",
        option="restore",
    )


def register_and_check_env(spec: TuneSpec) -> None:
    """Registers the ``rllib.envs`` plugins with Tune and checks the spec's env name."""
    from rllib_arpo.launch.registry import check_env_name, register_env_plugins

    try:
        register_env_plugins()
        if isinstance(spec.env, str):
            check_env_name(spec.env)
    except (NameResolutionError, PluginError) as error:
        raise LaunchError(str(error)) from None


def init_local_ray(spec: TuneSpec, *, verbose: bool, echo: Echo = log_echo) -> bool:
    """Starts Ray unless it runs already; True if it did.

    With ``RAY_ADDRESS`` set it connects there; else it starts a local Ray with at least the CPUs
    one trial reserves (oversubscribed, with a note, on a smaller machine). Without ``verbose``
    the workers' logs stay in Ray's session folder (a failed trial is reported with its
    error.txt) so that the console shows our progress lines and summary.
    """
    import ray

    if ray.is_initialized():
        return False
    disable_local_ray_auth()
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
        echo(
            f"note: a trial reserves {format_amount(needed['CPU'])} CPUs and this machine has "
            f"{local_cpus}; starting local Ray with {num_cpus} logical CPUs (oversubscribed). "
            "Lower --num-env-runners to avoid it.",
            err=True,
        )
    kwargs: dict[str, Any] = {}
    if not needed.get("GPU"):
        kwargs["object_store_memory"] = LOCAL_CPU_OBJECT_STORE_BYTES
    ray.init(num_cpus=num_cpus, include_dashboard=False, **quiet, **kwargs)
    return True


def check_cluster(spec: TuneSpec) -> None:
    """``LaunchError`` unless one trial (and the file's ``resources``) fits the Ray cluster."""
    import ray

    needed = spec.trial_resources()
    available = ray.cluster_resources()
    for resource in ("CPU", "GPU"):
        want, have = needed.get(resource, 0.0), float(available.get(resource, 0.0))
        if want > have + 1e-9:
            raise LaunchError(
                f"a trial reserves {format_amount(want)} {resource}s but the Ray cluster has "
                f"{format_amount(have)}; lower num_env_runners / num_learners / "
                "num_gpus_per_learner, or run on a bigger cluster (RAY_ADDRESS)"
            )
    if spec.resources:
        for key, resource in (("num_cpus", "CPU"), ("num_gpus", "GPU")):
            want = spec.resources.get(key, 0.0)
            have = float(available.get(resource, 0.0))
            if want > have + 1e-9:
                raise LaunchError(
                    f"{spec.source}: resources.{key} asks for {format_amount(want)} {resource}s "
                    f"per trial; the Ray cluster has {format_amount(have)}"
                )


def make_tuner(
    spec: TuneSpec, restore: Restore | None, *, verbose: bool, echo: Echo = log_echo
) -> Tuner:
    """The Tuner: a resumed experiment, or ``spec.tuner`` (weights from a checkpoint when given)
    with the progress callback and the Ctrl-C stopper."""
    from ray import tune

    resuming = restore is not None and restore.kind == "experiment"
    callbacks = [
        _tune_progress_callback(spec.stop.get("training_iteration"), echo),
        _tune_checkpoint_callback(resuming=resuming, echo=echo),
    ]
    if resuming:
        echo(f"Resuming the Tune experiment in {restore.path}")
        # The param space is given again: Tune stores classes in it (RLModule specs, env runner
        # classes) as references that it cannot rebuild on its own.
        tuner = tune.Tuner.restore(
            str(restore.path),
            trainable=spec.algo_class,
            param_space=spec.tune_param_space(),
            resume_unfinished=True,
            resume_errored=True,
        )
        _use_callbacks(tuner, callbacks)
        return tuner
    if restore is not None:
        echo(f"Starting from the RLlib checkpoint {restore.path}")
        existing = spec.config.callbacks_on_algorithm_init
        hooks = list(existing) if isinstance(existing, (list, tuple)) else [existing]
        hooks = [h for h in hooks if h is not None] + [restore_weights_callback(restore.path)]
        spec.config.callbacks(on_algorithm_init=hooks if len(hooks) > 1 else hooks[0])
    return spec.tuner(callbacks=callbacks, stopper=_tune_stopper(), verbose=2 if verbose else 0)


def _use_callbacks(tuner: Tuner, callbacks: list[Any]) -> None:
    """Gives a restored Tuner this run's callbacks of this module in place of the old ones.

    ``Tuner.restore`` takes no callbacks: it reuses the original run's config from tuner.pkl,
    where this module's callbacks are frozen copies (their classes are pickled by value) and an
    experiment from before ``_tune_checkpoint_callback`` has none. Other callbacks stay. Under
    Ray Client there is no local tuner to reach: the copies run, and resuming follows them.
    """
    local = getattr(tuner, "_local_tuner", None)  # Tune's own handle; no public setter
    if local is None:
        logger.warning("Ray Client: the resumed run keeps the callbacks of the original run")
        return
    run_config = local.get_run_config()
    kept = [c for c in run_config.callbacks or [] if type(c).__module__ != __name__]
    run_config.callbacks = kept + callbacks


def restore_weights_callback(path: str | Path) -> Callable[..., None]:
    """An ``on_algorithm_init`` callback that loads the checkpoint at ``path`` into the algorithm."""
    checkpoint = str(path)

    def restore_weights(algorithm: Any, **_: Any) -> None:
        algorithm.restore_from_path(checkpoint)

    return restore_weights


def fit(tuner: Tuner, spec: TuneSpec, *, verbose: bool, echo: Echo = log_echo) -> ResultGrid:
    """``tuner.fit()`` with our Ctrl-C handling (the first stops the trials after their current
    iteration, with a checkpoint; the second raises ``KeyboardInterrupt``).

    Raises:
        KeyboardInterrupt: The second Ctrl-C.
        LaunchError: Tune failed to set the run up.
    """
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
        echo(
            "\nCtrl-C: stopping every trial after its current iteration and checkpointing it "
            "(press Ctrl-C again to quit now, without a final checkpoint).",
            err=True,
        )

    # Our handler replaces Tune's (which stops without a final checkpoint). Without verbose,
    # Tune's console output is off: its banner points TensorBoard at the driver's artifact
    # folder, not at the experiment folder where the event files are (the report names that one).
    quiet = {"TUNE_DISABLE_SIGINT_HANDLER": "1"}
    if not verbose:
        quiet["RAY_AIR_NEW_OUTPUT"] = "0"
    old_env = {key: os.environ.get(key) for key in quiet}
    os.environ.update(quiet)
    if in_main:
        signal.signal(signal.SIGINT, on_sigint)
    try:
        return tuner.fit()
    except Exception as error:  # noqa: BLE001 - Tune wraps setup failures in many types
        raise LaunchError(f"Tune failed: {type(error).__name__}: {_first_line(error)}") from None
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class RunReport:
    """The end of a run: lines to show, the failure line (for stderr) and the exit status."""

    lines: list[str] = field(default_factory=list)
    failure: str | None = None
    exit_code: int = 0


def summarize_results(results: ResultGrid, spec: TuneSpec, *, interrupted: bool) -> RunReport:
    """One line per trial (iterations, error, checkpoint), how to resume, the best trial, and
    where the results and TensorBoard event files are."""
    experiment = Path(results.experiment_path)
    failed = 0
    lines = [""]
    for index in range(len(results)):
        result = results[index]
        metrics = result.metrics or {}
        if not metrics and result.error is None:
            lines.append(f"trial {Path(result.path).name}: not started")
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
        lines.append(line)
    if interrupted:
        lines.append(
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
            lines.append(f"best trial ({spec.metric}, {spec.mode}): {best.path}")
    lines.append(f"Results and TensorBoard event files: {experiment}")
    lines.append(f"To watch: tensorboard --logdir {experiment}")
    if failed:
        return RunReport(lines, f"{failed} of {len(results)} trials failed.", EXIT_TRIAL_FAILED)
    return RunReport(lines)


# ------------------------------------------------------------------------------------ resume


def checkpoint_index(path: Path) -> int | None:
    """The number in a Tune checkpoint folder's name (``checkpoint_000012`` -> 12), else None."""
    match = CHECKPOINT_FOLDER.fullmatch(path.name)
    return int(match.group(1)) if match else None


def write_complete_marker(checkpoint: Path, result: Mapping[str, Any]) -> None:
    """Marks a persisted checkpoint folder complete, with ``result``'s ``RESTORED_RESULT_KEYS``.

    Written to a temporary name and renamed, so a kill leaves the marker whole or absent.
    """
    metrics = {key: result[key] for key in RESTORED_RESULT_KEYS if is_number(result.get(key))}
    partial = checkpoint / f"{CHECKPOINT_COMPLETE_MARKER}.partial"
    partial.write_text(json.dumps(metrics))
    os.replace(partial, checkpoint / CHECKPOINT_COMPLETE_MARKER)


def read_complete_marker(checkpoint: Path) -> dict[str, Any] | None:
    """The metrics in a checkpoint folder's completion marker; None without a readable one."""
    try:
        metrics = json.loads((checkpoint / CHECKPOINT_COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return None
    return metrics if isinstance(metrics, dict) else None


def is_complete_checkpoint(checkpoint: Path) -> bool:
    """Whether a trial's checkpoint folder is safe to resume from (``complete_marker``)."""
    return complete_marker(checkpoint) is not None


def complete_marker(checkpoint: Path) -> dict[str, Any] | None:
    """The completion marker's metrics when a trial's checkpoint folder is safe to resume from:
    it has a readable ``CHECKPOINT_COMPLETE_MARKER`` and RLlib's top-level files
    (``RLLIB_CHECKPOINT_MARKERS``); else None.

    RLlib's files alone do not tell: Tune copies a checkpoint into the trial folder file by file
    (several threads, no fixed order, large files in chunks), so a copy cut short by a kill can
    hold every metadata file and a truncated or missing weights file. The marker is written only
    after Tune has reported the copy finished (``_tune_checkpoint_callback``).
    """
    if not all((checkpoint / name).is_file() for name in RLLIB_CHECKPOINT_MARKERS):
        return None
    return read_complete_marker(checkpoint)


@dataclass(frozen=True)
class ResumePlan:
    """How a resumed trial catches up with its checkpoint folders on disk (``plan_resume``).

    Attributes:
        recorded: The checkpoint in Tune's experiment state, or None.
        newer: Complete checkpoints newer than ``recorded``, oldest first, with their
            marker's metrics: register them with Tune in this order.
        incomplete: Folders newer than ``recorded`` that are not complete (cut short): left in
            place, never resumed from.
        last_index: The highest checkpoint folder number on disk, complete or not (-1 for none):
            new checkpoints are numbered after it, so no existing folder is written into.
    """

    recorded: Path | None
    newer: list[tuple[Path, dict[str, Any]]]
    incomplete: list[Path]
    last_index: int

    @property
    def resume_from(self) -> Path | None:
        """The newest complete checkpoint: where the trial continues."""
        return self.newer[-1][0] if self.newer else self.recorded


def plan_resume(trial_dir: Path, recorded: Path | None) -> ResumePlan:
    """What a trial resumed from ``trial_dir`` continues from, given Tune's ``recorded``
    checkpoint (Tune saves its experiment state at most every 10 s, so checkpoints written just
    before a crash are on disk but not in it)."""
    folders = [p for p in trial_dir.glob("checkpoint_*") if checkpoint_index(p) is not None]
    folders.sort(key=checkpoint_index)
    recorded_index = checkpoint_index(recorded) if recorded is not None else None
    floor = -1 if recorded_index is None else recorded_index
    newer, incomplete = [], []
    for folder in (p for p in folders if checkpoint_index(p) > floor):
        metrics = complete_marker(folder)
        if metrics is None:
            incomplete.append(folder)
        else:
            newer.append((folder, metrics))
    last_index = max([floor, *(checkpoint_index(p) for p in folders)])
    return ResumePlan(recorded, newer, incomplete, last_index)


def _tune_checkpoint_callback(*, resuming: bool, echo: Echo) -> Any:
    """The Tune callback that marks each persisted checkpoint complete and, when ``resuming``,
    moves every restored trial to its newest complete checkpoint before it starts."""
    from ray.train._internal.session import _TrainingResult
    from ray.tune import Callback, Checkpoint
    from ray.tune.experiment import Trial

    def on_local_disk(filesystem: Any) -> bool:
        return getattr(filesystem, "type_name", None) == "local"

    def catch_up(trial: Any) -> None:
        storage = trial.storage
        recorded = trial.checkpoint
        plan = plan_resume(
            Path(storage.trial_fs_path), Path(recorded.path) if recorded is not None else None
        )
        for path, metrics in plan.newer:  # Tune's own bookkeeping: latest, num_to_keep, index
            checkpoint = Checkpoint(path.as_posix(), storage.storage_filesystem)
            trial.on_checkpoint(_TrainingResult(checkpoint=checkpoint, metrics=metrics))
        storage.current_checkpoint_index = max(storage.current_checkpoint_index, plan.last_index)
        if plan.resume_from is not None:
            latest = trial.latest_checkpoint_result.metrics or {}
            iteration = latest.get("training_iteration", "?")
            echo(f"[{trial}] resuming from {plan.resume_from} (iteration {iteration})")
        for path in plan.incomplete:
            echo(f"[{trial}] {path} is incomplete (cut short); left as is", err=True)

    class _Checkpoints(Callback):
        def __init__(self) -> None:
            self.resuming = resuming

        def on_checkpoint(self, iteration: int, trials: list, trial: Any, checkpoint: Any, **_):
            if not on_local_disk(checkpoint.filesystem):
                return
            try:  # Tune skips registering a checkpoint whose callback raised
                write_complete_marker(Path(checkpoint.path), trial.last_result or {})
            except OSError as error:
                logger.warning("cannot mark %s complete: %s", checkpoint.path, error)

        def on_step_begin(self, iteration: int, trials: list, **_: Any) -> None:
            # Restored trials are all here at the first step, which then starts their actors
            # (with the storage's checkpoint number) and restores them (from the latest one).
            if not self.resuming:
                return
            self.resuming = False
            for trial in trials:
                if trial.status == Trial.PENDING and on_local_disk(
                    trial.storage.storage_filesystem
                ):
                    catch_up(trial)

    return _Checkpoints()


# ------------------------------------------------------------------------------------ Tune hooks


class InterruptStopper:
    """Tune stopper that stops every trial at its next result once Ctrl-C was pressed.

    Stopping through the stopper (instead of Tune's own SIGINT handling) makes the trial end as if
    it reached its stop criteria, so ``checkpoint_at_end`` writes a checkpoint. Once no started
    trial is left, the experiment is interrupted the way Tune's own handler does it (SIGUSR1):
    trials that never started stay pending, so a restore of the experiment runs them.
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
    """One line per trial result: iteration, success rate, return, time, ETA."""

    def __init__(self, stop_iters: int | None) -> None:
        self.stop_iters = stop_iters

    def line(self, trial_name: str, result: dict[str, Any]) -> str:
        from ray.tune.utils import flatten_dict

        flat = flatten_dict(result)
        iteration = int(flat.get("training_iteration", 0))
        parts = [f"[{trial_name}] iter {iteration}"]
        if self.stop_iters:
            parts[0] += f"/{self.stop_iters}"
        success = sorted((k for k in flat if k.endswith(SUCCESS_SUFFIX)), key=len)
        if success and is_number(flat[success[0]]):
            parts.append(f"success {flat[success[0]]:.3f}")
        for key in RETURN_KEYS:
            if is_number(flat.get(key)):
                parts.append(f"return {flat[key]:.3f}")
                break
        elapsed = flat.get("time_total_s")
        if is_number(elapsed):
            parts.append(f"time {_duration(elapsed)}")
            if self.stop_iters and iteration and iteration < self.stop_iters:
                eta = elapsed / iteration * (self.stop_iters - iteration)
                parts.append(f"ETA {_duration(eta)}")
        return "  ".join(parts)


def _tune_progress_callback(stop_iters: int | None, echo: Echo) -> Any:
    from ray.tune import Callback

    class _Progress(ProgressCallback, Callback):
        def on_trial_start(self, iteration: int, trials: list, trial: Any, **_: Any) -> None:
            _live_trials.add(trial.trial_id)

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **_: Any):
            echo(self.line(str(trial), result))

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **_: Any) -> None:
            _live_trials.discard(trial.trial_id)

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **_: Any) -> None:
            _live_trials.discard(trial.trial_id)
            echo(f"[{trial}] failed; see {trial.local_path}/error.txt", err=True)

    return _Progress(stop_iters)


# ------------------------------------------------------------------------------------ helpers


def describe_space(space: Any) -> str:
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
    """The last non-empty line of an error (Tune's wrapped errors end with the cause), cut."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(error).__name__


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
