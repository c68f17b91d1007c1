"""The display list: widgets with rectangles, hit testing, the theme and the text buffer.

Every frame the desktop builds a flat, paint-ordered list of ``Widget``s from the app states. The
renderer draws that list and the event dispatcher hit-tests the same list (topmost first), so what
is drawn and what is clickable can never disagree. Widgets carry their handlers as closures;
``look`` is the part the renderer reads (also its cache key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from PIL import ImageFont

Rect = tuple[int, int, int, int]
"""(x0, y0, x1, y1), x1/y1 exclusive."""

GRID = 28
"""Side of one merged Qwen2.5-VL image token: curriculum levels snap widgets to this grid."""


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's built-in font (no system fonts) at ``size`` px."""
    return ImageFont.load_default(size=size)


CACHE_TEXT_CHARS = 256
"""Strings up to this length are cached (widths, rendered masks); longer ones are not."""


@lru_cache(maxsize=8192)
def _cached_width(text: str, size: int) -> int:
    return int(font(size).getlength(text))


def text_width(text: str, size: int) -> int:
    if len(text) <= CACHE_TEXT_CHARS:
        return _cached_width(text, size)
    return int(font(size).getlength(text))


def fit_text(text: str, size: int, width: int) -> str:
    """``text`` cut (with an ellipsis) so that it fits in ``width`` pixels."""
    if text_width(text, size) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid] + "…", size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def caret_index(text: str, x: float, size: int) -> int:
    """Character boundary of ``text`` nearest to ``x`` px from its left edge (binary search)."""
    lo, hi = 0, len(text)
    while lo < hi:  # first i whose prefix reaches x
        mid = (lo + hi) // 2
        if text_width(text[:mid], size) >= x:
            hi = mid
        else:
            lo = mid + 1
    if (
        lo
        and lo <= len(text)
        and x - text_width(text[: lo - 1], size) < text_width(text[:lo], size) - x
    ):
        return lo - 1
    return lo


def inside(rect: Rect, x: int, y: int) -> bool:
    return rect[0] <= x < rect[2] and rect[1] <= y < rect[3]


def intersect(a: Rect, b: Rect) -> Rect | None:
    r = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return r if r[0] < r[2] and r[1] < r[3] else None


def centre(rect: Rect) -> tuple[int, int]:
    return (rect[0] + rect[2]) // 2, (rect[1] + rect[3]) // 2


@dataclass(frozen=True)
class Theme:
    """Sizes derived from the screen: small screens get small fonts, grid screens 28-px cells."""

    font_size: int = 11
    row: int = 20
    pad: int = 4
    title_bar: int = 20
    taskbar: int = 24

    @classmethod
    def for_screen(cls, width: int, height: int) -> Theme:
        if height <= 128:
            return cls(font_size=9, row=GRID, pad=2, title_bar=0, taskbar=0)
        if height <= 240:
            return cls(font_size=10, row=GRID, pad=3, title_bar=0, taskbar=0)
        if height < 600:
            return cls()
        scale = min(2.0, height / 540)
        return cls(
            font_size=int(11 * scale),
            row=int(20 * scale),
            pad=int(4 * scale),
            title_bar=int(20 * scale),
            taskbar=int(24 * scale),
        )


PALETTE = {
    "red": (214, 64, 64),
    "green": (60, 160, 80),
    "blue": (60, 110, 210),
    "yellow": (230, 190, 40),
    "purple": (140, 80, 190),
    "orange": (235, 130, 40),
    "teal": (40, 150, 150),
    "pink": (225, 110, 170),
    "gray": (128, 128, 128),
    "brown": (140, 95, 55),
}
"""Named colours used by procedural tasks (names appear in instructions)."""


@dataclass(eq=False)
class Widget:
    """One drawable, possibly interactive rectangle of the current frame.

    Attributes:
        kind: What the renderer draws (panel, label, button, link, input, checkbox, radio, select,
            option, slider, tab, item, text_area, titlebar, ...).
        rect: Screen rectangle.
        text: Label or content.
        wid: Stable id (experts and tests find widgets by it).
        look: Extra paint state (fill, colours, checked, focused, caret, ...), hashable values.
        clip: Rectangle outside which nothing of this widget is drawn.
        on_click: ``f(x, y, button, count)`` for a click released on this widget.
        on_drag: ``f(x0, y0, x1, y1)`` for a press on this widget released elsewhere.
        on_scroll: ``f(clicks)`` for the wheel over this widget (positive = up).
        modal: Swallows every click outside its rect while it is on screen.
    """

    kind: str
    rect: Rect
    text: str = ""
    wid: str = ""
    look: dict[str, Any] = field(default_factory=dict)
    clip: Rect | None = None
    on_click: Callable[[int, int, str, int], None] | None = None
    on_drag: Callable[[int, int, int, int], None] | None = None
    on_scroll: Callable[[int], None] | None = None
    modal: bool = False

    @property
    def visible_rect(self) -> Rect | None:
        return self.rect if self.clip is None else intersect(self.rect, self.clip)

    def hit(self, x: int, y: int) -> bool:
        r = self.visible_rect
        return r is not None and inside(r, x, y)

    def paint_key(self) -> tuple:
        return (self.kind, self.rect, self.text, tuple(sorted(self.look.items())), self.clip)


