"""Requests to the env server, checked before anything reaches the env.

Network requests are untrusted: every way a body can be wrong (not JSON, not an object, nested
too deep, a number too long to parse, a field of the wrong type or size) is a ``RequestError``,
answered as a 4xx ``{"error": ...}`` that names the field and shows its value, shortened.
``parse_body`` reads a body, ``reset_fields`` and ``step_action`` read the fields of ``/reset``
and ``/step``; ``shorten`` is how any value is shown in an error.
"""

from __future__ import annotations

import json
import math
import reprlib
from http import HTTPStatus
from typing import Any

from envs.spaces import MAX_CODE_CHARS

MAX_BODY_DEPTH = 32
"""Deepest nesting of lists and objects in a body (an OSWorld task dict nests about 6 deep)."""
MAX_NUMBER_DIGITS = 100
"""Longest integer literal in a body. A seed has at most 20 digits; Python refuses to parse
more than 4,300 and the JSON parser would raise deep inside the request."""
MAX_SEED = 2**64 - 1
"""Largest seed (uint64, what seeding APIs take); gymnasium refuses negative seeds."""
MAX_TASK_ID_CHARS = 1024
"""Longest task id (OSWorld ids are 36-character UUIDs, MiniDesk's about 40 characters)."""
MAX_ACTION_CHARS = MAX_CODE_CHARS
"""Longest action string: the action space's own limit (``envs.spaces.MAX_CODE_CHARS``)."""
MAX_SHOWN_CHARS = 80
"""Values quoted in error messages are cut to about this many characters."""
MAX_ERROR_CHARS = 1000
"""Error messages (an env's included) are cut to this many characters."""


class _ShortRepr(reprlib.Repr):
    """``reprlib`` limits, and huge integers summarized (``repr`` refuses > 4,300 digits)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = MAX_SHOWN_CHARS
        self.maxlist = self.maxdict = self.maxtuple = self.maxset = 4
        self.maxlevel = 3

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 256:
            return f"<integer of about {math.floor(x.bit_length() * math.log10(2)) + 1} digits>"
        return super().repr_int(x, level)


_REPR = _ShortRepr()


class RequestError(Exception):
    """A bad request, answered as ``{"error": message}`` with ``status`` (a 4xx) and
    ``headers`` (e.g. ``Allow`` of a 405)."""

    def __init__(
        self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class _LongNumber:
    """An integer literal of more than ``MAX_NUMBER_DIGITS`` digits, kept unparsed."""

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return f"{self.literal[:12]}... ({len(self.literal.lstrip('-'))} digits)"


def shorten(value: Any) -> str:
    """``repr(value)`` cut to about ``MAX_SHOWN_CHARS`` characters (long strings, big
    containers and huge integers are summarized, never printed whole)."""
    text = _REPR.repr(value)
    return text if len(text) <= 2 * MAX_SHOWN_CHARS else text[: 2 * MAX_SHOWN_CHARS] + "..."


def cut(message: str) -> str:
    """``message`` cut to ``MAX_ERROR_CHARS`` characters."""
    return message if len(message) <= MAX_ERROR_CHARS else message[:MAX_ERROR_CHARS] + "..."


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body -> its JSON object (empty body: ``{}``).

    Raises:
        RequestError: 400 when the body is not JSON, not an object, nested deeper than
            ``MAX_BODY_DEPTH`` or holds an integer of more than ``MAX_NUMBER_DIGITS`` digits.
    """
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_int=_parse_int)
    except RecursionError:
        raise _bad(f"body is nested deeper than {MAX_BODY_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise _bad(f"body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise _bad(f"body must be a JSON object, got {type(body).__name__} {shorten(body)}")
    _check_tree(body)
    return body


def reset_fields(body: dict[str, Any]) -> tuple[dict[str, Any] | str | None, int | None]:
    """``/reset``'s (task, seed); raises ``RequestError`` (400) naming the bad field."""
    task, seed = body.get("task"), body.get("seed")
    if task is not None and not isinstance(task, (dict, str)):
        raise _bad(f"field 'task' must be a task dict, a task id or null, got {shorten(task)}")
    if isinstance(task, str) and len(task) > MAX_TASK_ID_CHARS:
        raise _bad(
            f"field 'task' is a task id of {len(task)} characters, over the limit of "
            f"{MAX_TASK_ID_CHARS}: {shorten(task)}"
        )
    if seed is not None and not (
        isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED
    ):
        raise _bad(f"field 'seed' must be an integer in [0, 2**64) or null, got {shorten(seed)}")
    return task, seed


def step_action(body: dict[str, Any]) -> str:
    """``/step``'s action string; raises ``RequestError`` (400) naming the bad field."""
    action = body.get("action")
    if not isinstance(action, str):
        raise _bad(f"field 'action' must be a string, got {shorten(action)}")
    if len(action) > MAX_ACTION_CHARS:
        raise _bad(
            f"field 'action' is {len(action)} characters long, over the limit of "
            f"{MAX_ACTION_CHARS}: {shorten(action)}"
        )
    return action


def _bad(message: str) -> RequestError:
    return RequestError(HTTPStatus.BAD_REQUEST, message)


def _parse_int(literal: str) -> int | _LongNumber:
    if len(literal.lstrip("-")) > MAX_NUMBER_DIGITS:
        return _LongNumber(literal)
    return int(literal)


def _check_tree(body: dict[str, Any]) -> None:
    """Depth and number limits, without recursion; errors name the field's path.

    Only non-empty containers go on the stack, as (container, depth, parent entry, key in the
    parent): a path is rebuilt for an error only, never kept as a string per value."""
    stack: list[tuple[Any, int, Any, Any]] = [(body, 0, None, None)]
    while stack:
        entry = stack.pop()
        container, depth = entry[0], entry[1]
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in items:
            if isinstance(value, _LongNumber):
                digits = len(value.literal.lstrip("-"))
                raise _bad(
                    f"field {_path_of(entry, key)} is a number of {digits} digits, over the "
                    f"limit of {MAX_NUMBER_DIGITS}: {value!r}"
                )
            if isinstance(value, (dict, list)) and value:
                if depth + 1 >= MAX_BODY_DEPTH:
                    where = _path_of(entry, key)
                    raise _bad(f"field {where} is nested deeper than {MAX_BODY_DEPTH} levels")
                stack.append((value, depth + 1, entry, key))


def _path_of(entry: tuple[Any, int, Any, Any], key: Any) -> str:
    """The path of ``entry[0][key]``, e.g. "'task.config[0]'", each key and the whole cut short."""
    parts = [key]
    while entry[2] is not None:
        parts.append(entry[3])
        entry = entry[2]
    text = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part[:MAX_SHOWN_CHARS]}"
        for part in reversed(parts)
    )[1:]
    return repr(text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "...")
