"""Checks on user-given values (config fields, Tune files, CLI flags): the one definition of each.

A bool is not a number here (``True`` is an ``int`` to Python, never a learning rate to a user),
and neither is NaN or infinity.
"""

from __future__ import annotations

import math
from typing import Any


def is_number(value: Any) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
