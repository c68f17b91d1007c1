"""The scripted expert's scripts for tasks about Chrome's own state, and for infeasible tasks.

``browser_state_expert(task)`` picks a script by the evaluator's result getter (``expert.py``
calls it before its own scripts); a script takes the expert (``expert._Expert``: its clicks,
typing and page helpers) and returns the next ``(Action, thought)``, as an agent would act: the
address bar to reach a ``chrome://`` page, then the page's controls, the browser menu, hotkeys.
Infeasible tasks (evaluator func ``infeasible``) are answered FAIL at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from envs.minidesk.apps.sites import cars
from envs.minidesk.apps.sites.chrome_settings import (
    BOOKMARKS_URL,
    FLAGS_URL,
    PASSWORD_MANAGER,
    SETTINGS,
)
from envs.minidesk.apps.sites.delta import BOOK_URL as DELTA_BOOK_URL
from envs.minidesk.apps.sites.delta import DELTA_AIRPORTS, FARE_TAB_SELECTED
from envs.minidesk.apps.sites.delta import HOME_URL as DELTA_HOME
from envs.minidesk.apps.urls import CLEAR_DATA_URL
from envs.minidesk.chrome_profile import FONT_SIZES
from envs.minidesk.evaluators import is_infeasible
from envs.minidesk.expert_routes import find_route, task_site, url_goal
from rllib_arpo.core.actions import Action

Step = tuple[Action, str]
SETTINGS_PAGES = (SETTINGS.rstrip("/"), PASSWORD_MANAGER.rstrip("/"))
"""URL prefixes of the pages reached from the menu's Settings by links."""
Script = Callable[[Any], Step]


def _rules(ex: Any) -> dict[str, Any]:
    return ex.task["evaluator"]["expected"]["rules"]


def _on_page(ex: Any, url: str) -> Step | None:
    """Open ``url`` (a chrome:// page) from the address bar unless the active tab shows it."""
    switch = ex.goto_tab(lambda u: u.split("?")[0].rstrip("/") == url.rstrip("/"))
    if switch is not None:
        return switch
    app, _ = ex.browser()
    if app.current.url.split("?")[0].rstrip("/") != url.rstrip("/"):
        return ex.open_url(url)
    return None


def _setting(url: str, goal: Callable[[Any], dict[str, Any]]) -> Script:
    """A script that sets one control (a ``doc_goal`` sub-goal) on the settings page ``url``."""

    def run(ex: Any) -> Step:
        step = _on_page(ex, url)
        if step is not None:
            return step
        doc, prefix = ex.page()
        return ex.doc_goal(doc, prefix, goal(ex)) or ex.done()

    return run


def _font_size(ex: Any) -> dict[str, Any]:
    """The largest font size the rule accepts (the tasks ask for "the largest")."""
    rule = _rules(ex)
    sizes = [int(v) for v, _ in FONT_SIZES]
    if rule["type"] == "value":
        fits = [s for s in sizes if s == rule["value"]]
    else:
        fits = [s for s in sizes if rule["min"] < s < rule["max"]]
    return {"op": "select", "name": "font_size", "value": str(max(fits))}


def flags(ex: Any) -> Step:
    """chrome://flags: set each named flag to Disabled (Enabled when the task does not say
    disable)."""
    step = _on_page(ex, FLAGS_URL)
    if step is not None:
        return step
    choice = "2" if "disable" in ex.task["instruction"].lower() else "1"
    doc, prefix = ex.page()
    for name in _rules(ex)["names"]:
        goal = ex.doc_goal(doc, prefix, {"op": "select", "name": name, "value": choice})
        if goal is not None:
            return goal
    return ex.done()


def bookmarks(ex: Any) -> Step:
    """Folders: chrome://bookmarks, type each missing name, "Add new folder". Pages: switch to
    the tab and press Ctrl+D."""
    rule = _rules(ex)
    bar = ex.desk.chrome.bookmark_bar()
    if rule["type"] == "bookmark_bar_websites_urls":
        url = next(u for u in rule["urls"] if u not in {b.get("url") for b in bar})
        step = ex.goto_tab(lambda u: u == url)
        if step is not None:
            return step
        if ex.browser()[0].current.url != url:
            return ex.open_url(url)
        return ex.hotkey("ctrl", "d", thought="I bookmark this page with Ctrl+D.")
    name = next(n for n in rule["names"] if n not in {b["name"] for b in bar})
    step = _on_page(ex, BOOKMARKS_URL)
    if step is not None:
        return step
    doc, prefix = ex.page()
    typed = ex.doc_goal(doc, prefix, {"op": "text", "name": "folder", "value": name})
    if typed is not None:
        return typed
    add = next(e for e in doc.elements if e.text == "Add new folder")
    return ex.doc_click(doc, prefix, add, f"I add the folder '{name}'.")


