"""Coordinates between the screen and the model.

UI-TARS-1.5 (Qwen2.5-VL) sees each screenshot resized by ``smart_resize`` to a size whose sides are
multiples of 28 (one merged image token is 28x28 pixels) with a pixel count inside
[min_pixels, max_pixels]. It writes points as absolute pixels of that resized image; the
environment needs screen pixels: ``x_screen = x_model * W_screen / W_resized``.
UI-TARS v1 on Qwen2-VL wrote points on a 0-1000 relative scale instead ("relative1000").

Rounding and clamping rules (documented in docs/action-language.md):
- model -> screen: scale, round half to even is avoided: we use floor(v + 0.5), then clamp into
  [0, W-1] x [0, H-1]. Points further outside than ``OUT_OF_SCREEN_TOLERANCE`` of the image size
  are rejected by the parser instead (a model pointing far off-screen is a format error, a point
  one pixel past the border is a rounding effect).
- screen -> model: the inverse scale, rounded the same way, clamped into the resized image.

Bounds: every coordinate, point or image side is a finite number within ``MAX_COORDINATE``;
anything else (NaN, infinity, an int too large for a float) is a ``ValueError`` naming the value,
never an ``OverflowError`` from the arithmetic. MiniDesk's interpreter reads pyautogui numbers
with the same bound.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

IMAGE_FACTOR = 28
"""Side of one merged image token in pixels (patch 14 x spatial merge 2)."""
MIN_PIXELS = 56 * 56
"""Qwen2.5-VL's default lower bound on pixels per image (3,136, as the ARPO reference run)."""
MAX_PIXELS = 2_116_800
"""ARPO reference run's upper bound (a 1920x1080 screen becomes 1932x1092, 2,691 tokens)."""
MAX_ASPECT_RATIO = 200
OUT_OF_SCREEN_TOLERANCE = 0.05
"""Fraction of the image size a model point may lie outside the image and still be clamped."""
MAX_COORDINATE = 100_000
"""Largest magnitude of any coordinate or image side, in pixels or model units (model points,
screen and resized sizes, and every number of a pyautogui action MiniDesk reads). Beyond it a
value is an error, never clamped; within it every product here stays a finite float."""
SHOWN_NUMBER_CHARS = 20
"""Characters of a huge number (as written) kept in error messages; numbers of up to 32 characters
(any float's repr) are shown whole."""

CoordinateConvention = Literal["absolute", "relative1000"]
COORDINATE_CONVENTIONS: tuple[str, ...] = ("absolute", "relative1000")


def number_text(value: object) -> str:
    """A number (or a number as written) for an error message, huge ones shortened.

    ``number_text("9" * 400) == "99999999999999999999... (400 digits)"``; an int too long for
    Python to print in decimal is shown in hex (``"0x1000... (5001 hex digits)"``).
    """
    unit = "digits"
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            text = str(value)
        except ValueError:  # over sys.get_int_max_str_digits() decimal digits
            text, unit = f"{value:#x}", "hex digits"
    else:
        text = repr(value)
    if len(text) <= SHOWN_NUMBER_CHARS + 12:
        return text
    if unit == "digits":
        count = sum(char.isdigit() for char in text)
    else:
        count = len(text.lstrip("-")) - 2
    return f"{text[:SHOWN_NUMBER_CHARS]}... ({count} {unit})"


def _within(value: object, low: float, high: float) -> bool:
    """A real number (not a bool) in [low, high]: False for NaN; exact for ints of any size."""
    if type(value) is int or type(value) is float:  # the common case, without the ABC check
        return low <= value <= high  # type: ignore[operator]
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and low <= value <= high


def coordinate_problem(value: object, text: str | None = None) -> str | None:
    """None for a finite number within ``MAX_COORDINATE`` (bool excluded), else why not.

    Args:
        value: The number (an int of any size, a float, NaN or infinity included).
        text: The value as written, named in the reason instead of ``value``.
    """
    if _within(value, -MAX_COORDINATE, MAX_COORDINATE):
        return None
    shown = number_text(text if text is not None else value)
    return f"{shown} is not a finite number in [-{MAX_COORDINATE}, {MAX_COORDINATE}]"


