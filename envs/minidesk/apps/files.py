"""The file manager: one folder of the virtual file system; open, select, delete."""

from __future__ import annotations

from typing import Any

from envs.minidesk.desktop import App, Desktop
from envs.minidesk.widgets import Rect, Widget

HOME = "/home/user"


class Files(App):
    """Nautilus look-alike: double-click opens a file in the editor, Delete moves it to trash."""

    name = "files"

    def __init__(self, folder: str = HOME):
        self.folder = folder.rstrip("/")
        self.selected: str | None = None
        self.menu_for: str | None = None
        self.scroll = 0

    def title(self) -> str:
        return f"{self.folder.rsplit('/', 1)[-1]} - Files"

    def entries(self, desk: Desktop) -> list[str]:
        prefix = self.folder + "/"
        return sorted(p for p in desk.files if p.startswith(prefix) and "/" not in p[len(prefix) :])

    def open(self, desk: Desktop, path: str) -> None:
        from envs.minidesk.apps.editor import Editor

        for win in desk.windows:
            if isinstance(win.app, Editor) and win.app.path == path:
                desk.raise_window(win)
                return
        desk.open_window(Editor(path, desk.files.get(path, "")))

    def delete(self, desk: Desktop, path: str) -> None:
        if path in desk.files:
            desk.trash[path] = desk.files.pop(path)
        self.selected = None

    def build(self, desk: Desktop, rect: Rect, prefix: str) -> list[Widget]:
        t = desk.theme
        x0, y0, x1, y1 = rect
        p = prefix + "files."
        bar = (x0, y0, x1, y0 + t.row + 4)
        out = [
            Widget("toolbar", bar, "", p + "toolbar", {}, on_click=lambda *a: None),
            Widget("label", bar, self.folder, p + "path", {"muted": True}),
        ]

        def background(*_: Any) -> None:
            self.selected, self.menu_for = None, None

        area = (x0, bar[3], x1, y1)
        entries = self.entries(desk)
        rows = max(1, (area[3] - area[1]) // t.row)
        self.scroll = min(max(0, self.scroll), max(0, len(entries) - rows))

        def wheel(clicks: int) -> None:
            self.scroll = min(max(0, self.scroll - clicks), max(0, len(entries) - rows))

        out.append(
            Widget(
                "panel",
                area,
                "",
                p + "area",
                {"fill": (255, 255, 255)},
                on_click=background,
                on_scroll=wheel,
            )
        )
        for i, path in enumerate(entries[self.scroll : self.scroll + rows]):
            r = (x0 + 2, area[1] + i * t.row, x1 - 2, area[1] + (i + 1) * t.row)

            def click(x: int, y: int, button: str, count: int, path: str = path) -> None:
                self.selected = path
                self.menu_for = path if button == "right" else None
                if button == "left" and count >= 2:
                    self.open(desk, path)

            name = path.rsplit("/", 1)[-1]
            out.append(
                Widget(
                    "file",
                    r,
                    name,
                    f"{p}file.{name}",
                    {"selected": path == self.selected, "right_click": True},
                    area,
                    on_click=click,
                    on_scroll=wheel,
                )
            )
            if self.menu_for == path:
                mr = (
                    min(r[0] + 40, x1 - 100),
                    r[3],
                    min(r[0] + 40, x1 - 100) + 100,
                    r[3] + 2 * t.row,
                )
                menu_items = (
                    ("Open", lambda *a, path=path: self._menu_open(desk, path)),
                    ("Delete", lambda *a, path=path: self._menu_delete(desk, path)),
                )
                menu = [Widget("popup", mr, "", p + "menu", {}, on_click=lambda *a: None)]
                for j, (label, fn) in enumerate(menu_items):
                    rr = (mr[0], mr[1] + j * t.row, mr[2], mr[1] + (j + 1) * t.row)
                    menu.append(
                        Widget("menuitem", rr, label, f"{p}menu.{label.lower()}", {}, on_click=fn)
                    )
                self._menu = menu
        if self.menu_for is not None and self.menu_for in entries:
            out.extend(self._menu)
        return out

    def _menu_open(self, desk: Desktop, path: str) -> None:
        self.menu_for = None
        self.open(desk, path)

    def _menu_delete(self, desk: Desktop, path: str) -> None:
        self.menu_for = None
        self.delete(desk, path)

    def key(self, desk: Desktop, key: str, mods: frozenset[str]) -> bool:
        if key == "delete" and self.selected:
            self.delete(desk, self.selected)
        elif key == "enter" and self.selected:
            self.open(desk, self.selected)
        elif key == "escape":
            self.menu_for = None
        return True

    def state(self) -> dict[str, Any]:
        return {"folder": self.folder, "selected": self.selected}
