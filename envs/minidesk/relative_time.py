"""OSWorld's ``relativeTime`` grammar: the day a phrase such as "next Monday" names.

OSWorld's ``get_rule_relativeTime`` (desktop_env/evaluators/getters/misc.py) accepts a fixed
table of phrases (``relativeTime_to_IntDay``), each with its own date rule; ``relative_day``
gives the same day for each, counted from the desktop's virtual clock ``now``:

- ``"today"`` (MiniDesk's, not in OSWorld's table), ``"tomorrow"``: now + 0 / + 1 day;
- ``"this month"``: now (the format then reads the month);
- ``"<N>th next month"`` (``5th``, ``10th``, ``11th``, any day number): day N of next month;
- ``"this Saturday"`` / ``"this Sunday"``: now + (5 - weekday) / (6 - weekday) days (on a
  Sunday "this Saturday" is yesterday, as in OSWorld);
- ``"next Monday"``: the Monday after this week (now + (6 - weekday) + 1 days);
- ``"next Friday"``: as a ``to`` after ``from: "next Monday"`` on Monday-Thursday, the Friday of
  next week; otherwise the coming Friday (Friday-Sunday: the next week's);
- ``"first monday four months later"``: the first Monday of the month four months on.
  OSWorld computes that month as ``(month + 4) % 12``, which is 0 in August and crashes; here
  August gives December.
"""

from __future__ import annotations

import datetime as dt
import re

PHRASES = (
    "today",
    "tomorrow",
    "this month",
    "<N>th next month",
    "this Saturday",
    "this Sunday",
    "next Monday",
    "next Friday",
    "first monday four months later",
)
"""The phrases ``relative_day`` reads (``<N>`` is a day number; ``st``/``nd``/``rd`` also)."""

_NTH_NEXT_MONTH = re.compile(r"(\d{1,2})(st|nd|rd|th) next month")


def _add_months(now: dt.datetime, months: int) -> tuple[int, int]:
    index = now.month - 1 + months
    return now.year + index // 12, index % 12 + 1


def relative_day(rule: str, now: dt.datetime, paired_from: str | None = None) -> dt.datetime:
    """The day ``rule`` names, counted from ``now`` (see the module docstring).

    Args:
        rule: A phrase of ``PHRASES``.
        now: The clock.
        paired_from: The ``from`` phrase when ``rule`` is a ``to`` (OSWorld's "next Friday"
            depends on it).

    Raises:
        ValueError: ``rule`` is not a phrase of the grammar (the message lists them), or names
            a day that does not exist (``31st next month`` in a 30-day month).
    """
    weekday = now.weekday()
    if rule == "today" or rule == "this month":
        return now
    if rule == "tomorrow":
        return now + dt.timedelta(days=1)
    m = _NTH_NEXT_MONTH.fullmatch(rule)
    if m:
        year, month = _add_months(now, 1)
        return dt.datetime(year, month, int(m.group(1)))
    if rule == "this Saturday":
        return now + dt.timedelta(days=5 - weekday)
    if rule == "this Sunday":
        return now + dt.timedelta(days=6 - weekday)
    if rule == "next Monday":
        return now + dt.timedelta(days=(6 - weekday) + 1)
    if rule == "next Friday":
        if weekday < 4 and paired_from == "next Monday":
            return now + dt.timedelta(days=(4 - weekday) + 7)
        return now + dt.timedelta(days=(4 - weekday) if weekday < 4 else (6 - weekday) + 5)
    if rule == "first monday four months later":
        year, month = _add_months(now, 4)
        first = dt.datetime(year, month, 1)
        return first + dt.timedelta(days=((6 - first.weekday()) + 1) % 7)
    raise ValueError(f"unsupported relativeTime {rule!r}; known: {', '.join(PHRASES)}")