def clear_cookies(ex: Any) -> Step:
    """Clear browsing data: All time, cookies ticked, Clear data."""
    step = _on_page(ex, CLEAR_DATA_URL)
    if step is not None:
        return step
    doc, prefix = ex.page()
    for goal in (
        {"op": "select", "name": "range", "value": "all"},
        {"op": "check", "name": "cookies", "value": True},
    ):
        step = ex.doc_goal(doc, prefix, goal)
        if step is not None:
            return step
    clear = next(e for e in doc.elements if e.text == "Clear data")
    return ex.doc_click(doc, prefix, clear, "I clear the cookies and site data of all time.")


def reopen_tab(ex: Any) -> Step:
    """Ctrl+Shift+T brings the last closed tab back."""
    if not ex.browser()[0].closed:
        raise ValueError("no closed tab to reopen")
    return ex.hotkey("ctrl", "shift", "t", thought="I reopen the last closed tab (Ctrl+Shift+T).")


def shortcut(ex: Any) -> Step:
    """Browser menu > Create shortcut..., name it as the rule says, Create."""
    name = _rules(ex)["name"]
    app, p = ex.browser()
    if ex.desk.find_app("browser") is not ex.desk.active:
        return ex.goto_tab(lambda u: True)
    if app.shortcut is None:
        if not app.menu_open:
            return ex.click(ex.find(p + "menu"), "I open Chrome's menu.")
        return ex.click(ex.find(p + "menu.shortcut"), "I choose 'Create shortcut...'.")
    if app.shortcut.text != name:
        if app.shortcut.selection != (0, len(app.shortcut.text)):
            return ex.hotkey("ctrl", "a", thought="I select the suggested name.")
        return ex.type(name, f"I name the shortcut '{name}'.")
    return ex.click(ex.find(p + "shortcut.create"), "I click Create.")


def chrome_page(ex: Any) -> Step:
    """A ``chrome://`` page the evaluator names by URL: the menu's Settings, then the shortest
    chain of links through the settings pages to it."""
    goal = url_goal(ex.task)
    if goal is None:
        raise ValueError("the evaluator reads more than the active URL")
    step = ex.goto_tab(lambda u: u.startswith(SETTINGS_PAGES))
    if step is not None:
        return step
    app, p = ex.browser()
    url, width = app.current.url, app.current.width or app._content_width
    path = find_route(url, goal, app.page_ctx(width)) if url.startswith(SETTINGS_PAGES) else None
    if path == []:
        return ex.done()
    if path is None:
        if not app.menu_open:
            return ex.click(ex.find(p + "menu"), "I open Chrome's menu.")
        return ex.click(ex.find(p + "menu.settings"), "I open Settings.")
    doc, prefix = ex.page()
    link = next(e for e in doc.elements if e.kind == "link" and e.href == path[0] and doc.shown(e))
    return ex.doc_click(doc, prefix, link, f"I click '{link.text}'.")


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def delta_flights(ex: Any) -> Step:
    """delta.com's Book tab: One Way, the airports, the departure date, "Shop with Miles" as the
    fare tab the rule names, Search; on the results page, the other fare tab when it is wrong."""
    want = _rules(ex)["expected"]
    miles = want["category"] == "Miles"
    day = ex.rule_day().date().isoformat()
    for code in (want["start"], want["end"]):
        if code not in dict(DELTA_AIRPORTS):
            raise ValueError(f"airport {code} not in the catalogue")
    step = ex.visit("delta.com", DELTA_HOME)
    if step is not None:
        return step
    url = ex.browser()[0].current.url
    if url.startswith(DELTA_BOOK_URL):
        q = _query(url)
        if (q.get("from"), q.get("to"), q.get("departureDate")) != (
            want["start"],
            want["end"],
            day,
        ):
            return ex.page_link("Book")
        return ex.page_link(want["category"])
    if url.split("?")[0] != DELTA_HOME:
        return ex.open_url(DELTA_HOME)
    doc, prefix = ex.page()
    goals = [
        {"op": "select", "name": "section", "value": "book"},
        {"op": "select", "name": "trip", "value": "oneway"},
        {"op": "select", "name": "origin", "value": want["start"]},
        {"op": "select", "name": "destination", "value": want["end"]},
    ]
    for goal in goals:
        step = ex.doc_goal(doc, prefix, goal)
        if step is not None:
            return step
    if doc.values.get("depart") != day:
        return ex.pick_date(doc, prefix, doc.by_name("depart"), day)
    if bool(doc.values.get("miles")) != miles:
        return ex.doc_goal(doc, prefix, {"op": "check", "name": "miles", "value": miles})
    search = next(e for e in doc.elements if e.text == "Search flights")
    return ex.doc_click(doc, prefix, search, "I search for flights.")


