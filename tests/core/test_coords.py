"""Coordinate spaces at the edges: huge, NaN and infinite sizes and points are named errors."""

from __future__ import annotations

import math

import pytest

from rllib_arpo.core import coords
from rllib_arpo.core.coords import CoordinateSpace, smart_resize

SCREEN = CoordinateSpace.for_screen(1920, 1080)  # model frame 1932x1092
BIG = 10**400
"""An int too large for a float."""


@pytest.mark.parametrize(
    "height, width, shown",
    [
        (10**300, 10**300, "10000000000000000000... (301 digits)"),
        (1, BIG, "10000000000000000000... (401 digits)"),
        (math.nan, 100, "nan"),
        (math.inf, math.inf, "inf"),
        (100, -math.inf, "-inf"),
        (1e-300, 1e-300, "1e-300"),
        (1080, 200_000, "200000"),
    ],
)
def test_smart_resize_refuses_huge_tiny_or_non_finite_sides(height, width, shown) -> None:
    with pytest.raises(ValueError) as err:
        smart_resize(height, width)
    assert shown in str(err.value) and len(str(err.value)) < 300


def test_smart_resize_refuses_pixel_bounds_beyond_the_bound() -> None:
    with pytest.raises(ValueError, match="min_pixels"):
        smart_resize(10, 10, min_pixels=BIG)
    with pytest.raises(ValueError, match="max_pixels"):
        smart_resize(1080, 1920, max_pixels=math.nan)


def test_largest_screen_is_accepted() -> None:
    side = coords.MAX_COORDINATE
    space = CoordinateSpace.for_screen(side, side)
    assert space.to_screen(*space.model_extent) == (side - 1, side - 1)


@pytest.mark.parametrize(
    "field", ["screen_width", "screen_height", "resized_width", "resized_height"]
)
def test_coordinate_space_refuses_sides_beyond_the_bound(field: str) -> None:
    sizes = {"screen_width": 10, "screen_height": 10, "resized_width": 10, "resized_height": 10}
    with pytest.raises(ValueError, match=field) as err:
        CoordinateSpace(**{**sizes, field: BIG})
    assert "(401 digits)" in str(err.value)


@pytest.mark.parametrize(
    "x, y, shown",
    [
        (math.nan, 1, "nan"),
        (math.inf, 1, "inf"),
        (1, -math.inf, "-inf"),
        (BIG, 1, "(401 digits)"),
        (1, -BIG, "(401 digits)"),
        (1e308, 1, "1e+308"),
        (100_001, 1, "100001"),
    ],
)
def test_mapping_refuses_non_finite_or_huge_points(x, y, shown) -> None:
    for convert in (SCREEN.to_screen, SCREEN.to_model):
        with pytest.raises(ValueError) as err:
            convert(x, y)
        assert shown in str(err.value)


def test_mapping_at_the_bound_and_negative_zero() -> None:
    bound = coords.MAX_COORDINATE
    assert SCREEN.to_screen(bound, -bound) == (1919, 0)
    assert SCREEN.to_model(-bound, bound) == (0, 1091)
    assert SCREEN.to_screen(-0.0, -0.0) == (0, 0)


@pytest.mark.parametrize(
    "value, shown",
    [
        ("9" * 400, "99999999999999999999... (400 digits)"),
        (-(10**400), "-1000000000000000000... (401 digits)"),
        (16**5000, "0x100000000000000000... (5001 hex digits)"),
        (1e308, "1e+308"),
        (math.nan, "nan"),
        ("1e309", "1e309"),
        (12, "12"),
    ],
    ids=["digits", "negative", "hex", "float", "nan", "text", "short"],
)
def test_number_text_shortens_huge_values(value, shown: str) -> None:
    assert coords.number_text(value) == shown
