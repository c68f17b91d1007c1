"""The scripted expert on site-map sites: follow links to a page whose URL the evaluator accepts.

For tasks scored on the active tab's URL alone (``is_expected_active_tab``,
``is_expected_url_pattern_match``, ``exact_match`` on ``active_url_from_accessTree``,
``active_tab_info`` or ``url_dashPart``, against ``rule``s) on a site of ``SITE_MAP_HOSTS``, the
goal is a predicate on URLs; the route is a breadth-first search over the catalogue's links from
the current page, and each step clicks the next link on the page, as a user would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from envs.minidesk.apps.sites import build_page
from envs.minidesk.apps.sites.catalogue import canonical, simulated
from envs.minidesk.apps.sites.static import SITE_MAP_HOSTS
from envs.minidesk.apps.urls import display_url
from envs.minidesk.evaluators import METRICS
from envs.minidesk.site_getters import url_dash_part

URL_METRICS = frozenset({"is_expected_active_tab", "is_expected_url_pattern_match", "exact_match"})
URL_GETTERS = frozenset({"active_url_from_accessTree", "active_tab_info", "url_dashPart"})
MAX_ROUTE_PAGES = 400
"""Pages the route search may build before giving up."""


def _url_view(spec: dict[str, Any], url: str) -> Any:
    """What getter ``spec`` would return with ``url`` in the active tab."""
    if spec["type"] == "active_tab_info":
        return {"title": "", "url": url, "content": ""}
    shown = display_url(url)
    if not shown.startswith("chrome://"):
        shown = spec.get("goto_prefix", "https://") + shown
    return url_dash_part(shown, spec) if spec["type"] == "url_dashPart" else shown


def url_goal(task: dict[str, Any]) -> Callable[[str], bool] | None:
    """The URLs of the active tab that score 1, as a predicate; None when the evaluator reads
    more than the URL (or FAILs, or is infeasible)."""
    ev = task["evaluator"]
    funcs = ev["func"]
    if isinstance(funcs, str):
        parts = [(funcs, ev.get("result"), ev.get("expected"), ev.get("options", {}))]
    else:
        options = ev.get("options", [{}] * len(funcs))
        parts = list(zip(funcs, ev.get("result", []), ev.get("expected", []), options))
    for func, result, expected, _ in parts:
        if (
            func not in URL_METRICS
            or not isinstance(result, dict)
            or not isinstance(expected, dict)
        ):
            return None
        if result.get("type") not in URL_GETTERS or expected.get("type") != "rule":
            return None
    combine = any if ev.get("conj", "and") == "or" else all

    def accepts(url: str) -> bool:
        try:
            scores = (
                METRICS[f](_url_view(res, url), exp["rules"], **opt) for f, res, exp, opt in parts
            )
            return combine(s == 1.0 for s in scores)
        except (IndexError, KeyError, TypeError, ValueError):
            return False

    return accepts


def task_site(task: dict[str, Any]) -> str | None:
    """The host of the first page the task's setup opens in the browser, if any."""
    for step in task.get("config", []):
        if step.get("type") == "chrome_open_tabs":
            urls = step.get("parameters", {}).get("urls_to_open", [])
            if urls:
                return canonical(urls[0]).split("/", 1)[0]
    return None


def find_route(start: str, goal: Callable[[str], bool], ctx: Any) -> list[str] | None:
    """The shortest chain of links from ``start`` to a URL ``goal`` accepts: the URLs after
    ``start``, [] when ``start`` is one, None when none is within ``MAX_ROUTE_PAGES`` pages."""
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue and len(parents) <= MAX_ROUTE_PAGES:
        url = queue.popleft()
        if goal(url):
            path = []
            while parents[url] is not None:
                path.append(url)
                url = parents[url]  # type: ignore[assignment]
            return path[::-1]
        for el in build_page(url, ctx).elements:
            href = el.href if el.kind == "link" else None
            if href and href not in parents and simulated(href):
                parents[href] = url
                queue.append(href)
    return None


class NoRoute(ValueError):
    """No page reachable by links from the task's site is accepted by its evaluator (the expert
    reports it as ``ExpertStuck`` naming the task)."""


def route_step(expert: Any) -> Any:
    """The expert's next step (``expert._Expert``) on a site-map task, None for other tasks.

    Raises:
        NoRoute: no page reachable by links is accepted.
    """
    task = expert.task
    site = task_site(task)
    goal = url_goal(task)
    if site not in SITE_MAP_HOSTS or goal is None:
        return None
    home = next(
        s["parameters"]["urls_to_open"][0]
        for s in task["config"]
        if s.get("type") == "chrome_open_tabs"
    )
    step = expert.visit(site, home)
    if step is not None:
        return step
    app, _ = expert.browser()
    url = app.current.url
    if goal(url):
        return expert.done()
    ctx = app.page_ctx(app.current.width or app._content_width)
    path = find_route(url, goal, ctx)
    if path is None:
        if find_route(home, goal, ctx) is None:
            raise NoRoute(
                f"task {task['id']!r}: no link path on {site} to a page its evaluator accepts"
            )
        return expert.open_url(home)
    doc, prefix = expert.page()
    link = next(e for e in doc.elements if e.kind == "link" and e.href == path[0] and doc.shown(e))
    return expert.doc_click(doc, prefix, link, f"I follow the link '{link.text}'.")
