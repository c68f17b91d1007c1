"""Checks on user-given values (config fields, Tune files, CLI flags): the one definition of each.

A bool is not a number here (``True`` is an ``int`` to Python, never a learning rate to a user),
and neither is NaN or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from rllib_arpo.core.coords import number_text

E = TypeVar("E", bound=Enum)


def is_number(value: Any) -> bool:
    """A finite int or float, not a bool. An int of any size is finite (``math.isfinite``
    would raise ``OverflowError`` on one too large for a float)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def is_int(value: Any, minimum: int | None = None) -> bool:
    """An int (not a bool), at least ``minimum`` when given."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (minimum is None or value >= minimum)
    )


def is_positive(value: Any) -> bool:
    """A finite number > 0."""
    return is_number(value) and value > 0


def is_non_negative(value: Any) -> bool:
    """A finite number >= 0."""
    return is_number(value) and value >= 0


def parse_enum(enum_class: type[E], value: Any, name: str) -> E:
    """``value`` (a member or its string value) as a member of ``enum_class``.

    Raises:
        ValueError: naming ``name``, the bad value and the valid values.
    """
    try:
        return enum_class(value)
    except ValueError:
        valid = ", ".join(repr(member.value) for member in enum_class)
        raise ValueError(f"{name}={value!r} is not one of {valid}") from None


def enum_values(enum_class: type[Enum]) -> list[Any]:
    """The values of an enum's members, in order (what a config field may hold)."""
    return [member.value for member in enum_class]


@dataclass(frozen=True)
class Rule:
    """A check on one field's value and what it requires, for ``"<field> must be <requires>"``."""

    check: Callable[[Any], bool]
    requires: str

    def problem(self, name: str, value: Any) -> str | None:
        """``"<name> must be <requires>, got <value>"`` when the value fails, else None."""
        if self.check(value):
            return None
        shown = number_text(value) if is_int(value) else repr(value)  # a huge int, shortened
        return f"{name} must be {self.requires}, got {shown}"


def int_at_least(minimum: int) -> Rule:
    return Rule(lambda v: is_int(v, minimum), f"an int >= {minimum}")


def in_range(low: float, high: float, *, low_open: bool, high_open: bool) -> Rule:
    """A finite number between ``low`` and ``high``; an open end excludes its bound."""

    def check(v: Any) -> bool:
        if not is_number(v):
            return False
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        return above and below

    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    return Rule(check, f"in {interval}")


def one_of(choices: Sequence[Any]) -> Rule:
    return Rule(lambda v: v in choices, f"one of {tuple(choices)}")


POSITIVE = Rule(is_positive, "> 0")
NON_NEGATIVE = Rule(is_non_negative, ">= 0")
BOOLEAN = Rule(lambda v: isinstance(v, bool), "True or False")
