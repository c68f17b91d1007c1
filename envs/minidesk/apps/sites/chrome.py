"""Chrome's own pages: the new tab page, History and "Clear browsing data" (Settings, flags and
bookmarks: ``chrome_settings.py``).

OSWorld task 44ee5668 (delete the YouTube entries of the browsing history) is scored by
``check_history_deleted`` on the ``history`` getter (Chrome's History database; here the
desktop's history): no remaining URL may contain the keyword. History's search, "Select all",
"Delete selected" and the "Clear browsing data" page change that history as Chrome's do; the
latter also deletes cookies (7b6c7e24, ``is_cookie_deleted`` on ``cookie_data``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from envs.minidesk.apps.sites.chrome_settings import SETTINGS_PAGES, search_in
from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page, script
from envs.minidesk.apps.urls import CLEAR_DATA_URL, HISTORY_URL, SETTINGS_URL, normalize_typed_url
from envs.minidesk.document import Element, Flow

CLEAR_RANGES = [
    ["hour", "Last hour"],
    ["day", "Last 24 hours"],
    ["week", "Last 7 days"],
    ["month", "Last 4 weeks"],
    ["all", "All time"],
]
RANGE_S = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 28 * 86400, "all": float("inf")}
"""How far back "Clear browsing data" deletes, per time range."""


def newtab_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://newtab``: a search box (typed text goes where the address bar would send it)
    and shortcuts."""
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.gap(t.row)
    f.add("heading", h=t.font_size + 10, text="Google", x=ctx.width // 2 - 30, w=80)
    f.add(
        "input",
        name="q",
        placeholder="Search Google or type a URL",
        action="google_search",
        x=ctx.width // 6,
        w=ctx.width * 2 // 3,
    )
    f.row(
        [
            ("link", None, {"text": "YouTube", "href": "https://www.youtube.com/"}),
            ("link", None, {"text": "Apple", "href": "https://www.apple.com/"}),
            ("link", None, {"text": "SeatGeek", "href": "https://seatgeek.com/"}),
        ]
    )
    return Page("New Tab", f.elements)


@script
def google_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """The new tab page's search box: Enter opens what the address bar would open."""
    browser.navigate(tab, normalize_typed_url(doc.values.get("q", "")))


def history_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://history/?q=``: the desktop's history, newest first, filtered by the query, one
    checkbox per entry."""
    desk = ctx.desk
    q = query.get("q", "").lower()
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="History")
    f.row(
        [
            (
                "input",
                None,
                {
                    "name": "q",
                    "placeholder": "Search history",
                    "action": "history_search",
                    "value": query.get("q", ""),
                },
            ),
            ("button", 70, {"text": "Search", "action": "history_search"}),
        ]
    )
    f.add(
        "link",
        h=t.font_size + 6,
        text="Clear browsing data",
        w=140,
        href=CLEAR_DATA_URL,
    )
    entries = [
        (i, e)
        for i, e in enumerate(desk.history)
        if not q or q in e.url.lower() or q in e.title.lower()
    ]
    entries.sort(key=lambda ie: -ie[1].visit_time)
    f.row(
        [
            (
                "checkbox",
                120,
                {"name": "_all", "text": "Select all", "on_change": "history_select_all"},
            ),
            ("button", 110, {"text": "Delete selected", "action": "history_delete"}),
            ("text", None, {"text": f"{len(entries)} items"}),
        ]
    )
    for i, entry in entries:
        when = dt.datetime.fromtimestamp(entry.visit_time).strftime("%H:%M")
        host = urlsplit(entry.url).netloc
        f.add("checkbox", h=t.font_size + 7, name=f"sel{i}", text=f"{when}  {entry.title}  {host}")
    return Page("History", f.elements)


@script
def history_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """History's search box and button: reload ``chrome://history`` with the query."""
    search_in(browser, tab, doc, HISTORY_URL)


@script
def history_select_all(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """History's "Select all": tick (or untick) every listed entry."""
    on = bool(doc.values.get("_all"))
    for e in doc.elements:
        if e.kind == "checkbox" and e.name.startswith("sel"):
            doc.values[e.name] = on


@script
def history_delete(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """History's "Delete selected": remove the ticked entries from the desktop's history (what
    ``check_history_deleted`` reads)."""
    chosen = {int(name[3:]) for name, v in doc.values.items() if name.startswith("sel") and v}
    desk = browser.desk
    desk.history = [e for i, e in enumerate(desk.history) if i not in chosen]
    for name in list(doc.values):
        if name.startswith("sel") or name == "_all":
            del doc.values[name]
    tab.refresh(keep_state=True)


def clear_data_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/clearBrowserData``: a time range and what to delete."""
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="Clear browsing data")
    f.row(
        [
            ("text", 80, {"text": "Time range"}),
            ("select", None, {"name": "range", "options": CLEAR_RANGES}),
        ]
    )
    f.add("checkbox", name="history", text="Browsing history", value=True)
    f.add("checkbox", name="cookies", text="Cookies and other site data", value=True)
    f.add("checkbox", name="cache", text="Cached images and files", value=True)
    f.row(
        [
            ("button", 80, {"text": "Cancel", "action": "clear_cancel"}),
            ("button", 90, {"text": "Clear data", "action": "clear_data", "color": "#1a73e8"}),
        ]
    )
    return Page("Settings - Clear browsing data", f.elements, initial={"range": "hour"})


@script
def clear_data(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """ "Clear data": delete the history and the cookies of the chosen time range (those
    ticked), then show Settings."""
    desk = browser.desk
    horizon = desk.now.timestamp() - RANGE_S[doc.values.get("range") or "hour"]
    if doc.values.get("history"):
        desk.history = [e for e in desk.history if e.visit_time < horizon]
    if doc.values.get("cookies"):
        desk.chrome.delete_cookies(since=horizon)
    browser.navigate(tab, SETTINGS_URL)


@script
def clear_cancel(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """ "Cancel": back to Settings, nothing deleted."""
    browser.navigate(tab, SETTINGS_URL)


def unknown_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """Any other ``chrome://`` page."""
    return blocks_page(ctx, "Chrome", [("h1", "This page is not available")])


CHROME_PAGES: dict[str, Callable[[PageCtx, dict[str, str]], Page]] = {
    "newtab": newtab_page,
    "history": history_page,
    "settings/clearBrowserData": clear_data_page,
    **SETTINGS_PAGES,
}
"""``chrome://<name>`` page builders by name (query and trailing slash stripped)."""
