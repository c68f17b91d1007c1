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
from envs.minidesk.apps.sites.chrome_settings import BOOKMARKS_URL
from envs.minidesk.apps.sites.profile_sites import SITE_COOKIES
from envs.minidesk.apps.urls import (
    CLEAR_DATA_URL,
    HISTORY_URL,
    NEW_TAB_URL,
    SETTINGS_URL,
    display_url,
    normalize_typed_url,
)
from envs.minidesk.desktop import App, Desktop
from envs.minidesk.widgets import Rect, TextBuffer, Widget, text_width

MENU_ITEMS = (
    ("New tab", "new_tab"),
    ("Reopen closed tab", "reopen"),
    ("History", "history"),
    ("Bookmark this tab", "bookmark"),
    ("Bookmarks", "bookmarks"),
    ("Create shortcut...", "shortcut"),
    ("Clear browsing data", "clear"),
    ("Settings", "settings"),
)
DESKTOP_DIR = "/home/user/Desktop"
"""Where "Create shortcut..." saves the shortcut's ``.desktop`` file."""


def shortcut_file(name: str, url: str) -> tuple[str, str]:
    """(path, content) of the desktop entry Chrome writes for a shortcut named ``name``."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "site"
    content = (
        "#!/usr/bin/env xdg-open\n[Desktop Entry]\nVersion=1.0\nTerminal=false\n"
        f"Type=Application\nName={name}\nExec=google-chrome {url}\nIcon=chrome-{slug}\n"
    )
    return f"{DESKTOP_DIR}/chrome-{slug}-Default.desktop", content


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
        self.closed: list[tuple[int, str]] = []  # (index, URL) of closed tabs, newest last
        self.shortcut: TextBuffer | None = None  # the "Create shortcut?" dialog's name field
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

    def open_startup_tabs(self) -> None:
        """What launching Chrome opens: the profile's startup pages, else a new tab page."""
        for url in self.desk.chrome.startup_urls() or [NEW_TAB_URL]:
            self.open_tab(url)

    def close_default_tab(self) -> None:
        """Close the new tab page Chrome started with, once other tabs are open."""
        if len(self.tabs) > 1 and self.tabs[0].url == NEW_TAB_URL:
            self.close_tab(0)

    def close_tab(self, index: int) -> None:
        if 0 <= index < len(self.tabs):
            if self.tabs[index].url != NEW_TAB_URL:
                self.closed.append((index, self.tabs[index].url))
            del self.tabs[index]
            if index < self.active or self.active >= len(self.tabs):
                self.active = max(0, self.active - 1)
        if not self.tabs:
            win = self.desk.find_app("browser")
            if win is not None:
                self.desk.close_window(win)

    def reopen_closed_tab(self) -> None:
        """Ctrl+Shift+T: the last closed tab comes back at its place."""
        if self.closed:
            index, url = self.closed.pop()
            tab = Tab(self, url)
            index = min(index, len(self.tabs))
            self.tabs.insert(index, tab)
            self.activate(index)
            tab.ensure_doc(self._content_width)
            self._record(tab)

    def bookmark_current(self) -> None:
        """Ctrl+D: bookmark the active tab on the bookmarks bar."""
        tab = self.current
        if tab is not None and tab.url != NEW_TAB_URL:
            self.desk.chrome.add_bookmark(tab.url, tab.title or display_url(tab.url))

    def create_shortcut(self) -> None:
        """Save the shortcut the dialog names (the page's title unless edited) on the desktop."""
        tab, buf = self.current, self.shortcut
        self.shortcut = None
        if tab is not None and buf is not None and buf.text.strip():
            path, content = shortcut_file(buf.text.strip(), tab.url)
            self.desk.files[path] = content

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
            host = sites.canonical(tab.url).split("/", 1)[0]
            if host in SITE_COOKIES:
                self.desk.chrome.set_cookies(tab.url, SITE_COOKIES[host], self.desk.now.timestamp())

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
        if self.shortcut is not None:
            out.extend(self._shortcut_dialog(rect, p + "shortcut."))
        return out

    def _shortcut_dialog(self, rect: Rect, p: str) -> list[Widget]:
        """The "Create shortcut?" dialog: the name field and Create / Cancel."""
        t = self.desk.theme
        buf = self.shortcut
        cx, w = (rect[0] + rect[2]) // 2, min(rect[2] - rect[0] - 8, 300)
        x0, y0 = cx - w // 2, rect[1] + 3 * t.row
        box = (x0, y0, x0 + w, y0 + 4 * t.row)

        def close(*_: Any) -> None:
            self.shortcut = None

        look = {"focused": True, "placeholder": "Name", **buf.look()}
        bw = 70
        by = (box[3] - t.row - 4, box[3] - 4)
        return [
            Widget("popup", box, "", p + "box", {}, on_click=lambda *a: None),
            Widget(
                "heading",
                (x0 + 8, y0 + 4, box[2] - 8, y0 + t.row),
                "Create shortcut?",
                p + "title",
                {},
            ),
            Widget(
                "input",
                (x0 + 8, y0 + t.row + 8, box[2] - 8, y0 + 2 * t.row + 4),
                buf.text,
                p + "name",
                look,
                on_click=lambda *a: None,
            ),
            Widget(
                "button",
                (box[2] - 2 * bw - 12, by[0], box[2] - bw - 12, by[1]),
                "Cancel",
                p + "cancel",
                {},
                on_click=close,
            ),
            Widget(
                "button",
                (box[2] - bw - 6, by[0], box[2] - 6, by[1]),
                "Create",
                p + "create",
                {"fill": (26, 115, 232)},
                on_click=lambda *a: self.create_shortcut(),
            ),
        ]

    def _menu(self, key: str) -> None:
        self.menu_open = False
        if key == "new_tab":
            self.open_tab()
        elif key == "history":
            self.open_tab(HISTORY_URL)
        elif key == "clear":
            self.open_tab(CLEAR_DATA_URL)
        elif key == "settings":
            self.open_tab(SETTINGS_URL)
        elif key == "bookmarks":
            self.open_tab(BOOKMARKS_URL)
        elif key == "bookmark":
            self.bookmark_current()
        elif key == "reopen":
            self.reopen_closed_tab()
        elif key == "shortcut" and self.current is not None:
            tab = self.current
            self.shortcut = TextBuffer(tab.title or display_url(tab.url), max_chars=200)
            self.shortcut.select_all()

    # ------------------------------------------------------------------ keyboard
    def key(self, desk: Desktop, key: str, mods: frozenset[str]) -> bool:
        tab = self.current
        if self.shortcut is not None:
            if key == "escape":
                self.shortcut = None
            elif self.shortcut.key(key, mods, desk.clipboard) == "enter":
                self.create_shortcut()
            return True
        if "ctrl" in mods and "shift" in mods and key in ("t", "o"):
            self.reopen_closed_tab() if key == "t" else self.open_tab(BOOKMARKS_URL)
            return True
        if "ctrl" in mods:
            shortcuts = {
                "t": lambda: self.open_tab(),
                "d": lambda: self.bookmark_current(),
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

    def _text_field(self) -> TextBuffer | None:
        """The browser's own field that typing goes to: the shortcut dialog's, the address bar."""
        if self.shortcut is not None:
            return self.shortcut
        return self.omni if self.omni_focus else None

    def type(self, desk: Desktop, text: str) -> None:
        tab = self.current
        field = self._text_field()
        if field is not None:
            for i, run in enumerate(text.split("\n")):
                if i:
                    self.key(desk, "enter", frozenset())
                field = self._text_field()  # Enter may have closed it
                if run and field is not None:
                    field.insert(run)
            return
        if tab is not None and tab.doc is not None:
            D.type_text(tab.doc, tab, text, desk.clipboard)

    def state(self) -> dict[str, Any]:
        return {"tabs": [t.url for t in self.tabs], "active": self.active}
