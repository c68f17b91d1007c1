"""The web browser: tab strip, address bar, back/forward/reload, menu, history, page documents.

Pages come from the site catalogue (``apps/sites/``) as a function of the URL; the live
``DocState`` of each tab holds what the user typed and picked. Browsing history lives on the
``Desktop`` (the profile survives closing and relaunching the browser, as Chrome's does).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from envs.minidesk import document as D
from envs.minidesk.apps import sites
from envs.minidesk.apps.urls import (
    CLEAR_DATA_URL,
    HISTORY_URL,
    NEW_TAB_URL,
    display_url,
    normalize_typed_url,
)
from envs.minidesk.desktop import App, Desktop
from envs.minidesk.widgets import Rect, TextBuffer, Widget, text_width

MENU_ITEMS = (("New tab", "new_tab"), ("History", "history"), ("Clear browsing data", "clear"))


class Tab(D.DocHost):
    """One browser tab: URL, back/forward stacks and the live page document."""

    def __init__(self, browser: Browser, url: str):
        self.browser = browser
        self.url = url
        self.back: list[str] = []
        self.forward: list[str] = []
        self.doc: D.DocState | None = None
        self.width = 0
        self.title = ""

    # DocHost
    def navigate(self, url: str) -> None:
        self.browser.navigate(self, url)

    def submit(self, doc: D.DocState, element: D.Element) -> None:
        values = {k: v for k, v in doc.form_values().items() if v not in (None, False)}
        query = urlencode({k: ("on" if v is True else v) for k, v in values.items()})
        self.browser.navigate(self, f"{element.href}?{query}" if query else element.href)

    def script(self, name: str, doc: D.DocState, element: D.Element) -> None:
        sites.run_script(name, self.browser, self, doc, element)

    def today(self) -> dt.date:
        return self.browser.desk.now.date()

    def ensure_doc(self, width: int) -> D.DocState:
        if self.doc is None or width != self.width:
            page = sites.build_page(self.url, self.browser.page_ctx(width))
            if self.doc is None:
                self.doc = D.DocState(page.elements, page.title, self.url, page.bg, page.initial)
            else:
                self.doc.relayout(page.elements)
            self.title, self.width = page.title, width
        return self.doc

    def refresh(self, keep_state: bool = True) -> None:
        """Rebuild the page from its URL (after a page script changed what it shows)."""
        page = sites.build_page(self.url, self.browser.page_ctx(self.width or 400))
        if keep_state and self.doc is not None:
            self.doc.relayout(page.elements)
        else:
            self.doc = D.DocState(page.elements, page.title, self.url, page.bg, page.initial)
        self.title = page.title


class Browser(App):
    """Chrome look-alike. ``tabs[active]`` is the visible tab."""

    name = "browser"

    def __init__(self, desk: Desktop):
        self.desk = desk
        self.tabs: list[Tab] = []
        self.active = 0
        self.omni = TextBuffer(max_chars=D.INPUT_MAX_CHARS)
        self.omni_focus = False
        self.menu_open = False
        self._content_width = 400

    def title(self) -> str:
        tab = self.current
        return f"{tab.title or display_url(tab.url)} - Google Chrome" if tab else "Google Chrome"

    @property
    def current(self) -> Tab | None:
        return self.tabs[self.active] if self.tabs else None

    def page_ctx(self, width: int) -> sites.PageCtx:
        return sites.PageCtx(width=width, theme=self.desk.theme, now=self.desk.now, desk=self.desk)

    # ------------------------------------------------------------------ navigation
    def open_tab(self, url: str = NEW_TAB_URL, activate: bool = True) -> Tab:
        tab = Tab(self, url)
        self.tabs.append(tab)
        if activate:
            self.active = len(self.tabs) - 1
            self.omni_focus = url == NEW_TAB_URL
            self.omni.set_text("")
        tab.ensure_doc(self._content_width)
        self._record(tab)
        return tab

    def close_tab(self, index: int) -> None:
        if 0 <= index < len(self.tabs):
            del self.tabs[index]
            if index < self.active or self.active >= len(self.tabs):
                self.active = max(0, self.active - 1)
        if not self.tabs:
            win = self.desk.find_app("browser")
            if win is not None:
                self.desk.close_window(win)

    def activate(self, index: int) -> None:
        if 0 <= index < len(self.tabs):
            self.active = index
            self.omni_focus = False
            self.menu_open = False

    def navigate(self, tab: Tab, url: str, push: bool = True) -> None:
        if push and tab.url != url:
            tab.back.append(tab.url)
            tab.forward.clear()
        tab.url = url
        tab.doc = None
        tab.ensure_doc(tab.width or self._content_width)
        self.omni_focus = False
        self.menu_open = False
        self._record(tab)

    def replace_url(self, tab: Tab, url: str) -> None:
        """history.replaceState: new URL, same document state (page scripts use this)."""
        tab.url = url
        if tab.doc is not None:
            tab.doc.url = url
        self._record(tab)

    def go_back(self, tab: Tab) -> None:
        if tab.back:
            tab.forward.append(tab.url)
            self.navigate(tab, tab.back.pop(), push=False)

    def go_forward(self, tab: Tab) -> None:
        if tab.forward:
            tab.back.append(tab.url)
            self.navigate(tab, tab.forward.pop(), push=False)

    def _record(self, tab: Tab) -> None:
        if not tab.url.startswith("chrome://"):
            self.desk.add_history(tab.url, tab.title or display_url(tab.url))

    # ------------------------------------------------------------------ frame
    def build(self, desk: Desktop, rect: Rect, prefix: str) -> list[Widget]:
        t = desk.theme
        x0, y0, x1, y1 = rect
        out: list[Widget] = []
        p = prefix + "browser."
        strip = (x0, y0, x1, y0 + t.row + 2)
        out.append(
            Widget(
                "toolbar",
                strip,
                "",
                p + "strip",
                {"fill": (222, 225, 232)},
                on_click=lambda *a: None,
            )
        )
        plus_w = t.row
        n = max(1, len(self.tabs))
        tw = max(24, min(150 * max(1, t.row // 20), (x1 - x0 - plus_w - 4) // n))
        for i, tab in enumerate(self.tabs):
            r = (x0 + 2 + i * tw, y0 + 2, x0 + 2 + (i + 1) * tw - 1, strip[3])
            label = tab.title or display_url(tab.url)
            out.append(
                Widget(
                    "browser_tab",
                    r,
                    label,
                    f"{p}tab.{i}",
                    {"active": i == self.active},
                    on_click=lambda *a, i=i: self.activate(i),
                )
            )
            cs = r[3] - r[1]
            out.append(
                Widget(
                    "icon",
                    (r[2] - cs, r[1], r[2], r[3]),
                    "close",
                    f"{p}tab.{i}.close",
                    {"dark": True},
                    on_click=lambda *a, i=i: self.close_tab(i),
                )
            )
        px = x0 + 2 + len(self.tabs) * tw
        out.append(
            Widget(
                "icon",
                (px, y0 + 2, px + plus_w, strip[3]),
                "plus",
                p + "newtab",
                {},
                on_click=lambda *a: self.open_tab(),
            )
        )
        bar = (x0, strip[3], x1, strip[3] + t.row + 4)
        out.append(Widget("toolbar", bar, "", p + "toolbar", {}, on_click=lambda *a: None))
        b = t.row
        tab = self.current
        icons = (
            ("back", lambda *a: tab and self.go_back(tab), not (tab and tab.back)),
            ("forward", lambda *a: tab and self.go_forward(tab), not (tab and tab.forward)),
            ("reload", lambda *a: tab and tab.refresh(keep_state=False), False),
        )
        for i, (name, fn, disabled) in enumerate(icons):
            r = (x0 + 2 + i * b, bar[1] + 2, x0 + 2 + (i + 1) * b, bar[3] - 2)
            out.append(Widget("icon", r, name, f"{p}{name}", {"disabled": disabled}, on_click=fn))
        omni_rect = (x0 + 4 + 3 * b, bar[1] + 2, x1 - b - 4, bar[3] - 2)
        text = self.omni.text if self.omni_focus else display_url(tab.url) if tab else ""
        look = {"focused": self.omni_focus, "placeholder": "Search Google or type a URL"}
        if self.omni_focus:
            look.update(self.omni.look())
        else:
            look.update({"caret": len(text), "sel": None})

        def focus_omni(*_: Any) -> None:
            if not self.omni_focus:
                self.omni_focus = True
                self.omni.set_text(tab.url if tab and tab.url != NEW_TAB_URL else "")
                self.omni.select_all()
                if tab and tab.doc:
                    tab.doc.focus = None
            self.menu_open = False

        out.append(Widget("input", omni_rect, text, p + "address", look, on_click=focus_omni))
        menu_r = (x1 - b - 2, bar[1] + 2, x1 - 2, bar[3] - 2)
        out.append(
            Widget(
                "icon",
                menu_r,
                "menu",
                p + "menu",
                {},
                on_click=lambda *a: setattr(self, "menu_open", not self.menu_open),
            )
        )
        view = (x0, bar[3], x1, y1)
        self._content_width = x1 - x0
        if tab is not None:
            doc = tab.ensure_doc(x1 - x0)
            widgets = D.build(doc, tab, t, view, p + "page.")
            page_bg = widgets[0]
            inner_click = page_bg.on_click

            def page_click(*a: Any, inner=inner_click) -> None:
                self.omni_focus = False
                self.menu_open = False
                inner(*a)

            page_bg.on_click = page_click
            out.extend(widgets)
        if self.menu_open:
            mw = max(text_width(label, t.font_size) for label, _ in MENU_ITEMS) + 6 * t.pad
            mr = (x1 - mw - 2, bar[3], x1 - 2, bar[3] + len(MENU_ITEMS) * t.row)
            out.append(Widget("popup", mr, "", p + "menu.box", {}, on_click=lambda *a: None))
            for i, (label, key) in enumerate(MENU_ITEMS):
                r = (mr[0], mr[1] + i * t.row, mr[2], mr[1] + (i + 1) * t.row)
                out.append(
                    Widget(
                        "menuitem",
                        r,
                        label,
                        f"{p}menu.{key}",
                        {},
                        on_click=lambda *a, key=key: self._menu(key),
                    )
                )
        return out

    def _menu(self, key: str) -> None:
        self.menu_open = False
        if key == "new_tab":
            self.open_tab()
        elif key == "history":
            self.open_tab(HISTORY_URL)
        elif key == "clear":
            self.open_tab(CLEAR_DATA_URL)

    # ------------------------------------------------------------------ keyboard
    def key(self, desk: Desktop, key: str, mods: frozenset[str]) -> bool:
        tab = self.current
        if "ctrl" in mods:
            shortcuts = {
                "t": lambda: self.open_tab(),
                "w": lambda: self.close_tab(self.active),
                "l": lambda: self._focus_omni(),
                "h": lambda: self.open_tab(HISTORY_URL),
                "r": lambda: tab and tab.refresh(keep_state=False),
                "tab": lambda: self.activate(
                    (self.active + (-1 if "shift" in mods else 1)) % max(1, len(self.tabs))
                ),
                "delete": lambda: self.open_tab(CLEAR_DATA_URL),
            }
            if key in shortcuts and not (key == "delete" and "shift" not in mods):
                shortcuts[key]()
                return True
        if "alt" in mods and tab is not None and key in ("left", "right"):
            (self.go_back if key == "left" else self.go_forward)(tab)
            return True
        if key == "f5" and tab is not None:
            tab.refresh(keep_state=False)
            return True
        if key == "escape":
            self.menu_open = False
        if self.omni_focus:
            if self.omni.key(key, mods, desk.clipboard) == "enter" and tab is not None:
                self.navigate(tab, normalize_typed_url(self.omni.text))
            elif key == "escape":
                self.omni_focus = False
            return True
        if tab is not None and tab.doc is not None:
            if D.handle_key(tab.doc, tab, key, mods, desk.clipboard):
                return True
            if key in ("pagedown", "pageup", "space", "down", "up", "home", "end"):
                step = {
                    "pagedown": -8,
                    "space": -8,
                    "pageup": 8,
                    "down": -1,
                    "up": 1,
                    "home": 10_000,
                    "end": -10_000,
                }[key]
                tab.doc.scroll -= step * D.SCROLL_PX
                return True
        return False

    def _focus_omni(self) -> None:
        tab = self.current
        self.omni_focus = True
        self.omni.set_text(tab.url if tab and tab.url != NEW_TAB_URL else "")
        self.omni.select_all()

    def type(self, desk: Desktop, text: str) -> None:
        tab = self.current
        if self.omni_focus:
            for i, run in enumerate(text.split("\n")):
                if i:
                    self.key(desk, "enter", frozenset())
                if run and self.omni_focus:
                    self.omni.insert(run)
            return
        if tab is not None and tab.doc is not None:
            D.type_text(tab.doc, tab, text, desk.clipboard)

    def state(self) -> dict[str, Any]:
        return {"tabs": [t.url for t in self.tabs], "active": self.active}
