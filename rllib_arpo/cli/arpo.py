"""The ``arpo`` command group."""

from __future__ import annotations

import json
import sys

import click

from rllib_arpo.cli.options import SCREEN_SIZE, tiny_size_option
from rllib_arpo.core.actions import action_to_dict, parse_response, to_pyautogui
from rllib_arpo.core.coords import COORDINATE_CONVENTIONS, CoordinateSpace, smart_resize


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def arpo() -> None:
    """rllib-arpo: ARPO for vision-language GUI agents."""


@arpo.command("action")
@click.argument("text")
@click.option(
    "--screen", type=SCREEN_SIZE, default="1920x1080", show_default=True, help="Screen size WxH."
)
@click.option(
    "--resized",
    type=SCREEN_SIZE,
    default=None,
    help="Size WxH of the image the model saw [default: smart_resize of --screen].",
)
@click.option(
    "--coords",
    type=click.Choice(COORDINATE_CONVENTIONS),
    default="absolute",
    show_default=True,
    help="absolute: pixels of the resized image (UI-TARS-1.5); relative1000: 0-1000 (v1).",
)
def action_command(
    text: str, screen: tuple[int, int], resized: tuple[int, int] | None, coords: str
) -> None:
    """Parse a model answer TEXT ('-' reads standard input) and print it as JSON with its code.

    Exits 1 when the answer does not parse (the JSON's "error" says why), so scripts can test it.
    """
    if text == "-":
        text = sys.stdin.read()
    screen_w, screen_h = screen
    try:
        if resized is None:
            resized_h, resized_w = smart_resize(screen_h, screen_w)
        else:
            resized_w, resized_h = resized
        space = CoordinateSpace(screen_w, screen_h, resized_w, resized_h, coords)  # type: ignore[arg-type]
    except ValueError as exc:  # a size beyond core.coords' bounds; the message names it
        raise click.BadParameter(str(exc), param_hint="--screen / --resized") from None
    parsed = parse_response(text, space)
    report: dict[str, object] = {
        "ok": parsed.ok,
        "thought": parsed.thought,
        "actions": [action_to_dict(a) for a in parsed.actions],
        "error": parsed.error,
        "pyautogui": to_pyautogui(parsed, space) if parsed.ok else None,
        "screen": [screen_w, screen_h],
        "resized": [resized_w, resized_h],
        "coords": coords,
    }
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    if not parsed.ok:
        sys.exit(1)


@arpo.command("tiny-model")
@click.argument("out_dir", type=click.Path(file_okay=False))
@tiny_size_option("Parameter count of the tiny UI-TARS-shaped model.")
@click.option("--seed", default=0, show_default=True, help="Weight initialisation seed.")
def tiny_model_command(out_dir: str, size: str, seed: int) -> None:
    """Write a tiny random-init Qwen2.5-VL checkpoint (UI-TARS-shaped, offline) to OUT_DIR."""
    from rllib_arpo.policy.tiny import tiny_model_main

    info = tiny_model_main(out_dir, size=size, seed=seed)
    click.echo(json.dumps(info, indent=2))


@arpo.command(
    "env-server",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def env_server_command(ctx: click.Context) -> None:
    """Serve one environment over HTTP (see docs/osworld.md; --help for the flags)."""
    from envs.server.app import main

    raise SystemExit(main(ctx.args))


def _register_commands() -> None:
    from rllib_arpo.cli.demo_command import demo_command
    from rllib_arpo.cli.warmstart_command import warmstart_command

    arpo.add_command(warmstart_command)
    arpo.add_command(demo_command)


_register_commands()


from rllib_arpo.cli.eval_commands import register as _register_eval_commands  # noqa: E402

_register_eval_commands(arpo)
