"""Tests of rllib_arpo/core/values.py: the value checks config, Tune files and flags share."""

from __future__ import annotations

import math
from enum import Enum

import pytest

from rllib_arpo.core.values import (
    BOOLEAN,
    NON_NEGATIVE,
    POSITIVE,
    enum_values,
    in_range,
    int_at_least,
    is_int,
    is_number,
    one_of,
    parse_enum,
)


class Color(str, Enum):
    RED = "red"
    BLUE = "blue"


@pytest.mark.parametrize("value", [0, 1, -2.5, 1e300])
def test_numbers(value) -> None:
    assert is_number(value)


@pytest.mark.parametrize("value", [True, False, math.nan, math.inf, "1", None, [1]])
def test_not_numbers(value) -> None:
    assert not is_number(value)


def test_ints_too_large_for_a_float_are_numbers_not_crashes() -> None:
    huge = 10**400
    assert is_number(huge) and is_number(-huge)
    assert POSITIVE.problem("lr", -huge).startswith("lr must be > 0, got -1000")
    top_p = in_range(0, 1, low_open=True, high_open=False)
    assert (
        top_p.problem("top_p", huge)
        == "top_p must be in (0, 1], got 10000000000000000000... (401 digits)"
    )
    # beyond Python's 4,300-digit str limit the value is shown in hex, never a ValueError
    assert top_p.problem("top_p", 10**5000).endswith("(4153 hex digits)")


def test_ints_exclude_bools_and_floats() -> None:
    assert is_int(3) and is_int(3, 3) and not is_int(2, 3)
    assert not is_int(True) and not is_int(3.0)


def test_rules_name_the_field_the_requirement_and_the_value() -> None:
    assert int_at_least(2).problem("group_size", 1) == "group_size must be an int >= 2, got 1"
    assert int_at_least(2).problem("group_size", 2) is None
    assert POSITIVE.problem("lr", 0.0) == "lr must be > 0, got 0.0"
    assert NON_NEGATIVE.problem("kl", -1) == "kl must be >= 0, got -1"
    assert BOOLEAN.problem("use_replay", "yes") == "use_replay must be True or False, got 'yes'"
    assert one_of(("a", "b")).problem("mode", "c") == "mode must be one of ('a', 'b'), got 'c'"


def test_ranges_respect_open_and_closed_ends() -> None:
    open_closed = in_range(0, 1, low_open=True, high_open=False)
    assert open_closed.requires == "in (0, 1]"
    assert open_closed.check(1) and open_closed.check(0.5)
    assert not open_closed.check(0) and not open_closed.check(1.01) and not open_closed.check("x")
    closed_open = in_range(0, 1, low_open=False, high_open=True)
    assert closed_open.requires == "in [0, 1)"
    assert closed_open.check(0) and not closed_open.check(1)


def test_enums_parse_from_values_and_name_valid_choices() -> None:
    assert parse_enum(Color, "red", "color") is Color.RED
    assert parse_enum(Color, Color.BLUE, "color") is Color.BLUE
    with pytest.raises(ValueError, match=r"color='green' is not one of 'red', 'blue'"):
        parse_enum(Color, "green", "color")
    assert enum_values(Color) == ["red", "blue"]
