"""``arpo warmstart``: supervised fine-tuning on MiniDesk's scripted-expert demonstrations."""

from __future__ import annotations

import functools
from typing import Any

import click

from rllib_arpo.cli.options import SettingsOptions, out_dir_option, recipe_errors, tiny_size_option
from rllib_arpo.recipes.warmstart import WarmstartSettings

option = SettingsOptions(WarmstartSettings())


@click.command("warmstart", context_settings={"show_default": True})
@out_dir_option(required=True, help="Directory to write the warm-started checkpoint to.")
@option(
    "--policy", help="Checkpoint directory to start from [default: a fresh tiny model of --size]."
)
@tiny_size_option("Tiny model size.")
@option("--families", csv=True, help="Comma-separated MiniDesk task families to demonstrate.")
@option("--levels", csv=True, help="Comma-separated levels (easy, medium, hard, grid112, grid224).")
@option("--steps", help="Optimizer steps at most.")
@option("--time-limit-min", type=float, help="Stop after this many minutes.")
@option("--batch-size", help="Demo episodes per step.")
@option("--lr", help="Peak AdamW learning rate.")
@option("--seed", help="Seed of weights and demo draws.")
@recipe_errors
def warmstart_command(out_dir: str, **flags: Any) -> None:
    """Teach a policy the UI-TARS format (and the expert's moves) from MiniDesk demonstrations.

    Demonstrations come from the scripted expert on freshly drawn task seeds (seeds below
    1,000,000 are never drawn, so evaluations on them are held out). Ctrl-C stops early and
    still writes the checkpoint.
    """
    from rllib_arpo.recipes.warmstart import run_warmstart

    run_warmstart(
        out_dir,
        WarmstartSettings(**flags),
        say=click.echo,
        progress=functools.partial(click.echo, nl=False),
    )
