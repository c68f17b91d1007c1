"""``arpo warmstart``: supervised fine-tuning on MiniDesk's scripted-expert demonstrations."""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import click


def csv_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.command("warmstart")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write the warm-started checkpoint to.",
)
@click.option(
    "--policy",
    default=None,
    help="Checkpoint directory to start from [default: a fresh tiny model of --size].",
)
@click.option(
    "--size",
    default="1.4m",
    show_default=True,
    type=click.Choice(["0.2m", "1.4m", "4m", "25m"]),
    help="Tiny model size.",
)
@click.option(
    "--families",
    default="click_button",
    show_default=True,
    help="Comma-separated MiniDesk task families to demonstrate.",
)
@click.option(
    "--levels",
    default="grid112",
    show_default=True,
    help="Comma-separated levels (easy, medium, hard, grid112, grid224).",
)
@click.option("--steps", default=3000, show_default=True, help="Optimizer steps at most.")
@click.option("--time-limit-min", default=None, type=float, help="Stop after this many minutes.")
@click.option("--batch-size", default=16, show_default=True, help="Demo episodes per step.")
@click.option("--lr", default=3e-4, show_default=True, help="Peak AdamW learning rate.")
@click.option("--seed", default=0, show_default=True, help="Seed of weights and demo draws.")
def warmstart_command(
    out_dir: str,
    policy: str | None,
    size: str,
    families: str,
    levels: str,
    steps: int,
    time_limit_min: float | None,
    batch_size: int,
    lr: float,
    seed: int,
) -> None:
    """Teach a policy the UI-TARS format (and the expert's moves) from MiniDesk demonstrations.

    Demonstrations come from the scripted expert on freshly drawn task seeds (seeds below
    1,000,000 are never drawn, so evaluations on them are held out). Ctrl-C stops early and
    still writes the checkpoint.
    """
    run_warmstart(
        out_dir,
        policy=policy,
        size=size,
        families=csv_list(families),
        levels=csv_list(levels),
        steps=steps,
        time_limit_min=time_limit_min,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
    )


def run_warmstart(
    out_dir: str | Path,
    *,
    policy: str | None = None,
    size: str = "1.4m",
    families: Sequence[str] = ("click_button",),
    levels: Sequence[str] = ("grid112",),
    steps: int = 3000,
    time_limit_min: float | None = None,
    batch_size: int = 16,
    lr: float = 3e-4,
    seed: int = 0,
    echo: Callable[..., None] = click.echo,
) -> dict:
    """Warm-start a policy on MiniDesk expert demos, write it to ``out_dir``; returns the record
    also written to ``out_dir/warmstart.json`` (command, duration, steps, final loss, ...)."""
    import torch

    from envs.minidesk import families as family_module
    from envs.minidesk.env import MiniDeskEnv
    from envs.minidesk.expert import expert_action
    from rllib_arpo.policy.load import PolicyLoadError, load_policy
    from rllib_arpo.policy.tiny import write_tiny_checkpoint
    from rllib_arpo.recipes.warmstart import expert_demos, warm_start

    family_list, level_list = list(families), list(levels)
    unknown = [f for f in family_list if f not in family_module.FAMILIES]
    if unknown:
        raise click.BadParameter(
            f"unknown families {unknown}; choose from {', '.join(family_module.FAMILIES)}",
            param_hint="--families",
        )
    bad_levels = [level for level in level_list if level not in family_module.LEVELS]
    if bad_levels:
        raise click.BadParameter(
            f"unknown levels {bad_levels}; choose from {', '.join(family_module.LEVELS)}",
            param_hint="--levels",
        )
    screens = {
        family_module.GRID_LEVELS.get(level, family_module.DEFAULT_SCREEN) for level in level_list
    }
    if len(screens) > 1:
        raise click.BadParameter(
            f"levels {level_list} need different screen sizes {sorted(screens)}; warm-start one "
            "screen size at a time",
            param_hint="--levels",
        )
    out = Path(out_dir)
    torch.manual_seed(seed)
    if policy is None:
        base = write_tiny_checkpoint(tempfile.mkdtemp(prefix="arpo-base-"), size=size, seed=seed)
    else:
        base = Path(policy)
    try:
        model = load_policy(base)
    except PolicyLoadError as error:
        raise click.ClickException(str(error)) from None
    env = MiniDeskEnv(screen_size=screens.pop())
    rng_tasks = [
        family_module.task_id(family, level, family_module.DEMO_SEED_START + i)
        for family in family_list
        for level in level_list
        for i in range(20_000)
    ]
    make_demos = expert_demos(env, rng_tasks, expert_action)
    started = time.perf_counter()
    last_print = [0.0]

    def progress(step: int, loss: float) -> None:
        now = time.perf_counter() - started
        if now - last_print[0] >= 2.0 or step + 1 == steps:
            last_print[0] = now
            rate = (step + 1) / max(now, 1e-9)
            eta = (steps - step - 1) / rate
            if time_limit_min is not None:
                eta = min(eta, max(0.0, time_limit_min * 60 - now))
            done = f"{step + 1}" if time_limit_min else f"{step + 1}/{steps}"
            echo(
                f"\rwarmstart step {done}  loss {loss:.4f}  {rate:.1f} steps/s  "
                f"elapsed {now / 60:.1f} min  eta {eta / 60:.1f} min   ",
                nl=False,
            )

    losses: list[float] = []
    interrupted = False
    try:
        losses = warm_start(
            model,
            make_demos,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            time_limit_s=None if time_limit_min is None else time_limit_min * 60,
            on_step=progress,
            losses_out=losses,
        )
    except KeyboardInterrupt:
        interrupted = True
    echo("")
    duration = time.perf_counter() - started
    model.export(out)
    record = {
        "command": " ".join(shlex.quote(a) for a in ["arpo", *sys.argv[1:]]),
        "duration_s": round(duration, 1),
        "steps": len(losses),
        "final_loss": losses[-1] if losses else None,
        "families": family_list,
        "levels": level_list,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "interrupted": interrupted,
        "started_from": str(base),
    }
    (out / "warmstart.json").write_text(json.dumps(record, indent=2))
    echo(
        f"warm start {'interrupted' if interrupted else 'done'}: {len(losses)} steps in "
        f"{duration / 60:.1f} min, final loss {record['final_loss']}; checkpoint: {out}"
    )
    return record
