"""The CPU demo behind README command 1: warm start, ARPO on MiniDesk, before/after success.

``run_demo`` runs the four steps and returns a ``DemoResult``; ``report_lines`` is its summary.

1. Warm start: the committed checkpoint when the settings match it, else one built once with
   ``recipes.warmstart.run_warmstart`` and cached (or the directory given).
2. Held-out evaluation before RL (``recipes.held_out``): greedy success per RL family on task
   seeds that neither the warm start nor RL ever draws, and the best fixed click on them.
3. ARPO on the RL families (training seeds only), for a time budget or a number of iterations,
   writing TensorBoard events, a checkpoint and the trained policy (``ARPO.export_policy``).
4. The same held-out evaluation of the exported policy, and ``summary.json``.

Ray runs in step 3 only (a local Ray, started and shut down here).
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rllib_arpo.core import metrics as M
from rllib_arpo.core.metrics import (
    REPLAY_INJECTIONS,
    REWARD_MEAN,
    ROLLOUT_SUCCESS_RATE,
    TRAIN_NUM_TRAJECTORIES,
)
from rllib_arpo.launch.run import disable_local_ray_auth
from rllib_arpo.policy.paths import (
    COMMITTED_WARMSTART_FAMILIES,
    COMMITTED_WARMSTART_LEVEL,
    cache_dir,
    committed_warmstart,
    warmstart_record,
)
from rllib_arpo.recipes import SettingError
from rllib_arpo.recipes.held_out import (
    FamilyScore,
    best_fixed_click,
    evaluate_greedy,
    grid_cell_centres,
    held_out_tasks,
)
from rllib_arpo.recipes.warmstart import WarmstartSettings, check_warmstart_inputs, run_warmstart
from rllib_arpo.rollout.loop import RolloutSettings

logger = logging.getLogger(__name__)

DEFAULT_RL_FAMILIES = ("drag_slider", "select_dropdown")
"""The warm start saw no demonstrations of these; its success on them is partial."""
MAX_STEPS = 4
"""Steps per demo episode (training and evaluation)."""
MAX_NEW_TOKENS = 48
"""Tokens per answer (training and evaluation)."""
PROGRESS_WINDOW = 50
"""Iterations the progress line averages sampled success over."""
TREND_FRACTION = 0.1
"""``sampled_success_trend`` compares the first and the last tenth of the iterations."""
DEMO_RAY: dict[str, Any] = {
    "num_cpus": 2,
    "object_store_memory": 256 * 1024 * 1024,
    "include_dashboard": False,
    "log_to_driver": False,
    "logging_level": "ERROR",
    "ignore_reinit_error": True,
}
"""``ray.init`` of the demo's local Ray: 2 CPUs, a small object store, quiet."""
QUIET_LOGGERS = ("ray", "ray.rllib", "ray.tune", "ray.data")
CHECKPOINT_DIR = "checkpoint"
"""In the run directory: the algorithm checkpoint (``Algorithm.save_to_path``)."""
POLICY_DIR = "policy"
"""In the run directory: the trained policy (``ARPO.export_policy``)."""
TENSORBOARD_DIR = "tensorboard"
"""In the run directory: TensorBoard event files."""


