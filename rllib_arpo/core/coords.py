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
"""

from __future__ import annotations

import math
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

CoordinateConvention = Literal["absolute", "relative1000"]
COORDINATE_CONVENTIONS: tuple[str, ...] = ("absolute", "relative1000")


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
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got height={height} width={width}")
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
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"CoordinateSpace.{name} must be a positive int, got {value!r}")
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
        """Model point -> screen pixel, rounded half up and clamped onto the screen."""
        extent_w, extent_h = self.model_extent
        screen_x = _round_half_up(x * self.screen_width / extent_w)
        screen_y = _round_half_up(y * self.screen_height / extent_h)
        return (
            min(max(screen_x, 0), self.screen_width - 1),
            min(max(screen_y, 0), self.screen_height - 1),
        )

    def to_model(self, x: float, y: float) -> tuple[int, int]:
        """Screen pixel -> model point (what a perfect model would write for that pixel)."""
        extent_w, extent_h = self.model_extent
        model_x = _round_half_up(x * extent_w / self.screen_width)
        model_y = _round_half_up(y * extent_h / self.screen_height)
        return min(max(model_x, 0), extent_w - 1), min(max(model_y, 0), extent_h - 1)
