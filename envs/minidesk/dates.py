"""English calendar names as OSWorld's date rules and the look-alike sites spell them.

Fixed tables, not ``strftime``/``calendar``: those follow the process locale.
"""

from __future__ import annotations

_MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()

MONTH_FULL: dict[int, str] = dict(enumerate(_MONTH_NAMES, start=1))
"""1 -> "January", ..., 12 -> "December"."""
MONTH: dict[int, str] = {number: name[:3] for number, name in MONTH_FULL.items()}
"""1 -> "Jan", ..., 12 -> "Dec"."""
DAY_OF_WEEK: dict[int, str] = dict(enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")))
"""``date.weekday()`` -> "Mon", ..., "Sun"."""