def hit_test(widgets: list[Widget], x: int, y: int, attr: str = "on_click") -> Widget | None:
    """Topmost widget under (x, y) that has handler ``attr``; modal widgets block the rest."""
    for w in reversed(widgets):
        if w.hit(x, y):
            if getattr(w, attr) is not None:
                return w
        elif w.modal:
            return None
    return None


class TextBuffer:
    """Editable text with caret, selection, clipboard operations and undo.

    Used by single-line inputs (address bar, form fields) and the editor (``multiline=True``).
    Positions are character offsets; ``anchor`` is the other end of the selection (None = none).
    """

    def __init__(self, text: str = "", multiline: bool = False, max_chars: int = 100_000):
        self.text = text
        self.caret = len(text)
        self.anchor: int | None = None
        self.multiline = multiline
        self.max_chars = max_chars
        self._undo: list[tuple[str, int]] = []

    # -- selection ---------------------------------------------------------------------
    @property
    def selection(self) -> tuple[int, int] | None:
        if self.anchor is None or self.anchor == self.caret:
            return None
        return min(self.anchor, self.caret), max(self.anchor, self.caret)

    def selected_text(self) -> str:
        sel = self.selection
        return self.text[sel[0] : sel[1]] if sel else ""

    def select_all(self) -> None:
        self.anchor, self.caret = 0, len(self.text)

    def set_text(self, text: str) -> None:
        self._push()
        self.text, self.caret, self.anchor = (
            text[: self.max_chars],
            min(len(text), self.max_chars),
            None,
        )

    # -- editing -----------------------------------------------------------------------
    def _push(self) -> None:
        self._undo.append((self.text, self.caret))
        if len(self._undo) > 200:
            del self._undo[0]

    def _delete_selection(self) -> bool:
        sel = self.selection
        if not sel:
            return False
        self.text = self.text[: sel[0]] + self.text[sel[1] :]
        self.caret, self.anchor = sel[0], None
        return True

    def insert(self, s: str) -> None:
        if not self.multiline:
            s = s.replace("\n", " ")
        self._push()
        self._delete_selection()
        room = self.max_chars - len(self.text)
        s = s[: max(0, room)]
        self.text = self.text[: self.caret] + s + self.text[self.caret :]
        self.caret += len(s)
        self.anchor = None

    def backspace(self) -> None:
        self._push()
        if not self._delete_selection() and self.caret > 0:
            self.text = self.text[: self.caret - 1] + self.text[self.caret :]
            self.caret -= 1

    def delete(self) -> None:
        self._push()
        if not self._delete_selection() and self.caret < len(self.text):
            self.text = self.text[: self.caret] + self.text[self.caret + 1 :]

    def undo(self) -> None:
        if self._undo:
            self.text, self.caret = self._undo.pop()
            self.anchor = None

    def move(self, where: str, shift: bool = False) -> None:
        if shift and self.anchor is None:
            self.anchor = self.caret
        elif not shift:
            sel = self.selection
            if sel and where in ("left", "right"):
                self.caret = sel[0] if where == "left" else sel[1]
                self.anchor = None
                return
            self.anchor = None
        text, c = self.text, self.caret
        line_start = text.rfind("\n", 0, c) + 1
        line_end = text.find("\n", c)
        line_end = len(text) if line_end < 0 else line_end
        if where == "left":
            c = max(0, c - 1)
        elif where == "right":
            c = min(len(text), c + 1)
        elif where == "home":
            c = line_start
        elif where == "end":
            c = line_end
        elif where == "doc_home":
            c = 0
        elif where == "doc_end":
            c = len(text)
        elif where in ("up", "down") and self.multiline:
            col = c - line_start
            if where == "up" and line_start > 0:
                prev_start = text.rfind("\n", 0, line_start - 1) + 1
                c = min(prev_start + col, line_start - 1)
            elif where == "down" and line_end < len(text):
                next_end = text.find("\n", line_end + 1)
                next_end = len(text) if next_end < 0 else next_end
                c = min(line_end + 1 + col, next_end)
        self.caret = c

    def key(self, key: str, mods: frozenset[str], clipboard: list[str]) -> str | None:
        """Apply an editing key; returns "enter" when Enter should submit (single line).

        ``clipboard`` is a one-element list shared with the desktop.
        """
        shift = "shift" in mods
        if "ctrl" in mods:
            if key == "a":
                self.select_all()
            elif key == "c":
                if self.selection:
                    clipboard[0] = self.selected_text()
            elif key == "x":
                if self.selection:
                    clipboard[0] = self.selected_text()
                    self._push()
                    self._delete_selection()
            elif key == "v":
                if clipboard[0]:
                    self.insert(clipboard[0])
            elif key == "z":
                self.undo()
            elif key == "home":
                self.move("doc_home", shift)
            elif key == "end":
                self.move("doc_end", shift)
            return None
        if key in ("left", "right", "home", "end", "up", "down"):
            self.move(key, shift)
        elif key == "backspace":
            self.backspace()
        elif key in ("delete", "del"):
            self.delete()
        elif key in ("enter", "return"):
            if self.multiline:
                self.insert("\n")
            else:
                return "enter"
        elif key == "tab" and self.multiline:
            self.insert("    ")
        elif key == "space":
            self.insert(" ")
        elif len(key) == 1:
            self.insert(key.upper() if shift and key.isalpha() else key)
        return None

    def look(self) -> dict[str, Any]:
        return {"caret": self.caret, "sel": self.selection}