@dataclass(frozen=True)
class DemoSettings:
    """One demo run; each field is the ``arpo demo`` flag of the same name."""

    out_dir: str | Path | None = None
    """Run directory [default: ``runs/demo-<time>``]."""
    warmstart_dir: str | Path | None = None
    """Warm-start checkpoint [default: ``warmstart_path``]."""
    warm_families: Sequence[str] = COMMITTED_WARMSTART_FAMILIES
    """Families the warm start is shown demonstrations of."""
    warm_minutes: float = 10.0
    """Time budget of the warm start when it has to be built."""
    rl_families: Sequence[str] = DEFAULT_RL_FAMILIES
    """Families ARPO trains and is evaluated on."""
    level: str = COMMITTED_WARMSTART_LEVEL
    """MiniDesk grid level (its screen size)."""
    minutes: float = 6.0
    """ARPO training time budget (when ``iterations`` is None)."""
    iterations: int | None = None
    """Stop after this many iterations."""
    eval_episodes: int = 200
    """Held-out episodes per family, before and after."""
    eval_every: int = 0
    """Also evaluate on the held-out episodes every this many RL iterations (0: before and after
    only). Its time stops the training clock (the time budget and ``train_seconds``)."""
    group_size: int = RolloutSettings.group_size
    """Episodes per task (one GRPO group)."""
    tasks_per_iteration: int = 4
    """Tasks (groups) per iteration."""
    lr: float = 1e-4
    """ARPO learning rate."""
    epochs: int = 2
    """Optimizer passes over each iteration's batch (RLlib's num_epochs)."""
    training_seeds: int = 16
    """RL training tasks per family (success replay is per task)."""
    replay: bool = True
    """Success replay (ARPO), or none (plain GRPO)."""
    task_order: str = "random"
    """Which training tasks each iteration draws: "random", "cycle" or "curated" (weighted
    toward tasks whose groups come out mixed: ``core.curation``)."""
    seed: int = 0
    """Seeds the warm start, the algorithm and the task order."""
    env_runners: int = 0
    """Ray env runners that sample (0: the driver samples)."""
    max_policy_lag: int = 0
    """Asynchronous rollouts (``docs/async.md``): runners sample while the learner updates, on
    weights at most this many updates old (0: synchronous). Needs ``env_runners`` >= 1."""


@dataclass
class TrainingRun:
    """How step 3 went: iterations done, seconds, whether Ctrl-C stopped it, per iteration its
    ``HISTORY_FIELDS``, and the held-out evaluations during training (``eval_every``): the
    iteration, the trajectories trained by then, and the success per family."""

    iterations: int
    seconds: float
    interrupted: bool
    history: list[dict[str, float]]
    held_out: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DemoResult:
    """What a demo run measured, and where it wrote the checkpoint, policy and TensorBoard logs."""

    settings: DemoSettings
    run_dir: Path
    warmstart: Path
    before: dict[str, FamilyScore]
    after: dict[str, FamilyScore]
    fixed_click: dict[str, FamilyScore]
    training: TrainingRun

    @property
    def checkpoint(self) -> Path:
        return self.run_dir / CHECKPOINT_DIR

    @property
    def policy_dir(self) -> Path:
        return self.run_dir / POLICY_DIR

    @property
    def tensorboard(self) -> Path:
        return self.run_dir / TENSORBOARD_DIR

    def summary(self) -> dict[str, Any]:
        """The contents of ``summary.json``."""
        return {
            "before": {f: s.rate for f, s in self.before.items()},
            "after": {f: s.rate for f, s in self.after.items()},
            "fixed_click": {f: s.rate for f, s in self.fixed_click.items()},
            "episodes_per_family": self.settings.eval_episodes,
            "iterations": self.training.iterations,
            "use_replay": self.settings.replay,
            "env_runners": self.settings.env_runners,
            "max_policy_lag": self.settings.max_policy_lag,
            "training_seeds": self.settings.training_seeds,
            "train_seconds": round(self.training.seconds, 1),
            "interrupted": self.training.interrupted,
            "history": self.training.history,
            "held_out_during": self.training.held_out,
            "warmstart": str(self.warmstart),
        }


# ------------------------------------------------------------------------------------ the run


