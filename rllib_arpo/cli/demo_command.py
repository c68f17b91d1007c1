"""``arpo demo``: README command 1 (warm start, ARPO on MiniDesk, before/after summary)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from rllib_arpo.policy.paths import (
    COMMITTED_WARMSTART_FAMILIES,
    COMMITTED_WARMSTART_LEVEL,
    cache_dir,
    committed_warmstart,
    warmstart_record,
)

DEFAULT_WARM_FAMILIES = ",".join(COMMITTED_WARMSTART_FAMILIES)
# The warm start saw no demonstrations of these; its success on them is partial.
DEFAULT_RL_FAMILIES = "drag_slider,select_dropdown"
PROGRESS_WINDOW = 50
"""Iterations the progress line averages sampled success over."""


def _quiet_libraries() -> None:
    """The demo prints its own progress: silence library banners, deprecation notes and bars."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for name in ("ray", "ray.rllib", "ray.tune", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Run directory [default: runs/demo-<time>].",
)
@click.option(
    "--warmstart",
    "warmstart_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Warm-start checkpoint [default: the committed one for the default families and "
    "level, else built once and cached].",
)
@click.option(
    "--warm-families",
    default=DEFAULT_WARM_FAMILIES,
    show_default=True,
    help="Families the warm start is shown demonstrations of.",
)
@click.option(
    "--warm-minutes",
    default=10.0,
    show_default=True,
    help="Time budget of the warm start when it has to be built.",
)
@click.option(
    "--rl-families",
    default=DEFAULT_RL_FAMILIES,
    show_default=True,
    help="Families ARPO trains and is evaluated on.",
)
@click.option(
    "--level",
    default=COMMITTED_WARMSTART_LEVEL,
    show_default=True,
    type=click.Choice(["grid112", "grid224"]),
    help="Curriculum level (screen size).",
)
@click.option("--minutes", default=6.0, show_default=True, help="ARPO training time budget.")
@click.option("--iterations", default=None, type=int, help="Stop after this many iterations.")
@click.option(
    "--eval-episodes",
    default=200,
    show_default=True,
    help="Held-out episodes per family, before and after.",
)
@click.option("--group-size", default=8, show_default=True)
@click.option("--tasks-per-iteration", default=4, show_default=True)
@click.option("--lr", default=1e-4, show_default=True, help="ARPO learning rate.")
@click.option(
    "--epochs",
    default=2,
    show_default=True,
    help="Optimizer passes over each iteration's batch (RLlib's num_epochs).",
)
@click.option(
    "--training-seeds",
    default=16,
    show_default=True,
    type=click.IntRange(min=1),
    help="RL training tasks per family (seeds from 100,000; held-out seeds start at 0). Success "
    "replay is per task: it acts when tasks come back.",
)
@click.option(
    "--replay/--no-replay",
    default=True,
    show_default=True,
    help="Success replay (ARPO) or none (plain GRPO, for comparison).",
)
@click.option("--seed", default=0, show_default=True)
def demo_command(
    out_dir: str | None,
    warmstart_dir: str | None,
    warm_families: str,
    warm_minutes: float,
    rl_families: str,
    level: str,
    minutes: float,
    iterations: int | None,
    eval_episodes: int,
    group_size: int,
    tasks_per_iteration: int,
    lr: float,
    epochs: int,
    training_seeds: int,
    replay: bool,
    seed: int,
) -> None:
    """Warm-start a tiny VLM agent, train ARPO on MiniDesk (CPU), report success before/after."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    _quiet_libraries()
    from envs.minidesk.families import GRID_LEVELS
    from rllib_arpo.cli.warmstart_command import csv_list, run_warmstart
    from rllib_arpo.recipes import demo

    warm = csv_list(warm_families)
    rl = csv_list(rl_families)
    out = Path(out_dir or f"runs/demo-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    screen = GRID_LEVELS[level]
    max_steps, max_new_tokens = 4, 48

    # 1. Warm start: the committed checkpoint, else built once and cached.
    committed = committed_warmstart(warm, level, seed)
    if warmstart_dir is None and committed is not None:
        warm_path = committed
    elif warmstart_dir is None:
        name = f"warmstart-{level}-{'-'.join(sorted(warm))}-{warm_minutes:g}min-s{seed}"
        warm_path = cache_dir() / name
    else:
        warm_path = Path(warmstart_dir)
    if not (warm_path / "config.json").exists():
        click.echo(
            f"[1/4] warm start: {warm_minutes:g} min of supervised steps on "
            f"{', '.join(warm)} ({level}); cached at {warm_path}"
        )
        run_warmstart(
            warm_path,
            families=warm,
            levels=[level],
            steps=10**9,
            time_limit_min=warm_minutes,
            seed=seed,
        )
    else:
        record = warmstart_record(warm_path)
        made = (
            f" ({record['steps']} supervised steps, {record['duration_s'] / 60:.0f} min, on "
            f"{', '.join(record['families'])})"
            if record
            else ""
        )
        click.echo(f"[1/4] warm start: {warm_path}{made}")

    from envs.minidesk.env import MiniDeskEnv
    from rllib_arpo.policy.load import load_policy

    def env_factory() -> MiniDeskEnv:
        return MiniDeskEnv(screen_size=screen, max_steps=max_steps)

    held_out = demo.held_out_tasks(rl, level, eval_episodes)
    click.echo(f"[2/4] held-out evaluation before RL: {len(held_out)} episodes, greedy")
    warm_policy = load_policy(warm_path)
    before = demo.evaluate_success(
        warm_policy,
        env_factory,
        held_out,
        max_steps=max_steps,
        max_new_tokens=max_new_tokens,
    )
    # The reference a trained policy must beat to have learned more than a default click.
    fixed_click = demo.best_fixed_click(
        env_factory,
        held_out,
        demo.grid_cell_centres(screen),
        warm_policy.coordinate_space,
        max_steps=max_steps,
    )
    del warm_policy

    # 3. ARPO.
    import ray

    from rllib_arpo.config import ARPOConfig
    from rllib_arpo.registration import register

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        object_store_memory=256 * 1024 * 1024,
        ignore_reinit_error=True,
    )
    _quiet_libraries()  # ray.init installs its own handlers on the "ray" loggers
    register()
    config = (
        ARPOConfig()
        .environment(
            "minidesk",
            env_config={
                "screen_size": list(screen),
                "max_steps": max_steps,
                "task_families": rl,
                "training_seeds": training_seeds,
            },
        )
        .training(
            task_order="random",
            group_size=group_size,
            tasks_per_iteration=tasks_per_iteration,
            max_steps_per_episode=max_steps,
            max_new_tokens=max_new_tokens,
            policy_path=str(warm_path),
            lr=lr,
            num_epochs=epochs,
            use_replay=replay,
            minibatch_size=group_size * tasks_per_iteration,
        )
        .debugging(seed=seed)
    )
    budget = f"{iterations} iterations" if iterations is not None else f"{minutes:g} min"
    click.echo(
        f"[3/4] ARPO on {', '.join(rl)} ({level}, {training_seeds} training tasks each): {budget}, "
        f"{tasks_per_iteration} tasks x {group_size} episodes per iteration, "
        f"success replay {'on' if replay else 'off (GRPO)'}"
    )

    recent: list[float] = []

    def progress(iteration: int, result: dict, elapsed: float) -> None:
        eta = ""
        if iterations is None:
            eta = f"  eta {max(0.0, minutes * 60 - elapsed) / 60:.1f} min"
        recent.append(float(result.get("rollout/success_rate", 0.0)))
        del recent[:-PROGRESS_WINDOW]
        click.echo(
            f"\r  iteration {iteration}  success {recent[-1]:.2f} "
            f"(last {len(recent)}: {sum(recent) / len(recent):.2f})  "
            f"reward {result.get('reward/mean', 0):+.2f}  elapsed {elapsed / 60:.1f} min{eta}   ",
            nl=False,
        )

    algo, done, seconds, interrupted, history = demo.train_arpo(
        config,
        out,
        iterations=iterations,
        minutes=None if iterations else minutes,
        on_iteration=progress,
    )
    click.echo("")
    checkpoint = out / "checkpoint"
    algo.save_to_path(checkpoint)
    trained = algo.learner_group._learner.module["default_policy"].policy
    policy_dir = Path(trained.export(out / "policy"))
    algo.stop()
    ray.shutdown()

    click.echo(f"[4/4] held-out evaluation after RL: {len(held_out)} episodes, greedy")
    after = demo.evaluate_success(
        trained, env_factory, held_out, max_steps=max_steps, max_new_tokens=max_new_tokens
    )
    table = demo.summary_table(before, after, fixed_click)
    summary = {
        "before": {f: s.rate for f, s in before.items()},
        "after": {f: s.rate for f, s in after.items()},
        "fixed_click": {f: s.rate for f, s in fixed_click.items()},
        "episodes_per_family": eval_episodes,
        "iterations": done,
        "use_replay": replay,
        "training_seeds": training_seeds,
        "train_seconds": round(seconds, 1),
        "interrupted": interrupted,
        "history": history,
        "warmstart": str(warm_path),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    tensorboard = out / "tensorboard"
    click.echo("")
    click.echo(
        f"ARPO demo: {done} iterations in {seconds / 60:.1f} min"
        f"{' (interrupted)' if interrupted else ''}; greedy success on held-out seeds"
    )
    click.echo(table)
    click.echo(
        "(fixed click: the best single click on the same seeds that ignores the screen and the "
        "instruction; a policy at that level learned a default, not to read the task)"
    )
    trend = demo.sampled_success_trend(history)
    if trend is not None:
        first, last, window = trend
        click.echo(
            f"sampled success while training (T=1, training seeds): first {window} iterations "
            f"{first * 100:.1f}%, last {window} {last * 100:.1f}%"
        )
    click.echo("")
    click.echo(f"checkpoint:       {checkpoint}")
    click.echo(f"trained policy:   {policy_dir}")
    click.echo(f"TensorBoard logs: {tensorboard}")
    click.echo(f"  tensorboard --logdir {tensorboard}")
