"""envs/server/validation.py: request bodies and fields, checked without touching an env."""

from __future__ import annotations

import json

import pytest

from envs.server.validation import (
    MAX_BODY_DEPTH,
    MAX_ERROR_CHARS,
    MAX_NUMBER_DIGITS,
    MAX_SHOWN_CHARS,
    RequestError,
    cut,
    parse_body,
    reset_fields,
    shorten,
    step_action,
)
from envs.spaces import MAX_CODE_CHARS


def test_shorten_never_prints_a_huge_value_whole() -> None:
    assert shorten("abc") == "'abc'" and shorten({"id": "x"}) == "{'id': 'x'}"
    for value in ["x" * 10**6, list(range(10**5)), {str(i): i for i in range(10**4)},
                  10**5000, [[10**5000]], -(10**400)]:  # fmt: skip
        assert len(shorten(value)) <= 2 * MAX_SHOWN_CHARS + 3
    assert shorten(10**5000) == "<integer of about 5001 digits>"
    assert len(cut("e" * 10**5)) == MAX_ERROR_CHARS + 3


def test_a_body_is_a_json_object_within_the_limits() -> None:
    assert parse_body(b"") == {} and parse_body(b" \n") == {}
    assert parse_body(b'{"task": {"a": [1, 2.5, null]}, "seed": 7}') == {
        "task": {"a": [1, 2.5, None]}, "seed": 7,
    }  # fmt: skip
    limit = "9" * MAX_NUMBER_DIGITS
    assert parse_body(f'{{"n": -{limit}}}'.encode()) == {"n": -int(limit)}
    nested: object = 0
    for _ in range(MAX_BODY_DEPTH - 2):
        nested = [nested]
    assert parse_body(json.dumps({"task": nested}).encode())["task"] == nested


@pytest.mark.parametrize(
    "raw, message",
    [(b"{", "not JSON"), (b"\xff", "not JSON"), (b"7", "JSON object, got int 7"),
     (b"[" * 10**5, "nested deeper than"),
     (b'{"a": {"b": [1, ' + b"2" * 101 + b"]}}", "field 'a.b[1]' is a number of 101 digits"),
     (b'{"a": [' + b"[" * MAX_BODY_DEPTH + b"]" * MAX_BODY_DEPTH + b"]}", "field 'a[0][0]")],
)  # fmt: skip
def test_bad_bodies_are_400_naming_the_field(raw, message) -> None:
    with pytest.raises(RequestError, match=message.replace("[", r"\[")) as caught:
        parse_body(raw)
    assert caught.value.status == 400


def test_reset_and_step_fields() -> None:
    assert reset_fields({}) == (None, None)
    assert reset_fields({"task": "t", "seed": 2**64 - 1}) == ("t", 2**64 - 1)
    assert reset_fields({"task": {"id": "t"}, "seed": 0}) == ({"id": "t"}, 0)
    for body, field in [({"task": 5}, "task"), ({"task": "t" * 1025}, "task"),
                        ({"seed": -1}, "seed"), ({"seed": 2**64}, "seed"),
                        ({"seed": False}, "seed"), ({"seed": 1.0}, "seed")]:  # fmt: skip
        with pytest.raises(RequestError, match=f"field '{field}'"):
            reset_fields(body)
    assert step_action({"action": "x" * MAX_CODE_CHARS}) == "x" * MAX_CODE_CHARS
    for body in [{}, {"action": None}, {"action": ["x"]}, {"action": "x" * (MAX_CODE_CHARS + 1)}]:
        with pytest.raises(RequestError, match="field 'action'"):
            step_action(body)
