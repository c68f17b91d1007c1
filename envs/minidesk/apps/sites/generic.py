"""Pages of sites no task is about: news and video front pages, ad banners, example.com and the
"This site can't be reached" page (noisy task twins open them as distractors)."""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page

GENERIC_SITES = {
    "youtube.com": "YouTube",
    "nytimes.com": "The New York Times",
    "bbc.co.uk": "BBC",
    "cnn.com": "CNN",
    "nationalgeographic.com": "National Geographic",
    "weather.com": "Weather",
    "iana.org": "IANA",
}
"""Hosts with a generic front page, and the name it shows."""

EXAMPLE_KEY = "example.com/"
PAGES: dict[str, dict[str, Any]] = {
    EXAMPLE_KEY: {
        "title": "Example Domain",
        "blocks": [
            ("h1", "Example Domain"),
            ("p", "This domain is for use in illustrative examples in documents."),
            ("links", [("More information...", "https://www.iana.org/domains/example")]),
        ],
    },
}


def is_generic(host: str) -> bool:
    """Whether ``host`` gets a generic page (``GENERIC_SITES``, any ``*example.com``)."""
    return host.endswith("example.com") or host in GENERIC_SITES


def generic_page(ctx: PageCtx, host: str, key: str, query: dict[str, str]) -> Page:
    """An ``ads.*`` banner, a YouTube video (``?v=``), a site's front page, or example.com."""
    name = GENERIC_SITES.get(host)
    if host.startswith("ads."):
        return blocks_page(
            ctx,
            "Ad Banner",
            [
                ("h1", "Summer sale!"),
                ("image", "Up to 70% off - limited time", "orange"),
                ("p", "Sponsored content. Click anywhere to learn more."),
            ],
        )
    if name is None:
        spec = PAGES[EXAMPLE_KEY]
        return blocks_page(ctx, spec["title"], spec["blocks"])
    if host == "youtube.com" and "v" in query:
        return blocks_page(
            ctx,
            "YouTube",
            [
                (
                    "nav",
                    [
                        ("Home", "https://www.youtube.com/"),
                        ("Shorts", "https://www.youtube.com/shorts"),
                    ],
                ),
                ("image", "Video player", "red"),
                ("p", f"Video {query['v']}"),
            ],
        )
    return blocks_page(ctx, name, [("h1", name), ("p", f"Top stories on {name} today.")])


def unreachable_page(ctx: PageCtx, url: str, host: str) -> Page:
    """Chrome's error page for a host outside the catalogue."""
    return blocks_page(
        ctx,
        f"{host} can't be reached",
        [
            ("h1", "This site can't be reached"),
            ("p", f"{host or url}'s server IP address could not be found."),
            ("p", "Try checking the connection or the address."),
        ],
    )
