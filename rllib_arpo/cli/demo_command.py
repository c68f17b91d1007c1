"""``arpo demo``: README command 1 (warm start, ARPO on MiniDesk, before/after summary)."""

from __future__ import annotations

import functools
from typing import Any

import click

from rllib_arpo.cli.options import SettingsOptions, out_dir_option, recipe_errors
from rllib_arpo.recipes.demo import DemoSettings
from rllib_arpo.rollout.tasks import TASK_ORDERS

option = SettingsOptions(DemoSettings())


@click.command("demo", context_settings={"show_default": True})
@out_dir_option(required=False, help="Run directory [default: runs/demo-<time>].")
@option(
    "--warmstart",
    "warmstart_dir",
    type=click.Path(file_okay=False),
    help="Warm-start checkpoint [default: the committed one for the default families and "
    "level, else built once and cached].",
)
@option("--warm-families", csv=True, help="Families the warm start is shown demonstrations of.")
@option("--warm-minutes", help="Time budget of the warm start when it has to be built.")
@option("--rl-families", csv=True, help="Families ARPO trains and is evaluated on.")
@option("--level", help="Curriculum level: a MiniDesk grid level (its screen size).")
@option("--minutes", help="ARPO training time budget.")
@option("--iterations", type=int, help="Stop after this many iterations.")
@option("--eval-episodes", help="Held-out episodes per family, before and after.")
@option(
    "--eval-every",
    type=click.IntRange(min=0),
    help="Also evaluate on the held-out episodes every this many RL iterations (0: before and "
    "after only); the training clock stops meanwhile.",
)
@option("--group-size", help="Episodes per task (one group).")
@option("--tasks-per-iteration", help="Tasks (groups) per iteration.")
@option("--lr", help="ARPO learning rate.")
@option("--epochs", help="Optimizer passes over each iteration's batch (RLlib's num_epochs).")
@option(
    "--training-seeds",
    type=click.IntRange(min=1),
    help="RL training tasks per family (seeds from 100,000; held-out seeds start at 0). Success "
    "replay is per task: it acts when tasks come back.",
)
@option("--replay/--no-replay", help="Success replay (ARPO) or none (plain GRPO, for comparison).")
@option(
    "--task-order",
    type=click.Choice(TASK_ORDERS),
    help="Tasks drawn per iteration: at random, in turn, or curated (favouring tasks whose "
    "groups come out mixed; resting tasks always or never solved).",
)
@option("--seed", help="Seed of the warm start, the algorithm and the task order.")
@option(
    "--env-runners",
    type=click.IntRange(min=0),
    help="Ray env runners that sample (0: the driver samples).",
)
@option(
    "--max-policy-lag",
    type=click.IntRange(min=0),
    help="Asynchronous rollouts: env runners sample while the learner updates, on weights at "
    "most this many updates old (0: synchronous; needs --env-runners 1 or more).",
)
@recipe_errors
def demo_command(**flags: Any) -> None:
    """Warm-start a tiny VLM agent, train ARPO on MiniDesk (CPU), report success before/after."""
    from rllib_arpo.recipes.demo import report_lines, run_demo

    result = run_demo(
        DemoSettings(**flags),
        say=click.echo,
        progress=functools.partial(click.echo, nl=False),
    )
    for line in report_lines(result):
        click.echo(line)