def _checked(value: float, what: str) -> float:
    problem = coordinate_problem(value)
    if problem:
        raise ValueError(f"{what}: {problem}")
    return value


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def smart_resize(
    height: int,
    width: int,
    factor: int = IMAGE_FACTOR,
    min_pixels: int = MIN_PIXELS,
    max_pixels: int = MAX_PIXELS,
) -> tuple[int, int]:
    """Qwen2.5-VL's resize rule: both sides multiples of ``factor``, pixels within the bounds.

    Args:
        height: Image height in pixels (> 0).
        width: Image width in pixels (> 0).
        factor: Side of one merged image token.
        min_pixels: Lower bound on height * width after resizing.
        max_pixels: Upper bound on height * width after resizing.

    Returns:
        (resized_height, resized_width).

    Raises:
        ValueError: For a side outside [1, ``MAX_COORDINATE``] (NaN and infinity included), a
            pixel bound outside [1, ``MAX_COORDINATE`` ** 2] or a too extreme aspect ratio.
    """
    if not (_within(height, 1, MAX_COORDINATE) and _within(width, 1, MAX_COORDINATE)):
        raise ValueError(
            f"image size must be positive, at most {MAX_COORDINATE} a side, got "
            f"height={number_text(height)} width={number_text(width)}"
        )
    for name, bound in (("min_pixels", min_pixels), ("max_pixels", max_pixels)):
        if not _within(bound, 1, MAX_COORDINATE**2):
            raise ValueError(
                f"{name} must be in [1, {MAX_COORDINATE**2}], got {number_text(bound)}"
            )
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        raise ValueError(
            f"aspect ratio of {width}x{height} exceeds {MAX_ASPECT_RATIO}; Qwen2.5-VL refuses it"
        )
    resized_height = max(factor, _round_half_even_to(height, factor))
    resized_width = max(factor, _round_half_even_to(width, factor))
    if resized_height * resized_width > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        resized_height = max(factor, math.floor(height / beta / factor) * factor)
        resized_width = max(factor, math.floor(width / beta / factor) * factor)
    elif resized_height * resized_width < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        resized_height = math.ceil(height * beta / factor) * factor
        resized_width = math.ceil(width * beta / factor) * factor
    return resized_height, resized_width


def _round_half_even_to(value: int, factor: int) -> int:
    # Python's round() is half-to-even, which is what the reference implementation uses.
    return round(value / factor) * factor


@dataclass(frozen=True)
class CoordinateSpace:
    """How the model's points relate to the screen's pixels.

    Attributes:
        screen_width: Width of the real screen in pixels.
        screen_height: Height of the real screen in pixels.
        resized_width: Width of the image the model saw (``smart_resize`` of the screen).
        resized_height: Height of the image the model saw.
        convention: "absolute" (pixels of the resized image, UI-TARS-1.5) or "relative1000"
            (0-1000 on both axes, UI-TARS v1 on Qwen2-VL).
    """

    screen_width: int
    screen_height: int
    resized_width: int
    resized_height: int
    convention: CoordinateConvention = "absolute"

    def __post_init__(self) -> None:
        for name in ("screen_width", "screen_height", "resized_width", "resized_height"):
            value = getattr(self, name)
            if not isinstance(value, int) or not _within(value, 1, MAX_COORDINATE):
                raise ValueError(
                    f"CoordinateSpace.{name} must be an int in [1, {MAX_COORDINATE}], "
                    f"got {number_text(value) if isinstance(value, int) else repr(value)}"
                )
        if self.convention not in COORDINATE_CONVENTIONS:
            raise ValueError(
                f"CoordinateSpace.convention must be one of {COORDINATE_CONVENTIONS}, "
                f"got {self.convention!r}"
            )

    @classmethod
    def for_screen(
        cls,
        screen_width: int,
        screen_height: int,
        *,
        convention: CoordinateConvention = "absolute",
        min_pixels: int = MIN_PIXELS,
        max_pixels: int = MAX_PIXELS,
    ) -> CoordinateSpace:
        """The space for a screen whose screenshots go through ``smart_resize``."""
        resized_height, resized_width = smart_resize(
            screen_height, screen_width, min_pixels=min_pixels, max_pixels=max_pixels
        )
        return cls(screen_width, screen_height, resized_width, resized_height, convention)

    @property
    def model_extent(self) -> tuple[int, int]:
        """(width, height) of the model's coordinate frame."""
        if self.convention == "relative1000":
            return 1000, 1000
        return self.resized_width, self.resized_height

    def is_near_image(self, x: float, y: float) -> bool:
        """True when a model point lies inside the image or within the rounding tolerance."""
        extent_w, extent_h = self.model_extent
        tol_w, tol_h = extent_w * OUT_OF_SCREEN_TOLERANCE, extent_h * OUT_OF_SCREEN_TOLERANCE
        return -tol_w <= x <= extent_w + tol_w and -tol_h <= y <= extent_h + tol_h

    def to_screen(self, x: float, y: float) -> tuple[int, int]:
        """Model point -> screen pixel, rounded half up and clamped onto the screen.

        Raises:
            ValueError: For a coordinate that is not a number in ±``MAX_COORDINATE``.
        """
        extent_w, extent_h = self.model_extent
        screen_x = _round_half_up(_checked(x, "model x") * self.screen_width / extent_w)
        screen_y = _round_half_up(_checked(y, "model y") * self.screen_height / extent_h)
        return (
            min(max(screen_x, 0), self.screen_width - 1),
            min(max(screen_y, 0), self.screen_height - 1),
        )

    def to_model(self, x: float, y: float) -> tuple[int, int]:
        """Screen pixel -> model point (what a perfect model would write for that pixel).

        Raises:
            ValueError: For a coordinate that is not a number in ±``MAX_COORDINATE``.
        """
        extent_w, extent_h = self.model_extent
        model_x = _round_half_up(_checked(x, "screen x") * extent_w / self.screen_width)
        model_y = _round_half_up(_checked(y, "screen y") * extent_h / self.screen_height)
        return min(max(model_x, 0), extent_w - 1), min(max(model_y, 0), extent_h - 1)
