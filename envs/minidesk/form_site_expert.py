"""The scripted expert on the form sites: kohls.com, qatarairways.com and macys.com.

Their tasks are scored on the active tab's URL, which the sites' forms write (a search box, a
sort drop-down, filter links or boxes, a booking form). Each script reads the goal from the
task's evaluator, compares it with what the current URL and page hold, and returns one action
for the first unmet part, as ``expert_routes.route_step`` does for link sites. The scripts use
the expert's primitives (``expert._Expert``: ``visit``, ``page``, ``doc_goal``, ``doc_click``,
``pick_date``) and raise ``ValueError`` where the task asks for what a site does not offer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from envs.minidesk.apps.sites import build_page
from envs.minidesk.apps.sites.kohls import HOME_URL as KOHLS_HOME
from envs.minidesk.apps.sites.kohls import parse_catalog
from envs.minidesk.apps.sites.qatar import HOME_URL as QATAR_HOME
from envs.minidesk.evaluators import GETTERS
from envs.minidesk.expert_routes import NoRoute, find_route, task_site

MACYS_HOME = "https://www.macys.com/"


def form_site_step(expert: Any) -> Any:
    """The expert's next step on a form-site task, None for other tasks."""
    script = FORM_SITES.get(task_site(expert.task) or "")
    return None if script is None else script(expert)


def kohls_goal(patterns: list[str]) -> tuple[str, list[str], str]:
    """(search text, ``CN`` filters, sort) that the URL patterns of a kohls.com task ask for;
    a pattern's character class stands for its first character (``spider[-%20]?man`` reads
    ``spider-man``).

    Raises:
        ValueError: a pattern is neither ``search=...``, ``S=<n>`` nor ``Name:Value``.
    """
    search, facets, sort = "", [], ""
    for pattern in patterns:
        if pattern.startswith("search="):
            search = unquote(re.sub(r"\[(.)[^\]]*\]\??", r"\1", pattern[7:]).replace("\\", ""))
        elif re.fullmatch(r"S=\d+", pattern):
            sort = pattern[2:]
        elif re.fullmatch(r"\w+:\w+", pattern):
            facets.append(pattern)
        else:
            raise ValueError(f"kohls.com: pattern {pattern!r} is not a search, filter or sort")
    return search, facets, sort


def kohls_step(expert: Any) -> Any:
    """Search, then add each missing filter (a link), then pick the sort order."""
    search, facets, sort = kohls_goal(expert.task["evaluator"]["expected"]["rules"]["expected"])
    step = expert.visit("kohls.com", KOHLS_HOME)
    if step is not None:
        return step
    url = expert.browser()[0].current.url
    doc, prefix = expert.page()
    have_search, have_facets, have_sort = parse_catalog(url)
    if "catalog.jsp" not in url or have_search != search:
        goal = {"op": "text", "name": "search", "value": search, "enter": True}
        return expert.doc_goal(doc, prefix, goal)
    for facet in facets:
        if facet not in have_facets:
            link = next(
                e
                for e in doc.elements
                if e.kind == "link" and e.href and facet in parse_catalog(e.href)[1]
            )
            return expert.doc_click(doc, prefix, link, f"I filter by '{link.text}'.")
    if sort and have_sort != sort:
        return expert.doc_goal(doc, prefix, {"op": "select", "name": "sort", "value": sort})
    raise ValueError("kohls.com: search, filters and sort are set but the URL is not accepted")


def qatar_step(expert: Any) -> Any:
    """Fill the booking form (its pickers are named like the query keys the evaluator reads:
    airports, then dates) as a one-way trip unless a return date is asked, then search."""
    ev = expert.task["evaluator"]
    expected = GETTERS[ev["expected"]["type"]](expert.desk, ev["expected"])["expected"]
    renamed = {new: old for old, new in ev["result"].get("replace", {}).items()}
    want = {renamed.get(key, key): value for key, value in expected.items()}
    step = expert.visit("qatarairways.com", QATAR_HOME, ("showBooking.action", "Modify search"))
    if step is not None:
        return step
    doc, prefix = expert.page()
    trip = "R" if "returning" in want else "O"
    for name, value in (("section", "book"), ("tripType", trip), *want.items()):
        el = doc.by_name(name)
        if el is not None and el.kind == "date":
            if doc.values.get(name) != value:
                return expert.pick_date(doc, prefix, el, value)
            continue
        step = expert.doc_goal(doc, prefix, {"op": "select", "name": name, "value": value})
        if step is not None:
            return step
    search = next(e for e in doc.elements if e.text == "Search flights")
    return expert.doc_click(doc, prefix, search, "Everything is set; I click 'Search flights'.")


def _facet_boxes(elements: list[Any]) -> dict[str, Any]:
    """Facet checkboxes (named ``Facet:Value``) by value."""
    return {e.name.split(":", 1)[1]: e for e in elements if e.kind == "checkbox" and ":" in e.name}


def macys_step(expert: Any) -> Any:
    """Follow links to the category whose filters hold every value of the expected URL part,
    then tick those values (and untick any other)."""
    part = expert.task["evaluator"]["expected"]["rules"]["expected"]
    want = [unquote(v) for group in part.split(",") for v in group.split("|")]
    step = expert.visit("macys.com", MACYS_HOME)
    if step is not None:
        return step
    doc, prefix = expert.page()
    boxes = _facet_boxes(doc.elements)
    if all(v in boxes for v in want):
        for value, box in boxes.items():
            if bool(doc.values.get(box.name)) != (value in want):
                verb = "tick" if value in want else "untick"
                return expert.doc_click(doc, prefix, box, f"I {verb} '{value}'.")
        raise ValueError("macys.com: the filters are set but the URL is not accepted")
    app = expert.browser()[0]
    ctx = app.page_ctx(app.current.width or app._content_width)

    def has_filters(url: str) -> bool:
        return all(v in _facet_boxes(build_page(url, ctx).elements) for v in want)

    path = find_route(app.current.url, has_filters, ctx)
    if not path:
        raise NoRoute(f"macys.com: no category page filters by {', '.join(want)}")
    link = next(e for e in doc.elements if e.kind == "link" and e.href == path[0] and doc.shown(e))
    return expert.doc_click(doc, prefix, link, f"I follow the link '{link.text}'.")


FORM_SITES: dict[str, Callable[[Any], Any]] = {
    "kohls.com": kohls_step,
    "qatarairways.com": qatar_step,
    "macys.com": macys_step,
}
"""Task site (``expert_routes.task_site``) -> its script."""
