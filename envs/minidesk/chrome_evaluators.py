"""Getters and metrics of Chrome's own state (profile files, open tabs, desktop shortcuts).

OSWorld's getters (``desktop_env/evaluators/getters/chrome.py``) read Chrome's files over the VM
server; these read the same keys of ``desk.chrome`` (``chrome_profile.ChromeProfile``) and return
the same values, including OSWorld's defaults for a missing key (``"false"``, ``"Google"``,
16-px fonts). The metrics follow ``desktop_env/evaluators/metrics/chrome.py``. ``evaluators.py``
registers ``BROWSER_STATE_GETTERS`` and ``BROWSER_STATE_METRICS`` beside its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from envs.minidesk.apps.browser import DESKTOP_DIR
from envs.minidesk.apps.urls import compare_urls
from envs.minidesk.chrome_profile import DEFAULT_FONT_SIZE
from envs.minidesk.desktop import Desktop

DEFAULT_WEBPREFS = {"default_fixed_font_size": 13, "default_font_size": DEFAULT_FONT_SIZE}
"""What OSWorld's ``get_chrome_font_size`` returns when Preferences has no ``webkit.webprefs``."""


def _flag(value: Any) -> str:
    """OSWorld's getters answer "true"/"false" strings."""
    return "true" if value else "false"


# ------------------------------------------------------------------------------ getters
def get_enable_do_not_track(desk: Desktop, config: dict[str, Any]) -> str:
    """OSWorld getter ``enable_do_not_track``: "true" when Preferences' ``enable_do_not_track``
    is set."""
    return _flag(desk.chrome.pref("enable_do_not_track"))


def get_enable_enhanced_safety_browsing(desk: Desktop, config: dict[str, Any]) -> str:
    """OSWorld getter ``enable_enhanced_safety_browsing``: "true" when Preferences'
    ``safebrowsing.enhanced`` is set."""
    return _flag(desk.chrome.pref("safebrowsing.enhanced"))


def get_new_startup_page(desk: Desktop, config: dict[str, Any]) -> str:
    """OSWorld getter ``new_startup_page``: "true" when Preferences has no ``session`` (a fresh
    profile) or ``session.restore_on_startup`` is 5 (open the New Tab page)."""
    if "session" not in desk.chrome.preferences:
        return "true"
    return _flag(desk.chrome.pref("session.restore_on_startup") == 5)


def get_data_delete_automacally(desk: Desktop, config: dict[str, Any]) -> str:
    """OSWorld getter ``data_delete_automacally`` (sic): "true" when Preferences has
    ``profile.default_content_setting_values`` at all (OSWorld does not look inside)."""
    return _flag(desk.chrome.pref("profile.default_content_setting_values") is not None)


def get_profile_name(desk: Desktop, config: dict[str, Any]) -> str | None:
    """OSWorld getter ``profile_name``: Preferences' ``profile.name``."""
    return desk.chrome.pref("profile.name")


def get_default_search_engine(desk: Desktop, config: dict[str, Any]) -> str:
    """OSWorld getter ``default_search_engine``: Preferences'
    ``default_search_provider_data.template_url_data.short_name``, "Google" when unset."""
    return desk.chrome.pref("default_search_provider_data.template_url_data.short_name", "Google")


def get_chrome_font_size(desk: Desktop, config: dict[str, Any]) -> dict[str, Any]:
    """OSWorld getter ``chrome_font_size``: Preferences' ``webkit.webprefs`` (``DEFAULT_WEBPREFS``
    when unset)."""
    return dict(desk.chrome.pref("webkit.webprefs", DEFAULT_WEBPREFS))


def get_enabled_experiments(desk: Desktop, config: dict[str, Any]) -> list[str]:
    """OSWorld getter ``enabled_experiments``: Local State's ``browser.enabled_labs_experiments``
    (``name@choice`` entries)."""
    return desk.chrome.enabled_experiments()


def get_find_unpacked_extension_path(desk: Desktop, config: dict[str, Any]) -> list[str]:
    """OSWorld getter ``find_unpacked_extension_path``: the ``path`` of every extension in
    Preferences' ``extensions.settings``."""
    settings = desk.chrome.pref("extensions.settings", {})
    return [str(ext.get("path", "")) for ext in settings.values()]


def get_bookmarks(desk: Desktop, config: dict[str, Any]) -> dict[str, Any]:
    """OSWorld getter ``bookmarks``: the ``roots`` of the Bookmarks file (``bookmark_bar``,
    ``other``, ``synced``)."""
    return desk.chrome.bookmarks


def get_cookie_data(desk: Desktop, config: dict[str, Any]) -> list[tuple]:
    """OSWorld getter ``cookie_data``: the rows of the Cookies database's ``cookies`` table
    (``creation_utc, host_key, name, value, path``; OSWorld's metric reads ``host_key``, column 1)."""
    return [c.row() for c in desk.chrome.cookies]


def get_open_tabs_info(desk: Desktop, config: dict[str, Any]) -> list[dict[str, str]]:
    """OSWorld getter ``open_tabs_info``: ``{"title", "url"}`` of every open tab, in order (OSWorld
    reads them over CDP); [] when Chrome is not running."""
    win = desk.find_app("browser")
    if win is None:
        return []
    return [{"title": t.title, "url": t.url} for t in win.app.tabs]  # type: ignore[attr-defined]


