"""Load-time check of the web sites a task needs against the sites MiniDesk simulates.

Rule: a task *needs* a site when its evaluator reads the page the browser shows (a getter of
``PAGE_GETTERS``: the active tab's URL, text or HTML, a page fetched by URL) and the task's
setup opens that site or its evaluator names a URL on it. Such a task cannot be solved on
Chrome's "This site can't be reached" page, so a site outside the catalogue refuses it at load
(``UnknownSiteError``, one line naming the file and the site). A task whose evaluator reads only
the browser's own state (tabs, bookmarks, cookies, history, settings, shortcuts) never reads a
page: it loads, and the setup step that opens an unsimulated site says so in
``info["setup_warnings"]``.
"""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites.catalogue import canonical, simulated

PAGE_GETTERS = frozenset(
    {
        "active_url_from_accessTree",
        "active_tab_info",
        "active_tab_url_parse",
        "active_tab_html_parse",
        "url_dashPart",
        "page_info",
        "pdf_from_url",
        "gotoRecreationPage_and_get_html_content",
    }
)
"""Getters that read a web page (what the active tab shows, or a page at a URL)."""


def _specs(ev: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in ("result", "expected"):
        value = ev.get(key)
        for spec in value if isinstance(value, list) else [value]:
            if isinstance(spec, dict):
                out.append(spec)
    return out


def _web(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://"))


def task_urls(task: dict[str, Any]) -> list[str]:
    """The web URLs the task's setup opens in the browser and its evaluator names."""
    urls: list[str] = []
    for step in task.get("config", []):
        params = step.get("parameters", {}) if isinstance(step, dict) else {}
        if step.get("type") == "chrome_open_tabs":
            urls += params.get("urls_to_open", [])
        command = params.get("command")
        if step.get("type") in ("launch", "open", "execute") and isinstance(command, list):
            urls += command
    for spec in _specs(task["evaluator"]):
        rules = spec.get("rules", {}) if isinstance(spec.get("rules"), dict) else {}
        urls += [spec.get("url"), spec.get("path"), rules.get("url"), *rules.get("urls", [])]
    return [u for u in urls if _web(u)]


def unknown_sites(task: dict[str, Any]) -> list[str]:
    """Hosts (``www.`` dropped) the task needs that the catalogue does not simulate, in order;
    [] when its evaluator reads no page (see the module docstring)."""
    if not any(spec.get("type") in PAGE_GETTERS for spec in _specs(task["evaluator"])):
        return []
    hosts: list[str] = []
    for url in task_urls(task):
        host = canonical(url).split("/", 1)[0]
        if not simulated(url) and host not in hosts:
            hosts.append(host)
    return hosts
