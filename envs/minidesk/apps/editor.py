"""The text editor: one file, typing, selection, clipboard, undo and ctrl+s save."""

from __future__ import annotations

from typing import Any

from envs.minidesk.desktop import App, Desktop
from envs.minidesk.widgets import GRID, Rect, TextBuffer, Widget, caret_index


class Editor(App):
    """gedit look-alike. The buffer is saved into ``desk.files[path]`` with ctrl+s or Save."""

    name = "editor"

    def __init__(self, path: str, text: str = ""):
        self.path = path
        self.buf = TextBuffer(text, multiline=True)
        self.buf.caret = 0
        self.saved = text
        self.top = 0
        self._geom: tuple[int, int, int] = (0, 0, 14)

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def modified(self) -> bool:
        return self.buf.text != self.saved

    def title(self) -> str:
        return f"{'*' if self.modified else ''}{self.filename} - Text Editor"

    def save(self, desk: Desktop) -> None:
        desk.files[self.path] = self.buf.text
        self.saved = self.buf.text

    def index_at(self, x: int, y: int) -> int:
        """Character offset under a screen point of the text area."""
        x0, y0, lh = self._geom
        lines = self.buf.text.split("\n")
        row = min(len(lines) - 1, max(0, (y - y0 - 2) // lh + self.top))
        line = lines[row]
        col = caret_index(line, x - x0 - 4, self._size)
        return sum(len(s) + 1 for s in lines[:row]) + col

    def line_rect(self, row: int) -> tuple[int, int, int, int] | None:
        """Screen rect of text line ``row`` (None when scrolled out); experts use it."""
        x0, y0, lh = self._geom
        r = row - self.top
        if r < 0 or y0 + 2 + (r + 1) * lh > self._bottom:
            return None
        return (x0 + 4, y0 + 2 + r * lh, self._right, y0 + 2 + (r + 1) * lh)

    def build(self, desk: Desktop, rect: Rect, prefix: str) -> list[Widget]:
        t = desk.theme
        x0, y0, x1, y1 = rect
        p = prefix + "editor."
        bar = (x0, y0, x1, y0 + t.row + (0 if t.row == GRID else 4))  # grid screens: one cell
        out = [Widget("toolbar", bar, "", p + "toolbar", {}, on_click=lambda *a: None)]
        out.append(
            Widget(
                "button",
                (x0 + 4, y0 + 2, x0 + 4 + 3 * t.row, bar[3] - 2),
                "Save",
                p + "save",
                {},
                on_click=lambda *a: self.save(desk),
            )
        )
        out.append(
            Widget(
                "label",
                (x0 + 8 + 3 * t.row, y0, x1, bar[3]),
                self.path,
                p + "path",
                {"muted": True},
            )
        )
        status = (x0, y1 - t.row, x1, y1)
        area = (x0, bar[3], x1, status[1])
        lh = t.font_size + 5
        self._size = t.font_size
        self._geom = (area[0], area[1], lh)
        self._bottom, self._right = area[3], area[2]
        visible = max(1, (area[3] - area[1] - 4) // lh)
        caret_row = self.buf.text[: self.buf.caret].count("\n")
        if caret_row < self.top:
            self.top = caret_row
        elif caret_row >= self.top + visible:
            self.top = caret_row - visible + 1

        def click(x: int, y: int, button: str, count: int) -> None:
            self.buf.anchor = None
            self.buf.caret = self.index_at(x, y)
            if count == 2:
                text, c = self.buf.text, self.buf.caret
                a = c
                while a > 0 and (text[a - 1].isalnum() or text[a - 1] == "_"):
                    a -= 1
                b = c
                while b < len(text) and (text[b].isalnum() or text[b] == "_"):
                    b += 1
                self.buf.anchor, self.buf.caret = a, b

        def drag(ax: int, ay: int, bx: int, by: int) -> None:
            self.buf.anchor = self.index_at(ax, ay)
            self.buf.caret = self.index_at(bx, by)

        def wheel(clicks: int) -> None:
            total = self.buf.text.count("\n") + 1
            self.top = min(max(0, self.top - clicks), max(0, total - visible))

        look = {
            "caret": self.buf.caret,
            "sel": self.buf.selection,
            "top": self.top,
            "line_h": lh,
            "focused": True,
        }
        out.append(
            Widget(
                "text_area",
                area,
                self.buf.text,
                p + "text",
                look,
                on_click=click,
                on_drag=drag,
                on_scroll=wheel,
            )
        )
        line = caret_row + 1
        col = self.buf.caret - (self.buf.text.rfind("\n", 0, self.buf.caret) + 1) + 1
        msg = f"{'Modified' if self.modified else 'Saved'}    Ln {line}, Col {col}"
        out.append(Widget("toolbar", status, "", p + "status", {}))
        out.append(Widget("label", status, msg, p + "statustext", {"muted": True}))
        return out

    def key(self, desk: Desktop, key: str, mods: frozenset[str]) -> bool:
        if "ctrl" in mods and key == "s":
            self.save(desk)
            return True
        self.buf.key(key, mods, desk.clipboard)
        return True

    def type(self, desk: Desktop, text: str) -> None:
        self.buf.insert(text)

    def state(self) -> dict[str, Any]:
        return {"path": self.path, "text": self.buf.text, "saved": self.saved}