def cars_search(ex: Any) -> Step:
    """cars.com: the home form's fields the rule names (ZIP typed), Search; then the results
    filters (the fuel type, and any search value still wrong), each of which reloads the page."""
    want = _rules(ex)["expected"]
    fields = {cars.FIELDS[key]: str(value) for key, value in want.items()}
    step = ex.visit("cars.com", cars.HOME_URL)
    if step is not None:
        return step
    url = ex.browser()[0].current.url
    doc, prefix = ex.page()
    names = {e.name for e in doc.elements if e.name}
    if url.startswith(cars.RESULTS_URL):
        q = _query(url)
        for key, value in want.items():
            if q.get(key, "") == str(value):
                continue
            name = cars.FIELDS[key]
            op = "text" if name == "zip" else "select"
            goal = {"op": op, "name": name, "value": str(value), "enter": op == "text"}
            step = ex.doc_goal(doc, prefix, goal)
            if step is None:
                raise ValueError(f"the filter {name} shows {value} but the URL does not")
            return step
        return ex.done()
    if url.split("?")[0].rstrip("/") != cars.HOME_URL.rstrip("/"):
        return ex.open_url(cars.HOME_URL)
    for name, value in fields.items():
        if name in names:
            op = "text" if name == "zip" else "select"
            step = ex.doc_goal(doc, prefix, {"op": op, "name": name, "value": value})
            if step is not None:
                return step
    search = next(e for e in doc.elements if e.text == "Search")
    return ex.doc_click(doc, prefix, search, "I search for cars.")


def infeasible(ex: Any) -> Step:
    return Action("call_user"), "Chrome cannot do what is asked here; the task is infeasible."


SCRIPTS: dict[str, Script] = {
    "enable_do_not_track": _setting(
        SETTINGS + "cookies", lambda ex: {"op": "check", "name": "do_not_track", "value": True}
    ),
    "enable_enhanced_safety_browsing": _setting(
        SETTINGS + "security",
        lambda ex: {"op": "select", "name": "safe_browsing", "value": "enhanced"},
    ),
    "data_delete_automacally": _setting(
        SETTINGS + "content/siteData",
        lambda ex: {"op": "select", "name": "site_data", "value": "delete_on_close"},
    ),
    "new_startup_page": _setting(
        SETTINGS + "onStartup", lambda ex: {"op": "select", "name": "startup", "value": "newtab"}
    ),
    "profile_name": _setting(
        SETTINGS + "manageProfile",
        lambda ex: {
            "op": "text",
            "name": "profile_name",
            "value": _rules(ex)["expected"],
            "enter": True,
        },
    ),
    "default_search_engine": _setting(
        SETTINGS + "search",
        lambda ex: {"op": "select", "name": "engine", "value": _rules(ex)["expected"]},
    ),
    "chrome_font_size": _setting(SETTINGS + "appearance", _font_size),
    "enabled_experiments": flags,
    "bookmarks": bookmarks,
    "cookie_data": clear_cookies,
    "open_tabs_info": reopen_tab,
    "shortcuts_on_desktop": shortcut,
}
"""Result getter type -> script."""


def browser_state_expert(task: dict[str, Any]) -> Script | None:
    """The script for ``task``: FAIL for an infeasible task, else by its result getter; None
    when this module has none."""
    ev = task["evaluator"]
    if is_infeasible(ev):
        return infeasible
    result = ev.get("result")
    if not isinstance(result, dict):
        return None
    rules = ev.get("expected", {}).get("rules") if isinstance(ev.get("expected"), dict) else None
    if isinstance(rules, dict) and str(rules.get("url", "")).startswith("chrome://"):
        return chrome_page
    if FARE_TAB_SELECTED in result.get("class_singleObject", {}):
        return delta_flights
    if task_site(task) == "cars.com" and result.get("type") == "active_tab_url_parse":
        return cars_search
    return SCRIPTS.get(result.get("type"))
