"""Pages the browser-state tasks open, and the cookies sites store.

OSWorld's tasks about Chrome's own state start on real sites: 7b6c7e24 (delete Amazon's cookies,
``is_cookie_deleted`` on ``cookie_data``), 35253b65 (a desktop shortcut named after the page,
``is_shortcut_on_desktop``: the page's title "Play Puzzle Game 2048"), 7a5a7856 (bookmark the
page, ``is_expected_bookmarks``). Their pages here are short look-alikes with the real titles.
"""

from __future__ import annotations

from typing import Any

AMAZON = "https://www.amazon.com/"
PAGES: dict[str, dict[str, Any]] = {
    "amazon.com/": {
        "title": "Amazon.com. Spend less. Smile more.",
        "blocks": [
            ("nav", [("Today's Deals", AMAZON), ("Books", AMAZON + "s?k=books")]),
            ("h1", "Amazon"),
            ("p", "Shop deals in electronics, books, home and more."),
        ],
    },
    "amazon.com/s": {
        "title": "Amazon.com : huggingface transformers book",
        "blocks": [
            ("nav", [("Amazon", AMAZON)]),
            ("h1", "Results"),
            ("p", "Natural Language Processing with Transformers, Revised Edition"),
        ],
    },
    "mathsisfun.com/games/2048.html": {
        "title": "Play Puzzle Game 2048",
        "blocks": [
            ("h1", "2048"),
            ("p", "Join the numbers and get to the 2048 tile! Use your arrow keys to move."),
            ("image", "2048 board", "orange"),
        ],
    },
    "blog.eleuther.ai/rotary-embeddings/": {
        "title": "Rotary Embeddings: A Relative Revolution | EleutherAI Blog",
        "blocks": [
            ("h1", "Rotary Embeddings: A Relative Revolution"),
            ("p", "Rotary Positional Embedding (RoPE) unifies absolute and relative approaches."),
        ],
    },
    "jalammar.github.io/illustrated-transformer/": {
        "title": "The Illustrated Transformer - Jay Alammar",
        "blocks": [
            ("h1", "The Illustrated Transformer"),
            ("p", "In this post, we will look at The Transformer, a model that uses attention."),
        ],
    },
}
"""Static pages (``static.STATIC_PAGES``), by host/path key."""

SITE_COOKIES: dict[str, tuple[str, ...]] = {
    "amazon.com": ("session-id", "session-id-time", "ubid-main", "i18n-prefs"),
    "google.com": ("NID", "AEC"),
    "youtube.com": ("YSC", "VISITOR_INFO1_LIVE"),
}
"""Host (no ``www.``) -> the cookies its pages store on ``.host`` when visited."""
