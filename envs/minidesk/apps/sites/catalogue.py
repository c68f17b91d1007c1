"""The catalogue: which builder makes the page of a URL, and the page scripts they use."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from envs.minidesk.apps.sites.apple import compare_page
from envs.minidesk.apps.sites.cars import site_page as cars_page
from envs.minidesk.apps.sites.chrome import CHROME_PAGES, unknown_page
from envs.minidesk.apps.sites.delta import book_results_page as delta_book_results
from envs.minidesk.apps.sites.delta import home_page as delta_home
from envs.minidesk.apps.sites.delta import results_page as delta_results
from envs.minidesk.apps.sites.generic import generic_page, is_generic, unreachable_page
from envs.minidesk.apps.sites.google import search_page
from envs.minidesk.apps.sites.kohls import kohls_page
from envs.minidesk.apps.sites.links import LINK_HOST, links_page
from envs.minidesk.apps.sites.macys import macys_page
from envs.minidesk.apps.sites.page import SCRIPTS, Page, PageBuilder, PageCtx, blocks_page
from envs.minidesk.apps.sites.qatar import booking_page as qatar_booking
from envs.minidesk.apps.sites.qatar import qatar_page
from envs.minidesk.apps.sites.ryanair import home_page as ryanair_home
from envs.minidesk.apps.sites.ryanair import select_page as ryanair_select
from envs.minidesk.apps.sites.static import STATIC_PAGES
from envs.minidesk.document import Element


def _delta(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """delta.com's home page; its other paths show example.com."""
    if key == "delta.com/":
        return delta_home(ctx, key, query)
    return generic_page(ctx, "example.com", key, query)


DYNAMIC: list[tuple[str, PageBuilder]] = [
    ("apple.com/iphone/compare", compare_page),
    ("ryanair.com/gb/en/trip/flights/select", ryanair_select),
    ("ryanair.com/gb/en", ryanair_home),
    ("delta.com/flightstatus/search", delta_results),
    ("delta.com/flight-search/search-results", delta_book_results),
    ("kohls.com/", kohls_page),
    ("macys.com/", macys_page),
    ("qatarairways.com/", qatar_page),
    ("booking.qatarairways.com/", qatar_booking),
    ("google.com/search", search_page),
    (LINK_HOST + "/", links_page),
    ("delta.com/", _delta),
    ("cars.com/", cars_page),
]
"""(host/path key prefix, builder): the first matching prefix builds the page."""


def canonical(url: str) -> str:
    """host/path key: no scheme, no ``www.``, path kept (a bare host gets ``/``)."""
    parts = urlsplit(url)
    host = parts.netloc.lower()
    host = host.removeprefix("www.")
    path = parts.path or "/"
    if path != "/" and path.endswith("/") and f"{host}{path}" not in STATIC_PAGES:
        path = path.rstrip("/")
    return f"{host}{path}"


def build_page(url: str, ctx: PageCtx) -> Page:
    """The page at ``url``: a ``chrome://`` page, a dynamic page (``DYNAMIC``), a static page
    (``STATIC_PAGES``), a generic site, else Chrome's "can't be reached" page."""
    parts = urlsplit(url)
    key = canonical(url)
    host = key.split("/", 1)[0]
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if url.startswith("chrome://"):
        name = url[len("chrome://") :].split("?")[0].rstrip("/")
        return CHROME_PAGES.get(name, unknown_page)(ctx, query)
    for prefix, builder in DYNAMIC:
        if key.startswith(prefix):
            return builder(ctx, key, query)
    spec = STATIC_PAGES.get(key) or STATIC_PAGES.get(key.rstrip("/")) or STATIC_PAGES.get(key + "/")
    if spec is not None:
        return blocks_page(ctx, spec["title"], spec["blocks"], spec.get("bg", ""))
    if is_generic(host):
        return generic_page(ctx, host, key, query)
    return unreachable_page(ctx, url, host)


SIMULATED_HOSTS = frozenset(
    [prefix.split("/", 1)[0] for prefix, _ in DYNAMIC]
    + [key.split("/", 1)[0] for key in STATIC_PAGES]
)
"""Hosts with pages of their own (dynamic or static); generic hosts aside (``is_generic``)."""


def simulated(url: str) -> bool:
    """Whether the catalogue has pages for ``url``'s site (a ``chrome://`` page, a host of
    ``SIMULATED_HOSTS``, a generic host), i.e. it does not open Chrome's "can't be reached"."""
    if url.startswith("chrome://"):
        return True
    host = canonical(url).split("/", 1)[0]
    return host in SIMULATED_HOSTS or is_generic(host)


def run_script(name: str, browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """Run the page script ``name`` (an element's ``action``/``on_change``); unknown names do
    nothing, as a page without that handler would."""
    fn = SCRIPTS.get(name)
    if fn is not None:
        fn(browser, tab, doc, el)
