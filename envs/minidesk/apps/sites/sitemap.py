"""Static sites as site maps: a host, its nav bar and ``{path: (title, blocks)}``.

The site-visiting OSWorld tasks (drugs.com, babycenter, ...) need only pages and links: the task
is to find the page the evaluator names by reading and following links, among decoys. Each such
site module writes its map with ``site_pages``; ``static.py`` registers the result.
"""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites.page import Block

SiteMap = dict[str, tuple[str, list[Block]]]
"""Path (``/`` for the home page) -> (page title, blocks under the nav bar)."""


def site_pages(host: str, nav: list[tuple[str, str]], pages: SiteMap) -> dict[str, dict[str, Any]]:
    """``STATIC_PAGES`` entries of ``host`` (no ``www.``): every page of ``pages`` under ``nav``."""
    return {
        f"{host}{path}": {"title": title, "blocks": [("nav", nav), *blocks]}
        for path, (title, blocks) in pages.items()
    }


def menu(title: str, links: list[tuple[str, str]]) -> tuple[str, list[Block]]:
    """A page that is a heading and a list of links (a section's index)."""
    return title, [("h1", title), ("links", links)]


def article(title: str, heading: str, text: str) -> tuple[str, list[Block]]:
    """A page that is a heading and a paragraph (where a path of links ends)."""
    return title, [("h1", heading), ("p", text)]
