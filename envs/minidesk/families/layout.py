"""``TaskGen``: the seeded layout and sampling state of one procedural task being generated."""

from __future__ import annotations

import random

from envs.minidesk.document import Element
from envs.minidesk.families.ids import EASY_LEVELS, GRID_LEVELS
from envs.minidesk.families.words import TITLES
from envs.minidesk.widgets import GRID, Theme, text_width

PLACE_TRIES = 400
"""Random positions tried for a widget (or a stack of rows) before the layout gives up."""


class LayoutError(ValueError):
    """A task's widgets do not fit its screen (a free level on a screen too small for it)."""


class TaskGen:
    """Layout and sampling helpers for one task: its RNG, level, screen and the rects taken.

    Free levels place widgets at random free pixel positions; grid levels (``grid112``,
    ``grid224``) snap every widget to the 28-px grid of merged image tokens.
    """

    def __init__(self, rng: random.Random, level: str, size: tuple[int, int]):
        self.rng, self.level, self.size = rng, level, size
        self.grid = level in GRID_LEVELS
        self.theme = Theme.for_screen(*size)
        self.w, self.h = size
        self.taken: list[list[int]] = []
        self.title = rng.choice(TITLES)
        self.top = 0 if self.grid else self.theme.font_size + 14

    @property
    def easy(self) -> bool:
        return self.level in EASY_LEVELS

    def pick(self, pool: tuple | list, k: int) -> list:
        return self.rng.sample(list(pool), k)

    def heading(self) -> list[Element]:
        if self.grid:
            return []
        return [Element("heading", id="title", text=self.title, rect=[8, 4, self.w - 8, self.top])]

    def place(self, w: int, h: int, cells: tuple[int, int] | None = None) -> list[int]:
        """A free rect of w x h px (free levels) or of ``cells`` grid cells (grid levels)."""
        if self.grid:
            cw, ch = cells or (max(1, -(-w // GRID)), 1)
            cols, rows = self.w // GRID, self.h // GRID
            spots = [(c, r) for r in range(rows) for c in range(cols - cw + 1) if r + ch <= rows]
            self.rng.shuffle(spots)
            for c, r in spots:
                rect = [c * GRID, r * GRID, (c + cw) * GRID, (r + ch) * GRID]
                if not any(overlap(rect, t, 0) for t in self.taken):
                    self.taken.append(rect)
                    return rect
            raise LayoutError(f"the {self.size} grid has no free {cw}x{ch} cells left")
        for _ in range(PLACE_TRIES):
            x = self.rng.randint(8, max(8, self.w - w - 8))
            y = self.rng.randint(self.top + 4, max(self.top + 4, self.h - h - 8))
            rect = [x, y, x + w, y + h]
            if not any(overlap(rect, t, 6) for t in self.taken):
                self.taken.append(rect)
                return rect
        raise LayoutError(f"no room for a {w}x{h} widget on a {self.size} screen")

    def row_rect(self, y_cells: int, x_cells: int = 0, w_cells: int | None = None) -> list[int]:
        """Grid row rect (grid levels) used by stacked layouts."""
        w_cells = w_cells or (self.w // GRID - x_cells)
        rect = [x_cells * GRID, y_cells * GRID, (x_cells + w_cells) * GRID, (y_cells + 1) * GRID]
        self.taken.append(rect)
        return rect

    def button_size(self, label: str) -> tuple[int, int]:
        return text_width(label, self.theme.font_size) + 16, self.theme.row + 4

    def stack(
        self, n: int, x: int | None = None, w: int | None = None, gap: int = 4
    ) -> list[list[int]]:
        """n rows stacked vertically at a random offset (free levels)."""
        h = self.theme.row + 2
        w = w or min(self.w - 16, 200)
        total = n * (h + gap)
        for _ in range(PLACE_TRIES):
            x0 = self.rng.randint(8, max(8, self.w - w - 8)) if x is None else x
            y0 = self.rng.randint(self.top + 4, max(self.top + 4, self.h - total - 8))
            rects = [[x0, y0 + i * (h + gap), x0 + w, y0 + i * (h + gap) + h] for i in range(n)]
            if not any(overlap(r, t, 4) for r in rects for t in self.taken):
                self.taken.extend(rects)
                return rects
        raise LayoutError(f"no room for {n} stacked rows on a {self.size} screen")


def overlap(a: list[int], b: list[int], margin: int) -> bool:
    """Whether rects ``a`` and ``b`` (x0, y0, x1, y1) come closer than ``margin`` px."""
    return not (
        a[2] + margin <= b[0]
        or b[2] + margin <= a[0]
        or a[3] + margin <= b[1]
        or b[3] + margin <= a[1]
    )
