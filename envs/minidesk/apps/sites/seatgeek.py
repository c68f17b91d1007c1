"""SeatGeek and its help centre (static pages).

OSWorld task f3b19d1e ("Find help page about buying tickets") is scored by
``is_expected_url_pattern_match`` on the ``active_tab_info`` getter: the active tab's URL must
match the pattern of the "Buying Tickets" category, reached from the home page's "Help" link.
"""

from __future__ import annotations

from typing import Any

SEATGEEK_HELP = "https://support.seatgeek.com/hc/en-us"
CATEGORIES = [
    ("Selling Tickets", "202505848-Selling-Tickets"),
    ("Buying Tickets", "202505828-Buying-Tickets"), ("My Account", "202505808-My-Account"),
    ("Ticket Delivery", "202505868-Ticket-Delivery"), ("Event Changes", "202505888-Event-Changes"),
]  # fmt: skip
"""The help centre's categories: (title, URL slug)."""


def _category(slug: str, *blocks: tuple) -> dict[str, dict[str, Any]]:
    """The static page of help-centre category ``slug``: its title, a link back, ``blocks``."""
    title = dict((s, t) for t, s in CATEGORIES)[slug]
    return {
        f"support.seatgeek.com/hc/en-us/categories/{slug}": {
            "title": f"{title} – SeatGeek Help Center",
            "blocks": [("nav", [("Help Center", SEATGEEK_HELP)]), ("h1", title), *blocks],
        }
    }


PAGES: dict[str, dict[str, Any]] = {
    "seatgeek.com/": {
        "title": "SeatGeek - Tickets to Sports, Concerts, Broadway & Theater",
        "bg": "#f7f7fb",
        "blocks": [
            (
                "nav",
                [
                    ("Sports", "https://seatgeek.com/sports"),
                    ("Concerts", "https://seatgeek.com/concerts"),
                    ("Theater", "https://seatgeek.com/theater"),
                    ("Help", SEATGEEK_HELP),
                ],
            ),
            ("h1", "Let there be live"),
            ("p", "Find tickets to the events you love. Buy and sell with confidence."),
            ("image", "Trending: The Eras Tour", "purple"),
            (
                "links",
                [
                    ("Taylor Swift | The Eras Tour", "https://seatgeek.com/taylor-swift-tickets"),
                    ("New York Yankees", "https://seatgeek.com/new-york-yankees-tickets"),
                    ("Hamilton", "https://seatgeek.com/hamilton-tickets"),
                ],
            ),
            ("p", "SeatGeek Help Center, careers and press are linked below."),
            (
                "links",
                [
                    ("Help Center", SEATGEEK_HELP),
                    ("Sell tickets", "https://seatgeek.com/sell"),
                    ("About SeatGeek", "https://seatgeek.com/about"),
                ],
            ),
        ],
    },
    "support.seatgeek.com/hc/en-us": {
        "title": "SeatGeek Help Center",
        "blocks": [
            (
                "nav",
                [
                    ("SeatGeek", "https://seatgeek.com/"),
                    ("Submit a request", SEATGEEK_HELP + "/requests/new"),
                ],
            ),
            ("h1", "How can we help?"),
            (
                "links",
                [(title, f"{SEATGEEK_HELP}/categories/{slug}") for title, slug in CATEGORIES],
            ),
        ],
    },
    **_category(
        "202505828-Buying-Tickets",
        (
            "links",
            [
                ("How do I buy tickets?", SEATGEEK_HELP + "/articles/1-How-do-I-buy-tickets"),
                ("What is Deal Score?", SEATGEEK_HELP + "/articles/2-Deal-Score"),
                ("Payment methods", SEATGEEK_HELP + "/articles/3-Payment-methods"),
            ],
        ),
    ),
    **_category(
        "202505848-Selling-Tickets",
        ("p", "How to list, price and transfer tickets you want to sell."),
    ),
}
