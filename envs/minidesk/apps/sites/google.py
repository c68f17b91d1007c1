"""Google search results over the catalogue's static pages (the address bar's search)."""

from __future__ import annotations

from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page
from envs.minidesk.apps.sites.static import STATIC_PAGES


def search_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``google.com/search?q=...``: up to 8 static pages whose title or URL holds a query word."""
    q = query.get("q", "").strip().lower()
    results = []
    for url, spec in STATIC_PAGES.items():
        text = (spec["title"] + " " + url).lower()
        if q and any(word in text for word in q.split()):
            results.append(
                (
                    spec["title"],
                    "https://" + ("www." if url.startswith(("apple", "example")) else "") + url,
                )
            )
    blocks = [
        ("h1", f"Results for {query.get('q', '')}"),
        ("links", results[:8] or [("No results", "https://www.google.com/")]),
    ]
    return blocks_page(ctx, f"{query.get('q', '')} - Google Search", blocks)
