"""The desktop: windows, taskbar, system dialogs, mouse and keyboard dispatch.

State only; no pixels. ``Desktop.build()`` returns the paint-ordered widget list of the current
frame (``render.py`` draws it); every input event is hit-tested against the list the user saw
and then the list is rebuilt. Apps (browser, editor, files, form) live in ``apps/`` and implement
``App``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from envs.minidesk.chrome_profile import ChromeProfile
from envs.minidesk.widgets import Rect, Theme, Widget, hit_test, inside, text_width

logger = logging.getLogger(__name__)

MODIFIERS = ("ctrl", "shift", "alt", "win", "command", "option", "fn")
_MOD_ALIASES = {
    "ctrlleft": "ctrl",
    "ctrlright": "ctrl",
    "control": "ctrl",
    "shiftleft": "shift",
    "shiftright": "shift",
    "altleft": "alt",
    "altright": "alt",
    "winleft": "win",
    "winright": "win",
    "cmd": "command",
    "optionleft": "option",
    "optionright": "option",
}
_KEY_ALIASES = {
    "return": "enter",
    "esc": "escape",
    "del": "delete",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "arrowleft": "left",
    "arrowright": "right",
    "arrowup": "up",
    "arrowdown": "down",
    "spacebar": "space",
}
DESKTOP_BG = (58, 92, 132)


def normalize_key(key: str) -> str:
    key = key if len(key) == 1 else key.lower()
    key = _MOD_ALIASES.get(key, key)
    return _KEY_ALIASES.get(key, key)


class App:
    """Base of the apps shown in windows."""

    name = "app"

    def title(self) -> str:
        return self.name

    def build(self, desk: Desktop, rect: Rect, prefix: str) -> list[Widget]:
        raise NotImplementedError

    def key(self, desk: Desktop, key: str, mods: frozenset[str]) -> bool:
        return False

    def type(self, desk: Desktop, text: str) -> None:
        for ch in text:
            self.key(desk, "enter" if ch == "\n" else ch, frozenset())

    def state(self) -> dict[str, Any]:
        """JSON-able summary for evaluators and debugging."""
        return {}


@dataclass
class Window:
    app: App
    wid: int
    rect: Rect
    maximized: bool = False


@dataclass
class SysDialog:
    """A desktop-level modal pop-up (noise, notifications): any button dismisses it."""

    title: str
    text: str
    buttons: list[str] = field(default_factory=lambda: ["OK"])
    did: int = 0


@dataclass
class HistoryEntry:
    url: str
    title: str
    visit_time: float
    """Seconds since the epoch (virtual clock)."""


class Desktop:
    """Everything on the virtual screen.

    Args:
        width: Screen width in pixels.
        height: Screen height in pixels.
        now: The virtual wall clock (pages, calendars and relative-time evaluators read it).
        kiosk: One full-screen app, no title bars and no taskbar (procedural form tasks).
    """

    def __init__(self, width: int, height: int, now: dt.datetime, kiosk: bool = False):
        self.width, self.height = width, height
        self.theme = Theme.for_screen(width, height)
        self.now = now
        self.kiosk = kiosk
        self.windows: list[Window] = []
        self.dialogs: list[SysDialog] = []
        self.clipboard = [""]
        self.mouse = (width - 1, height - 1)  # parked in the corner: covers nothing at reset
        self.held: set[str] = set()
        self.history: list[HistoryEntry] = []
        self.chrome = ChromeProfile()  # Chrome's profile files outlive the browser window
        self.files: dict[str, str] = {}
        self.trash: dict[str, str] = {}
        self._next_id = 1
        self._press: tuple[int, int, str, Widget | None] | None = None
        self.widgets: list[Widget] = []
        self.dirty = True
        self.build()

    # ------------------------------------------------------------------ windows
    @property
    def work_area(self) -> Rect:
        return (0, 0, self.width, self.height - (0 if self.kiosk else self.theme.taskbar))

    @property
    def active(self) -> Window | None:
        return self.windows[-1] if self.windows else None

    def open_window(self, app: App, maximized: bool = False) -> Window:
        x0, y0, x1, y1 = self.work_area
        inset = 0 if self.kiosk else max(4, (x1 - x0) // 40)
        rect = (x0 + inset, y0 + inset, x1 - inset, y1 - inset)
        win = Window(app, self._next_id, rect, maximized or self.kiosk)
        self._next_id += 1
        self.windows.append(win)
        return win

    def find_app(self, name: str) -> Window | None:
        for win in reversed(self.windows):
            if win.app.name == name:
                return win
        return None

    def raise_window(self, win: Window) -> None:
        if win in self.windows:
            self.windows.remove(win)
            self.windows.append(win)

    def close_window(self, win: Window) -> None:
        if win in self.windows:
            self.windows.remove(win)

    def window_rect(self, win: Window) -> Rect:
        return self.work_area if win.maximized else win.rect

    # ------------------------------------------------------------------ frame
    def build(self) -> list[Widget]:
        """Rebuild the display list from the state (cheap: no drawing)."""
        out: list[Widget] = []
        t = self.theme
        out.append(
            Widget(
                "desktop",
                (0, 0, self.width, self.height),
                "",
                "desktop",
                {"fill": DESKTOP_BG},
                on_click=lambda *a: None,
            )
        )
        for win in self.windows:
            out.extend(self._window_widgets(win))
        if not self.kiosk:
            out.extend(self._taskbar())
        for dialog in self.dialogs[-1:]:
            out.extend(self._dialog_widgets(dialog))
        self.widgets = out
        self.dirty = True
        _ = t
        return out

    def _window_widgets(self, win: Window) -> list[Widget]:
        t = self.theme
        x0, y0, x1, y1 = self.window_rect(win)
        prefix = f"w{win.wid}."
        out: list[Widget] = []
        active = win is self.active
        if self.kiosk or t.title_bar == 0:
            return win.app.build(self, (x0, y0, x1, y1), prefix)
        tb = t.title_bar
        out.append(
            Widget(
                "window",
                (x0, y0, x1, y1),
                "",
                prefix + "frame",
                {"active": active},
                on_click=lambda *a: None,
            )
        )

        def move(ax: int, ay: int, bx: int, by: int, win: Window = win) -> None:
            if win.maximized:
                return
            dx, dy = bx - ax, by - ay
            r = win.rect
            win.rect = (r[0] + dx, max(0, r[1] + dy), r[2] + dx, max(0, r[1] + dy) + r[3] - r[1])

        out.append(
            Widget(
                "titlebar",
                (x0, y0, x1, y0 + tb),
                win.app.title(),
                prefix + "title",
                {"active": active},
                on_click=lambda *a: None,
                on_drag=move,
            )
        )

        def toggle_max(*_: Any, win: Window = win) -> None:
            win.maximized = not win.maximized

        out.append(
            Widget(
                "icon",
                (x1 - 2 * tb, y0, x1 - tb, y0 + tb),
                "maximize",
                prefix + "maximize",
                {},
                on_click=toggle_max,
            )
        )
        out.append(
            Widget(
                "icon",
                (x1 - tb, y0, x1, y0 + tb),
                "close",
                prefix + "close",
                {},
                on_click=lambda *a, win=win: self.close_window(win),
            )
        )
        out.extend(win.app.build(self, (x0 + 1, y0 + tb, x1 - 1, y1 - 1), prefix))
        return out

    def _taskbar(self) -> list[Widget]:
        t = self.theme
        y0 = self.height - t.taskbar
        out = [
            Widget(
                "taskbar",
                (0, y0, self.width, self.height),
                "",
                "taskbar",
                {},
                on_click=lambda *a: None,
            )
        ]
        clock = self.now.strftime("%a %b %d %H:%M")
        cw = text_width(clock, t.font_size) + 2 * t.pad
        out.append(
            Widget(
                "label",
                (self.width - cw, y0, self.width, self.height),
                clock,
                "clock",
                {"fg": (230, 230, 230), "center": True},
            )
        )
        x = t.pad
        bw = min(
            120 * max(1, t.row // 20), (self.width - cw - 2 * t.pad) // max(1, len(self.windows))
        )
        for win in self.windows:
            r = (x, y0 + 2, x + bw - t.pad, self.height - 2)

            def activate(*_: Any, win: Window = win) -> None:
                self.raise_window(win)

            out.append(
                Widget(
                    "taskbutton",
                    r,
                    win.app.title(),
                    f"taskbar.{win.wid}",
                    {"active": win is self.active},
                    on_click=activate,
                )
            )
            x += bw
        return out

    def _dialog_widgets(self, dialog: SysDialog) -> list[Widget]:
        t = self.theme
        w = min(self.width - 8, max(180, self.width // 2))
        h = min(self.height - 8, t.row * 5)
        x0, y0 = (self.width - w) // 2, (self.height - h) // 3
        prefix = f"dialog{dialog.did}."
        out = [
            Widget(
                "sysdialog",
                (x0, y0, x0 + w, y0 + h),
                dialog.text,
                prefix + "box",
                {"title": dialog.title},
                modal=True,
                on_click=lambda *a: None,
            )
        ]
        bw = max(text_width(b, t.font_size) for b in dialog.buttons) + 4 * t.pad
        x = x0 + w - t.pad
        for label in reversed(dialog.buttons):
            r = (x - bw, y0 + h - t.row - t.pad, x, y0 + h - t.pad)
            x -= bw + t.pad
            out.append(
                Widget(
                    "button",
                    r,
                    label,
                    prefix + label,
                    {"fill": (225, 228, 235)},
                    on_click=lambda *a, d=dialog: self.dismiss(d),
                )
            )
        return out

    def dismiss(self, dialog: SysDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def show_dialog(self, title: str, text: str, buttons: list[str]) -> SysDialog:
        dialog = SysDialog(title, text, list(buttons), did=self._next_id)
        self._next_id += 1
        self.dialogs.append(dialog)
        return dialog

    def find(self, wid: str) -> Widget | None:
        """The widget with id ``wid`` in the current frame (experts and tests use this)."""
        for w in reversed(self.widgets):
            if w.wid == wid:
                return w
        return None

    def find_prefix(self, prefix: str) -> list[Widget]:
        return [w for w in self.widgets if w.wid.startswith(prefix)]

    # ------------------------------------------------------------------ input
    def _window_at(self, x: int, y: int) -> Window | None:
        if self.dialogs:
            return None
        for win in reversed(self.windows):
            if inside(self.window_rect(win), x, y):
                return win
        return None

    def move(self, x: int, y: int) -> None:
        self.mouse = (min(max(0, x), self.width - 1), min(max(0, y), self.height - 1))

    def mouse_down(self, x: int, y: int, button: str = "left") -> None:
        self.move(x, y)
        x, y = self.mouse
        target = None
        for w in reversed(self.widgets):
            if w.hit(x, y):
                if w.on_click is not None or w.on_drag is not None:
                    target = w
                    break
            elif w.modal:
                break
        self._press = (x, y, button, target)

    def mouse_up(self, x: int, y: int, button: str = "left", count: int = 1) -> None:
        self.move(x, y)
        x, y = self.mouse
        press, self._press = self._press, None
        if press is None:
            return
        px, py, _, target = press
        if target is None:
            return
        win = self._window_at(px, py)
        if win is not None and win is not self.active:
            self.raise_window(win)
        if target.hit(x, y) and target.on_click is not None:
            if button == "left" or target.look.get("right_click"):
                target.on_click(x, y, button, count)
        elif target.on_drag is not None and (px, py) != (x, y):
            target.on_drag(px, py, x, y)
        self.build()

    def click(self, x: int | None, y: int | None, button: str = "left", clicks: int = 1) -> None:
        if x is None or y is None:
            x, y = self.mouse
        for i in range(clicks):
            self.mouse_down(x, y, button)
            self.mouse_up(x, y, button, count=i + 1)

    def drag(self, x: int, y: int, button: str = "left") -> None:
        self.mouse_down(*self.mouse, button)
        self.mouse_up(x, y, button)

    def scroll(self, clicks: int, x: int | None = None, y: int | None = None) -> None:
        if x is not None and y is not None:
            self.move(x, y)
        target = hit_test(self.widgets, *self.mouse, attr="on_scroll")
        if target is not None and clicks:
            target.on_scroll(clicks)
            self.build()

    def key_down(self, key: str) -> None:
        key = normalize_key(key)
        if key in MODIFIERS:
            self.held.add(key)
        else:
            self.key(key)

    def key_up(self, key: str) -> None:
        self.held.discard(normalize_key(key))

    def hotkey(self, keys: list[str]) -> None:
        keys = [normalize_key(k) for k in keys]
        mods = frozenset(k for k in keys if k in MODIFIERS) | frozenset(self.held)
        plain = [k for k in keys if k not in MODIFIERS]
        for k in plain or [""]:
            if k:
                self.key(k, mods)

    def key(self, key: str, mods: frozenset[str] | None = None) -> None:
        key = normalize_key(key)
        mods = frozenset(self.held) if mods is None else mods
        if len(key) == 1 and key.isupper():
            mods = mods | {"shift"}
            key = key.lower()
        if self.dialogs:
            if key in ("escape", "enter"):
                self.dialogs.pop()
            self.build()
            return
        win = self.active
        if "alt" in mods and key == "f10" and win is not None and not self.kiosk:
            win.maximized = not win.maximized
        elif "alt" in mods and key == "f4" and win is not None and not self.kiosk:
            self.close_window(win)
        elif "alt" in mods and key == "tab" and len(self.windows) > 1:
            self.raise_window(self.windows[0])
        elif win is not None:
            win.app.key(self, key, mods)
        self.build()

    def type(self, text: str) -> None:
        if self.dialogs:
            return
        if "shift" in self.held or "ctrl" in self.held or "alt" in self.held:
            for ch in text:
                self.key(ch)
            return
        win = self.active
        if win is not None:
            win.app.type(self, text)
        self.build()

    # ------------------------------------------------------------------ commands
    def apply(self, name: str, kw: dict[str, Any]) -> None:
        """Run one interpreted pyautogui command (see ``interpreter.Command``)."""
        x, y = kw.get("x"), kw.get("y")
        if "dx" in kw:
            x, y = self.mouse[0] + kw["dx"], self.mouse[1] + kw["dy"]
        if name in ("click", "doubleClick", "tripleClick", "rightClick", "middleClick"):
            self.click(x, y, kw.get("button", "left"), kw.get("clicks", 1))
        elif name == "moveTo":
            if x is not None:
                self.move(x, y)
        elif name == "dragTo":
            if x is not None:
                self.drag(x, y, kw.get("button", "left"))
        elif name == "mouseDown":
            self.mouse_down(*(self.mouse if x is None else (x, y)), kw.get("button", "left"))
        elif name == "mouseUp":
            self.mouse_up(*(self.mouse if x is None else (x, y)), kw.get("button", "left"))
        elif name in ("write", "typewrite"):
            self.type(kw["text"])
        elif name == "press":
            for _ in range(kw.get("presses", 1)):
                for k in kw["keys"]:
                    self.key(k)
        elif name == "hotkey":
            self.hotkey(kw["keys"])
        elif name == "keyDown":
            self.key_down(kw["key"])
        elif name == "keyUp":
            self.key_up(kw["key"])
        elif name == "scroll":
            self.scroll(kw["clicks"], x, y)
        elif name == "hscroll" and x is not None:
            self.move(x, y)
        # sleep / WAIT: the clock is virtual, nothing happens.

    # ------------------------------------------------------------------ browsing profile
    def add_history(self, url: str, title: str, seconds_ago: float = 0.0) -> None:
        self.history.append(HistoryEntry(url, title, self.now.timestamp() - seconds_ago))
