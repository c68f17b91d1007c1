"""Apple: the home and iPhone pages (static) and the iPhone comparison page (dynamic).

OSWorld task f5d96daf ("Compare iPhone 15 Pro Max with iPhone 13 Pro Max") is scored by
``is_expected_active_tab`` on the ``active_url_from_accessTree`` getter: the active tab's URL
must equal ``https://www.apple.com/iphone/compare/?modelList=<a>,<b>,<c>``, which the comparison
page keeps in step with its three model pickers (``history.replaceState``, as apple.com does).
"""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites.page import Page, PageCtx, page_flow, script
from envs.minidesk.document import Element

APPLE_MODELS = [
    ("iphone-15-pro-max", "iPhone 15 Pro Max"), ("iphone-15-pro", "iPhone 15 Pro"),
    ("iphone-15-plus", "iPhone 15 Plus"), ("iphone-15", "iPhone 15"),
    ("iphone-14-plus", "iPhone 14 Plus"), ("iphone-14", "iPhone 14"),
    ("iphone-13-pro-max", "iPhone 13 Pro Max"), ("iphone-13-pro", "iPhone 13 Pro"),
    ("iphone-13", "iPhone 13"), ("iphone-se-3rd-gen", "iPhone SE"),
]  # fmt: skip
APPLE_DEFAULT_MODELS = ["iphone-15-pro-max", "iphone-15-pro", "iphone-15"]
COMPARE_URL = "https://www.apple.com/iphone/compare/"
MODEL_SPECS = {
    "pro": ("A17 Pro chip", "Titanium design"),
    "15": ("A16 Bionic chip", "Aluminum design"),
    "14": ("A15 Bionic chip", "Aluminum design"),
    "13": ("A15 Bionic chip", "Stainless steel or aluminum"),
    "se": ("A15 Bionic chip", "Home button with Touch ID"),
}
"""The two spec lines shown under each model, by model tag (``-pro`` of the 15 line, else its
number)."""

PAGES: dict[str, dict[str, Any]] = {
    "apple.com/": {
        "title": "Apple",
        "blocks": [
            (
                "nav",
                [
                    ("Store", "https://www.apple.com/store"),
                    ("Mac", "https://www.apple.com/mac/"),
                    ("iPad", "https://www.apple.com/ipad/"),
                    ("iPhone", "https://www.apple.com/iphone/"),
                    ("Watch", "https://www.apple.com/watch/"),
                    ("Support", "https://www.apple.com/support/"),
                ],
            ),
            ("h1", "iPhone 15 Pro"),
            ("p", "Titanium. So strong. So light. So Pro."),
            ("image", "iPhone 15 Pro", "gray"),
            (
                "links",
                [
                    ("Learn more about iPhone", "https://www.apple.com/iphone/"),
                    ("Buy iPhone", "https://www.apple.com/store"),
                ],
            ),
        ],
    },
    "apple.com/iphone/": {
        "title": "iPhone - Apple",
        "blocks": [
            (
                "nav",
                [
                    ("Apple", "https://www.apple.com/"),
                    ("Mac", "https://www.apple.com/mac/"),
                    ("iPad", "https://www.apple.com/ipad/"),
                    ("Support", "https://www.apple.com/support/"),
                ],
            ),
            ("h1", "iPhone"),
            (
                "links",
                [
                    ("iPhone 15 Pro", "https://www.apple.com/iphone-15-pro/"),
                    ("iPhone 15", "https://www.apple.com/iphone-15/"),
                    ("iPhone 13", "https://www.apple.com/iphone-13/"),
                    ("Compare all models", "https://www.apple.com/iphone/compare/"),
                    ("Shop iPhone", "https://www.apple.com/store"),
                ],
            ),
            ("p", "Designed to be loved. Find the iPhone that is right for you."),
        ],
    },
}


def compare_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``apple.com/iphone/compare/?modelList=a,b,c``: three model pickers (the query's models,
    padded with ``APPLE_DEFAULT_MODELS``) and their specs; picking a model rewrites the URL that
    ``is_expected_active_tab`` compares."""
    models = [m for m in query.get("modelList", "").split(",") if m in dict(APPLE_MODELS)]
    models = (models + APPLE_DEFAULT_MODELS)[:3] if len(models) < 3 else models[:3]
    f = page_flow(
        ctx,
        [
            (
                "nav",
                [("Apple", "https://www.apple.com/"), ("iPhone", "https://www.apple.com/iphone/")],
            ),
            ("h1", "Compare iPhone models"),
        ],
    )
    f.row(
        [
            (
                "select",
                None,
                {
                    "name": f"model{i}",
                    "options": [list(p) for p in APPLE_MODELS],
                    "on_change": "apple_compare",
                    "id": f"model{i}",
                    "rows": 10,
                },
            )
            for i in range(3)
        ]
    )
    for line in range(2):
        items = []
        for m in models:
            tag = "pro" if m.startswith("iphone-15-pro") else m.split("-")[1]
            items.append(("text", None, {"text": MODEL_SPECS.get(tag, MODEL_SPECS["15"])[line]}))
        f.row(items)
    return Page(
        "iPhone - Compare Models - Apple",
        f.elements,
        initial={f"model{i}": m for i, m in enumerate(models)},
    )


@script
def apple_compare(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """A model picker changed: the URL's ``modelList`` follows (same document, new URL)."""
    models = [doc.values.get(f"model{i}") for i in range(3)]
    browser.replace_url(tab, f"{COMPARE_URL}?modelList=" + ",".join(models))
