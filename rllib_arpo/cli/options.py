"""Click options and error mapping shared by the ``arpo`` commands: each declared once.

``SettingsOptions`` gives a command's options the defaults of the recipe settings it fills
(``recipes.demo.DemoSettings``, ``recipes.warmstart.WarmstartSettings``), so each default is
spelled once, in the recipe.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from rllib_arpo.policy.tiny import DEFAULT_TINY_SIZE, TINY_SIZES


def csv_list(value: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in value.split(",") if part.strip()]


class SettingsOptions:
    """``click.option`` with the default taken from a settings object's field of the same name.

    ``option = SettingsOptions(DemoSettings())``; ``@option("--warm-minutes", help=...)``
    defaults to ``DemoSettings().warm_minutes`` (the parameter name, as click derives it, names
    the field). ``csv=True`` makes a comma-separated list flag: the command gets a list.
    """

    def __init__(self, defaults: Any) -> None:
        self.defaults = defaults

    def __call__(self, *param_decls: str, csv: bool = False, **attrs: Any) -> Callable[..., Any]:
        default = getattr(self.defaults, _param_name(param_decls))
        if csv:
            default = ",".join(default)
            attrs["callback"] = lambda ctx, param, value: csv_list(value)
        return click.option(*param_decls, default=default, **attrs)


class ScreenSize(click.ParamType):
    """``WIDTHxHEIGHT`` (``1920x1080``) -> ``(width, height)``, both positive ints."""

    name = "WIDTHxHEIGHT"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            width, height = (int(part) for part in str(value).lower().split("x"))
        except ValueError:
            self.fail(f"expected WIDTHxHEIGHT such as 1920x1080, got {value!r}", param, ctx)
        if width <= 0 or height <= 0:
            self.fail(f"sizes must be positive, got {value!r}", param, ctx)
        return width, height


SCREEN_SIZE = ScreenSize()


def _param_name(param_decls: tuple[str, ...]) -> str:
    """The Python name click gives an option: the bare name if one is declared, else the first
    long flag (``--replay/--no-replay`` -> ``replay``)."""
    bare = [d for d in param_decls if not d.startswith("-")]
    if bare:
        return bare[0]
    flag = next(d for d in param_decls if d.startswith("--"))
    return flag.split("/")[0].removeprefix("--").replace("-", "_")


def out_dir_option(*, required: bool, help: str) -> Callable[..., Any]:
    """``--out DIR`` as the parameter ``out_dir``."""
    return click.option(
        "--out", "out_dir", required=required, type=click.Path(file_okay=False), help=help
    )


def tiny_size_option(help: str) -> Callable[..., Any]:
    """``--size``: a tiny model size (``policy.tiny.TINY_SIZES``)."""
    return click.option(
        "--size",
        default=DEFAULT_TINY_SIZE,
        show_default=True,
        type=click.Choice(list(TINY_SIZES)),
        help=help,
    )


def recipe_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """A recipe's ``SettingError`` -> click's bad-parameter error (exit 2) on the flag named like
    the setting; a policy that does not load -> ``Error: ...`` (exit 1)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rllib_arpo.policy.load import PolicyLoadError
        from rllib_arpo.recipes import SettingError

        try:
            return command(*args, **kwargs)
        except SettingError as error:
            flag = "--" + error.setting.replace("_", "-")
            raise click.BadParameter(str(error), param_hint=flag) from None
        except PolicyLoadError as error:
            raise click.ClickException(str(error)) from None

    return wrapper