def get_shortcuts_on_desktop(desk: Desktop, config: dict[str, Any]) -> dict[str, str]:
    """OSWorld getter ``shortcuts_on_desktop``: {file name: content} of the ``.desktop`` files in
    ``~/Desktop``."""
    folder = DESKTOP_DIR + "/"
    return {
        path[len(folder) :]: text
        for path, text in desk.files.items()
        if path.startswith(folder) and "/" not in path[len(folder) :] and path.endswith(".desktop")
    }


# ------------------------------------------------------------------------------ metrics
def _unsupported(rule: dict[str, Any]) -> TypeError:
    return TypeError(f"{rule['type']} not support yet!")


def is_expected_tabs(open_tabs: list[dict[str, str]], rule: dict[str, Any]) -> float:
    """OSWorld metric ``is_expected_tabs``: with rule ``type`` "url", 1 when the tabs' URLs and
    ``rule["urls"]`` have the same length and every expected URL matches one open tab under
    ``compare_urls`` (order free)."""
    if rule["type"] != "url":
        return 0.0  # OSWorld logs the unknown type and scores 0
    actual = [tab["url"] for tab in open_tabs]
    if len(actual) != len(rule["urls"]):
        return 0.0
    return float(all(any(compare_urls(u, a) for a in actual) for u in rule["urls"]))


def is_expected_bookmarks(bookmarks: dict[str, Any], rule: dict[str, Any]) -> float:
    """OSWorld metric ``is_expected_bookmarks``: the set of the bookmarks bar's folder names
    (rule ``bookmark_bar_folders_names``, ``names``) or page URLs (``bookmark_bar_websites_urls``,
    ``urls``) equals the rule's; 0 without bookmarks."""
    if not bookmarks:
        return 0.0
    bar = bookmarks["bookmark_bar"]["children"]
    if rule["type"] == "bookmark_bar_folders_names":
        return float({b["name"] for b in bar if b["type"] == "folder"} == set(rule["names"]))
    if rule["type"] == "bookmark_bar_websites_urls":
        return float({b["url"] for b in bar if b["type"] == "url"} == set(rule["urls"]))
    raise _unsupported(rule)


def is_cookie_deleted(cookie_data: list[tuple], rule: dict[str, Any]) -> float:
    """OSWorld metric ``is_cookie_deleted``: with rule ``type`` "domains", 0 when any cookie's
    ``host_key`` (column 1) equals one of ``rule["domains"]`` under ``compare_urls``, else 1."""
    if rule["type"] != "domains":
        raise _unsupported(rule)
    hosts = [row[1] for row in cookie_data]
    return float(not any(compare_urls(d, h) for d in rule["domains"] for h in hosts))


def is_shortcut_on_desktop(shortcuts: dict[str, str], rule: dict[str, Any]) -> float:
    """OSWorld metric ``is_shortcut_on_desktop``: with rule ``type`` "name", 1 when a shortcut's
    content has the line ``Name=<rule["name"]>``."""
    if rule["type"] != "name":
        raise _unsupported(rule)
    return float(any(f"Name={rule['name']}\n" in text for text in shortcuts.values()))


def check_enabled_experiments(enabled_experiments: list[str], rule: dict[str, Any]) -> float:
    """OSWorld metric ``check_enabled_experiments``: with rule ``type`` "names", 1 when the flags'
    names (``name@choice`` less the choice), in order, equal ``rule["names"]``."""
    if rule["type"] != "names":
        raise _unsupported(rule)
    return float([e.split("@")[0] for e in enabled_experiments] == rule["names"])


def check_font_size(font_size: dict[str, Any], rule: dict[str, Any]) -> float:
    """OSWorld metric ``check_font_size``: ``default_font_size`` equals ``rule["value"]`` (type
    "value") or lies strictly between ``min`` and ``max`` (type "range")."""
    size = font_size["default_font_size"]
    if rule["type"] == "value":
        return float(size == rule["value"])
    if rule["type"] == "range":
        return float(rule["min"] < size < rule["max"])
    raise _unsupported(rule)


BROWSER_STATE_GETTERS: dict[str, Callable[[Desktop, dict[str, Any]], Any]] = {
    "enable_do_not_track": get_enable_do_not_track,
    "enable_enhanced_safety_browsing": get_enable_enhanced_safety_browsing,
    "new_startup_page": get_new_startup_page,
    "data_delete_automacally": get_data_delete_automacally,
    "profile_name": get_profile_name,
    "default_search_engine": get_default_search_engine,
    "chrome_font_size": get_chrome_font_size,
    "enabled_experiments": get_enabled_experiments,
    "find_unpacked_extension_path": get_find_unpacked_extension_path,
    "bookmarks": get_bookmarks,
    "cookie_data": get_cookie_data,
    "open_tabs_info": get_open_tabs_info,
    "shortcuts_on_desktop": get_shortcuts_on_desktop,
}
"""Getter name (a task's ``result.type``) -> getter."""
BROWSER_STATE_METRICS: dict[str, Callable[..., float]] = {
    fn.__name__: fn
    for fn in (
        is_expected_tabs,
        is_expected_bookmarks,
        is_cookie_deleted,
        is_shortcut_on_desktop,
        check_enabled_experiments,
        check_font_size,
    )
}
"""Metric name (a task's ``evaluator.func``) -> metric."""