def run_demo(
    settings: DemoSettings,
    *,
    say: Callable[[str], None] = logger.info,
    progress: Callable[[str], None] = logger.debug,
) -> DemoResult:
    """Runs the demo (module docstring) and writes ``summary.json`` in the run directory.

    Args:
        settings: The run.
        say: Gets whole lines (each step's header).
        progress: Gets progress lines, each meant to overwrite the last (``\\r``, no newline).

    Raises:
        SettingError: Unknown families or level.
    """
    from envs.minidesk.env import MiniDeskEnv

    screen = check_settings(settings)
    quiet_libraries()
    out = run_dir(settings.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Warm start.
    warm_path = warmstart_path(settings)
    _ensure_warmstart(warm_path, settings, say, progress)

    # 2. Held-out evaluation before RL.
    from rllib_arpo.policy.load import load_policy

    env_factory = partial(MiniDeskEnv, screen_size=screen, max_steps=MAX_STEPS)
    held_out = held_out_tasks(settings.rl_families, settings.level, settings.eval_episodes)
    evaluate = partial(
        evaluate_greedy,
        env_factory=env_factory,
        tasks=held_out,
        max_steps=MAX_STEPS,
        max_new_tokens=MAX_NEW_TOKENS,
    )
    say(f"[2/4] held-out evaluation before RL: {len(held_out)} episodes, greedy")
    warm_policy = load_policy(warm_path)
    before = evaluate(warm_policy)
    # The reference a trained policy must beat to have learned more than a default click.
    fixed_click = best_fixed_click(
        env_factory,
        held_out,
        grid_cell_centres(screen),
        warm_policy.coordinate_space,
        max_steps=MAX_STEPS,
    )
    del warm_policy

    # 3. ARPO (with held-out evaluations every ``eval_every`` iterations).
    during: list[dict[str, Any]] = []

    def evaluate_now(algo: Any, history: list[dict[str, float]]) -> None:
        with tempfile.TemporaryDirectory() as exported:
            algo.export_policy(exported)
            scores = evaluate(load_policy(exported))
        trained = sum(h["trained_trajectories"] for h in history if h["trained_trajectories"] > 0)
        during.append(
            {
                "iteration": len(history),
                "trained_trajectories": trained,
                "rates": {family: score.rate for family, score in scores.items()},
            }
        )

    training = _train_on_ray(
        settings,
        warm_path,
        screen,
        out,
        say,
        progress,
        evaluate_now if settings.eval_every else None,
    )
    training.held_out = during

    # 4. Held-out evaluation after RL, of the exported policy.
    say(f"[4/4] held-out evaluation after RL: {len(held_out)} episodes, greedy")
    after = evaluate(load_policy(out / POLICY_DIR))
    result = DemoResult(settings, out, warm_path, before, after, fixed_click, training)
    (out / "summary.json").write_text(json.dumps(result.summary(), indent=2))
    return result


def report_lines(result: DemoResult) -> list[str]:
    """The demo's closing summary: the before/after table, the training trend, where things are."""
    from rllib_arpo.recipes.held_out import summary_table

    training = result.training
    variant = "ARPO" if result.settings.replay else "GRPO (no success replay)"
    lines = [
        "",
        f"{variant} demo: {training.iterations} iterations in {training.seconds / 60:.1f} min"
        f"{' (interrupted)' if training.interrupted else ''}; greedy success on held-out seeds",
        summary_table(result.before, result.after, result.fixed_click),
        "(fixed click: the best single click on the same seeds that ignores the screen and the "
        "instruction; a policy at that level learned a default, not to read the task)",
    ]
    trend = sampled_success_trend(training.history)
    if trend is not None:
        first, last, window = trend
        lines.append(
            f"sampled success while training (T=1, training seeds): first {window} iterations "
            f"{first * 100:.1f}%, last {window} {last * 100:.1f}%"
        )
    lines += [
        "",
        f"checkpoint:       {result.checkpoint}",
        f"trained policy:   {result.policy_dir}",
        f"TensorBoard logs: {result.tensorboard}",
        f"  tensorboard --logdir {result.tensorboard}",
    ]
    return lines


def check_settings(settings: DemoSettings) -> tuple[int, int]:
    """The screen size of ``settings.level``; ``SettingError`` naming the setting on an unknown
    level or family (before anything is built or trained)."""
    from envs.minidesk.families import GRID_LEVELS, check_family_names

    if settings.level not in GRID_LEVELS:
        raise SettingError(
            "level", f"unknown level {settings.level!r}; choose from {', '.join(GRID_LEVELS)}"
        )
    try:
        check_family_names(settings.rl_families)
    except ValueError as error:
        raise SettingError("rl_families", str(error)) from None
    for name in ("max_policy_lag", "env_runners", "eval_every"):
        if getattr(settings, name) < 0:
            raise SettingError(name, f"must be >= 0, got {getattr(settings, name)}")
    if settings.max_policy_lag and not settings.env_runners:
        raise SettingError(
            "max_policy_lag",
            f"{settings.max_policy_lag} (asynchronous rollouts) samples in env runners while the "
            "learner updates: set --env-runners 1 or more",
        )
    return check_warmstart_inputs(
        settings.warm_families, [settings.level], setting_names=("warm_families", "level")
    )


def run_dir(out_dir: str | Path | None) -> Path:
    """The run directory, absolute: ``out_dir``, or ``runs/demo-<time>``."""
    return Path(out_dir or f"runs/demo-{time.strftime('%Y%m%d-%H%M%S')}").resolve()


def warmstart_path(settings: DemoSettings) -> Path:
    """Where the warm start is: the given directory; else the committed checkpoint when families,
    level and seed match it; else the cache entry for these settings (built if missing)."""
    if settings.warmstart_dir is not None:
        return Path(settings.warmstart_dir)
    committed = committed_warmstart(settings.warm_families, settings.level, settings.seed)
    if committed is not None:
        return committed
    families = "-".join(sorted(settings.warm_families))
    name = f"warmstart-{settings.level}-{families}-{settings.warm_minutes:g}min-s{settings.seed}"
    return cache_dir() / name


def quiet_libraries() -> None:
    """The demo reports its own progress: silence library banners, deprecation notes and bars."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _ensure_warmstart(
    path: Path,
    settings: DemoSettings,
    say: Callable[[str], None],
    progress: Callable[[str], None],
) -> None:
    families = ", ".join(settings.warm_families)
    if (path / "config.json").exists():
        record = warmstart_record(path)
        made = (
            f" ({record['steps']} supervised steps, {record['duration_s'] / 60:.0f} min, on "
            f"{', '.join(record['families'])})"
            if record
            else ""
        )
        say(f"[1/4] warm start: {path}{made}")
        return
    say(
        f"[1/4] warm start: {settings.warm_minutes:g} min of supervised steps on "
        f"{families} ({settings.level}); cached at {path}"
    )
    run_warmstart(
        path,
        WarmstartSettings(
            families=tuple(settings.warm_families),
            levels=(settings.level,),
            steps=10**9,
            time_limit_min=settings.warm_minutes,
            seed=settings.seed,
        ),
        say=say,
        progress=progress,
    )


def demo_config(settings: DemoSettings, warm_path: Path, screen: tuple[int, int]) -> Any:
    """The ``ARPOConfig`` of step 3: MiniDesk's RL families on training seeds, from the warm
    start, one minibatch per iteration."""
    from rllib_arpo.config import ARPOConfig

    return (
        ARPOConfig()
        .environment(
            "minidesk",
            env_config={
                "screen_size": list(screen),
                "max_steps": MAX_STEPS,
                "task_families": list(settings.rl_families),
                "training_seeds": settings.training_seeds,
            },
        )
        .env_runners(num_env_runners=settings.env_runners)
        .training(
            task_order=settings.task_order,
            max_policy_lag=settings.max_policy_lag,
            **rl_training(settings, warm_path, max_steps=MAX_STEPS, max_new_tokens=MAX_NEW_TOKENS),
        )
        .debugging(seed=settings.seed)
    )


def rl_training(
    settings: Any, warm_path: Path, *, max_steps: int, max_new_tokens: int
) -> dict[str, Any]:
    """The ``ARPOConfig.training`` arguments every recipe's RL phase sets the same way, from its
    settings (``group_size``, ``tasks_per_iteration``, ``lr``, ``epochs``, ``replay``): the warm
    start as the policy, one minibatch per iteration."""
    return dict(
        group_size=settings.group_size,
        tasks_per_iteration=settings.tasks_per_iteration,
        max_steps_per_episode=max_steps,
        max_new_tokens=max_new_tokens,
        policy_path=str(warm_path),
        lr=settings.lr,
        num_epochs=settings.epochs,
        use_replay=settings.replay,
        minibatch_size=settings.group_size * settings.tasks_per_iteration,
    )


def _train_on_ray(
    settings: DemoSettings,
    warm_path: Path,
    screen: tuple[int, int],
    out: Path,
    say: Callable[[str], None],
    progress: Callable[[str], None],
    evaluate: Callable[[Any, list[dict[str, float]]], None] | None = None,
) -> TrainingRun:
    """Step 3 on a local Ray: train (``evaluate`` every ``settings.eval_every`` iterations),
    save the checkpoint, export the policy, shut Ray down."""
    with local_ray():
        config = demo_config(settings, warm_path, screen)
        iterations = settings.iterations
        budget = (
            f"{iterations} iterations" if iterations is not None else f"{settings.minutes:g} min"
        )
        say(
            f"[3/4] ARPO on {', '.join(settings.rl_families)} ({settings.level}, "
            f"{settings.training_seeds} training tasks each): {budget}, "
            f"{settings.tasks_per_iteration} tasks x {settings.group_size} episodes per "
            f"iteration, success replay {'on' if settings.replay else 'off (GRPO)'}"
            + (
                f", asynchronous (policy lag <= {settings.max_policy_lag}, "
                f"{settings.env_runners} env runners)"
                if settings.max_policy_lag
                else ""
            )
        )
        line = ProgressLine(None if iterations is not None else settings.minutes * 60)
        algo, done, seconds, interrupted, history = train_arpo(
            config,
            out,
            iterations=iterations,
            minutes=None if iterations else settings.minutes,
            on_iteration=lambda *args: progress(line(*args)),
            evaluate_every=settings.eval_every,
            evaluate=evaluate,
        )
        say("")
        algo.save_to_path(out / CHECKPOINT_DIR)
        algo.export_policy(out / POLICY_DIR)
        algo.stop()
    return TrainingRun(done, seconds, interrupted, history)


@contextmanager
def local_ray() -> Iterator[None]:
    """A recipe's local Ray (``DEMO_RAY``) with ARPO and the envs registered; shut down on
    leaving, whatever happened inside."""
    import ray

    from rllib_arpo.registration import register

    disable_local_ray_auth()
    ray.init(**DEMO_RAY)
    try:
        quiet_libraries()  # ray.init installs its own handlers on the "ray" loggers
        register()
        yield
    finally:
        ray.shutdown()


def train_arpo(
    config: Any,
    out_dir: Path,
    *,
    iterations: int | None,
    minutes: float | None,
    on_iteration: Callable[[int, dict, float], None] | None = None,
    evaluate_every: int = 0,
    evaluate: Callable[[Any, list[dict[str, float]]], None] | None = None,
) -> tuple[Any, int, float, bool, list[dict[str, float]]]:
    """Builds ARPO (TensorBoard events in ``out_dir/tensorboard``) and trains until the budget.

    Every ``evaluate_every`` iterations but the last, ``evaluate(algo, history)`` runs with the
    clock stopped: its time counts neither in the budget nor in the seconds returned.
    Ctrl-C stops training, not the demo: the algorithm comes back to be saved and evaluated.

    Returns:
        (algorithm, iterations done, seconds, interrupted, history: per iteration its
        ``HISTORY_FIELDS``).
    """
    algo = config.training(tensorboard_dir=str(out_dir / TENSORBOARD_DIR)).build_algo()
    started = time.perf_counter()
    done, interrupted, history = 0, False, []
    try:
        while True:
            if iterations is not None and done >= iterations:
                break
            elapsed = time.perf_counter() - started
            if minutes is not None and elapsed >= minutes * 60:
                break
            result = algo.train()
            done += 1
            history.append(history_entry(done, result, time.perf_counter() - started))
            if on_iteration is not None:
                on_iteration(done, result, time.perf_counter() - started)
            last = iterations is not None and done == iterations  # evaluated after training
            if evaluate is not None and evaluate_every and done % evaluate_every == 0 and not last:
                paused = time.perf_counter()
                evaluate(algo, history)
                started += time.perf_counter() - paused  # the clock stood still
    except KeyboardInterrupt:
        interrupted = True
    return algo, done, time.perf_counter() - started, interrupted, history


HISTORY_FIELDS = (
    "iteration",
    "seconds",
    "success_rate",
    "reward_mean",
    "trained_trajectories",
    "replay_injections",
)
"""Per iteration in ``summary.json``'s history: its number, seconds since training began, sampled
(T=1) success rate, mean reward, trajectories the learners trained on (0: no update) and
trajectories the success replay injected."""


def history_entry(iteration: int, result: dict, seconds: float) -> dict[str, float]:
    """One iteration's ``HISTORY_FIELDS`` from its result dict (NaN where a metric is absent)."""
    nan = float("nan")
    return dict(
        zip(
            HISTORY_FIELDS,
            (
                iteration,
                round(seconds, 2),
                float(result.get(ROLLOUT_SUCCESS_RATE, nan)),
                float(result.get(REWARD_MEAN, nan)),
                float(result.get(TRAIN_NUM_TRAJECTORIES, nan)),
                float(result.get(REPLAY_INJECTIONS, 0.0)),
            ),
        )
    )


TIME_PARTS = ("reset", "env", "generation", "learner", "sync", "driver", "plumbing")
"""Where an iteration's time goes (``time_split``): env resets (a browser page, a VM snapshot), env
steps, generation, the learner's forward/backward/optimizer, weight sync, driver work (replay,
old log-probs), and the rest (RLlib plumbing: actor calls, episode conversion, metrics)."""


def time_split(result: dict, wall: float) -> dict[str, float]:
    """Seconds of one iteration per ``TIME_PARTS`` (plumbing: what the others leave of
    ``wall``)."""
    runners = result.get("env_runners", {})
    learner = result.get("learners", {}).get("default_policy", {})
    parts = {
        "reset": runners.get(M.ROLLOUT_RESET_S, 0.0),
        "env": runners.get(M.ROLLOUT_ENV_S, 0.0),
        "generation": runners.get(M.ROLLOUT_GENERATION_S, 0.0),
        "learner": learner.get(M.TIME_LEARNER_COMPUTE_S, 0.0),
        "sync": result.get(M.TIME_SYNC_S, 0.0),
        "driver": result.get(M.TIME_REPLAY_S, 0.0) + result.get(M.TIME_OLD_LOGP_S, 0.0),
    }
    # A metric is NaN in an iteration without its work (no learner update: no compute time).
    parts = {k: 0.0 if v is None or math.isnan(v) else float(v) for k, v in parts.items()}
    parts["plumbing"] = wall - sum(parts.values())
    return parts


class ProgressLine:
    """The training progress line: sampled success (and its mean over the last
    ``PROGRESS_WINDOW`` iterations), mean reward, elapsed time, and the ETA of a time budget."""

    def __init__(self, budget_s: float | None) -> None:
        self.budget_s = budget_s
        self.recent: list[float] = []

    def __call__(self, iteration: int, result: dict, elapsed: float) -> str:
        eta = ""
        if self.budget_s is not None:
            eta = f"  eta {max(0.0, self.budget_s - elapsed) / 60:.1f} min"
        self.recent.append(float(result.get(ROLLOUT_SUCCESS_RATE, 0.0)))
        del self.recent[:-PROGRESS_WINDOW]
        mean = sum(self.recent) / len(self.recent)
        return (
            f"\r  iteration {iteration}  success {self.recent[-1]:.2f} "
            f"(last {len(self.recent)}: {mean:.2f})  "
            f"reward {result.get(REWARD_MEAN, 0):+.2f}  elapsed {elapsed / 60:.1f} min{eta}   "
        )


def sampled_success_trend(
    history: Sequence[dict[str, float]], fraction: float = TREND_FRACTION
) -> tuple[float, float, int] | None:
    """Mean sampled (T=1) training success over the first and the last ``fraction`` of the
    iterations, and how many iterations each mean covers; None with fewer than 2 iterations."""
    rates = [h["success_rate"] for h in history if not math.isnan(h["success_rate"])]
    if len(rates) < 2:
        return None
    window = max(1, min(len(rates) // 2, round(len(rates) * fraction)))
    first, last = rates[:window], rates[-window:]
    return sum(first) / window, sum(last) / window, window
