"""The browser's site catalogue: look-alike pages, as data, for the sites the tasks need.

``STATIC_PAGES`` maps URLs (scheme/``www.``/trailing slash ignored) to block lists; dynamic
pages (forms, search results, browser history, the procedural link sites) are small builders
keyed by host and path in ``DYNAMIC``. A block is a tuple whose first item names it:

- ``("nav", [(label, href), ...])``: a row of links; ``("h1", text)``; ``("p", text)``;
- ``("links", [(label, href), ...])``: one link per line; ``("cls", class, text)``: a text line
  with an HTML class (read by ``active_tab_html_parse``); ``("image", label, colour)``.

The URLs and page structure follow what OSWorld's evaluators read for the seed tasks: the
support-site category URL containing ``Buying-Tickets``, Apple's
``/iphone/compare/?modelList=...``, Ryanair's ``trip/flights/select?...tpStartDate=...`` query and
Delta's flight-status results with ``search-segment-cities__city`` and ``search-date`` classes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from envs.minidesk.document import Element, Flow
from envs.minidesk.widgets import Theme

SEATGEEK_HELP = "https://support.seatgeek.com/hc/en-us"
APPLE_MODELS = [
    ("iphone-15-pro-max", "iPhone 15 Pro Max"),
    ("iphone-15-pro", "iPhone 15 Pro"),
    ("iphone-15-plus", "iPhone 15 Plus"),
    ("iphone-15", "iPhone 15"),
    ("iphone-14-plus", "iPhone 14 Plus"),
    ("iphone-14", "iPhone 14"),
    ("iphone-13-pro-max", "iPhone 13 Pro Max"),
    ("iphone-13-pro", "iPhone 13 Pro"),
    ("iphone-13", "iPhone 13"),
    ("iphone-se-3rd-gen", "iPhone SE"),
]
APPLE_DEFAULT_MODELS = ["iphone-15-pro-max", "iphone-15-pro", "iphone-15"]
RYANAIR_AIRPORTS = [
    ("BER", "Berlin Brandenburg"),
    ("BVA", "Paris Beauvais"),
    ("CIA", "Rome Ciampino"),
    ("DUB", "Dublin"),
    ("STN", "London Stansted"),
    ("VIE", "Vienna"),
    ("VLC", "Valencia"),
    ("WMI", "Warsaw Modlin"),
]
DELTA_AIRPORTS = [
    ("ATL", "ATL - Atlanta, GA"),
    ("BOS", "BOS - Boston, MA"),
    ("CLE", "CLE - Cleveland, OH"),
    ("CMH", "CMH - Columbus, OH"),
    ("CSG", "CSG - Columbus, GA"),
    ("CVG", "CVG - Cincinnati, OH"),
    ("EWR", "EWR - Newark, NJ"),
    ("JFK", "JFK - New York-Kennedy, NY"),
    ("LGA", "LGA - New York-LaGuardia, NY"),
    ("NYC", "NYC - New York City Area Airports, NY"),
    ("ORD", "ORD - Chicago-O'Hare, IL"),
]
DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_ABBR = (
    "",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

Block = tuple

STATIC_PAGES: dict[str, dict[str, Any]] = {
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
                [
                    ("Selling Tickets", SEATGEEK_HELP + "/categories/202505848-Selling-Tickets"),
                    ("Buying Tickets", SEATGEEK_HELP + "/categories/202505828-Buying-Tickets"),
                    ("My Account", SEATGEEK_HELP + "/categories/202505808-My-Account"),
                    ("Ticket Delivery", SEATGEEK_HELP + "/categories/202505868-Ticket-Delivery"),
                    ("Event Changes", SEATGEEK_HELP + "/categories/202505888-Event-Changes"),
                ],
            ),
        ],
    },
    "support.seatgeek.com/hc/en-us/categories/202505828-Buying-Tickets": {
        "title": "Buying Tickets – SeatGeek Help Center",
        "blocks": [
            ("nav", [("Help Center", SEATGEEK_HELP)]),
            ("h1", "Buying Tickets"),
            (
                "links",
                [
                    ("How do I buy tickets?", SEATGEEK_HELP + "/articles/1-How-do-I-buy-tickets"),
                    ("What is Deal Score?", SEATGEEK_HELP + "/articles/2-Deal-Score"),
                    ("Payment methods", SEATGEEK_HELP + "/articles/3-Payment-methods"),
                ],
            ),
        ],
    },
    "support.seatgeek.com/hc/en-us/categories/202505848-Selling-Tickets": {
        "title": "Selling Tickets – SeatGeek Help Center",
        "blocks": [
            ("nav", [("Help Center", SEATGEEK_HELP)]),
            ("h1", "Selling Tickets"),
            ("p", "How to list, price and transfer tickets you want to sell."),
        ],
    },
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
    "example.com/": {
        "title": "Example Domain",
        "blocks": [
            ("h1", "Example Domain"),
            ("p", "This domain is for use in illustrative examples in documents."),
            ("links", [("More information...", "https://www.iana.org/domains/example")]),
        ],
    },
}

Script = Callable[..., None]
SCRIPTS: dict[str, Script] = {}


def script(fn: Script) -> Script:
    SCRIPTS[fn.__name__] = fn
    return fn


@dataclass
class PageCtx:
    width: int
    theme: Theme
    now: dt.datetime
    desk: Any


@dataclass
class Page:
    title: str
    elements: list[Element]
    bg: str = ""
    initial: dict[str, Any] = field(default_factory=dict)


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
    parts = urlsplit(url)
    key = canonical(url)
    host = key.split("/", 1)[0]
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if url.startswith("chrome://"):
        name = url[len("chrome://") :].split("?")[0].rstrip("/")
        builder = CHROME_PAGES.get(name, _chrome_unknown)
        return builder(ctx, query)
    for prefix, builder in DYNAMIC:
        if key.startswith(prefix):
            return builder(ctx, key, query)
    spec = STATIC_PAGES.get(key) or STATIC_PAGES.get(key.rstrip("/")) or STATIC_PAGES.get(key + "/")
    if spec is not None:
        return blocks_page(ctx, spec["title"], spec["blocks"], spec.get("bg", ""))
    if host.endswith("example.com"):
        return _generic(ctx, host, key, query)
    if host in GENERIC_SITES:
        return _generic(ctx, host, key, query)
    return blocks_page(
        ctx,
        f"{host} can't be reached",
        [
            ("h1", "This site can't be reached"),
            ("p", f"{host or url}'s server IP address could not be found."),
            ("p", "Try checking the connection or the address."),
        ],
    )


def blocks_page(ctx: PageCtx, title: str, blocks: list[Block], bg: str = "") -> Page:
    f = Flow(ctx.width, ctx.theme)
    _blocks(f, blocks)
    return Page(title, f.elements, bg)


def _blocks(f: Flow, blocks: list[Block]) -> None:
    t = f.theme
    for block in blocks:
        kind = block[0]
        if kind == "nav":
            items = block[1]
            x = f.margin
            for label, href in items:
                from envs.minidesk.widgets import text_width

                w = text_width(label, t.font_size) + 2
                if x + w > f.width - f.margin:
                    f.y += t.row
                    x = f.margin
                f.elements.append(
                    Element(
                        "link",
                        id=f._id("nav"),
                        text=label,
                        href=href,
                        rect=[x, f.y, x + w, f.y + t.row],
                    )
                )
                x += w + 3 * t.pad
            f.y += t.row + t.pad
            f.add("hr", h=t.pad)
        elif kind == "h1":
            f.add("heading", h=t.font_size + 8, text=block[1])
        elif kind == "p":
            f.text_block(block[1])
        elif kind == "links":
            for label, href in block[1]:
                from envs.minidesk.widgets import text_width

                f.add(
                    "link",
                    h=t.font_size + 6,
                    text=label,
                    href=href,
                    w=min(f.width - 2 * f.margin, text_width(label, t.font_size) + 2),
                )
        elif kind == "cls":
            f.add("text", h=t.font_size + 6, text=block[2], cls=block[1])
        elif kind == "image":
            f.add("image", h=t.row * 3, text=block[1], color=block[2])
        else:
            raise ValueError(f"unknown page block {kind!r}")


# ---------------------------------------------------------------- generic pages
GENERIC_SITES = {
    "youtube.com": "YouTube",
    "nytimes.com": "The New York Times",
    "bbc.co.uk": "BBC",
    "cnn.com": "CNN",
    "nationalgeographic.com": "National Geographic",
    "weather.com": "Weather",
    "iana.org": "IANA",
}


def _generic(ctx: PageCtx, host: str, key: str, query: dict[str, str]) -> Page:
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
        spec = STATIC_PAGES["example.com/"]
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


# ---------------------------------------------------------------- apple compare
def _apple_compare(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    models = [m for m in query.get("modelList", "").split(",") if m in dict(APPLE_MODELS)]
    models = (models + APPLE_DEFAULT_MODELS)[:3] if len(models) < 3 else models[:3]
    f = Flow(ctx.width, ctx.theme)
    _blocks(
        f,
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
    specs = {
        "pro": ("A17 Pro chip", "Titanium design"),
        "15": ("A16 Bionic chip", "Aluminum design"),
        "14": ("A15 Bionic chip", "Aluminum design"),
        "13": ("A15 Bionic chip", "Stainless steel or aluminum"),
        "se": ("A15 Bionic chip", "Home button with Touch ID"),
    }
    for line in range(2):
        items = []
        for m in models:
            tag = "pro" if m.startswith("iphone-15-pro") else m.split("-")[1]
            items.append(("text", None, {"text": specs.get(tag, specs["15"])[line]}))
        f.row(items)
    return Page(
        "iPhone - Compare Models - Apple",
        f.elements,
        initial={f"model{i}": m for i, m in enumerate(models)},
    )


@script
def apple_compare(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    models = [doc.values.get(f"model{i}") for i in range(3)]
    browser.replace_url(tab, "https://www.apple.com/iphone/compare/?modelList=" + ",".join(models))


# ---------------------------------------------------------------- ryanair
def _ryanair_home(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    _blocks(
        f,
        [
            (
                "nav",
                [
                    ("Plan", "https://www.ryanair.com/gb/en/plan-trip"),
                    ("Help", "https://www.ryanair.com/gb/en/useful-info/help-centre"),
                    ("Log in", "https://www.ryanair.com/gb/en/login"),
                ],
            )
        ],
    )
    f.add("heading", h=t.font_size + 8, text="Where to next?")
    f.row(
        [
            ("radio", None, {"name": "trip", "value": "return", "text": "Return trip"}),
            ("radio", None, {"name": "trip", "value": "oneway", "text": "One way"}),
        ]
    )
    airports = [[c, f"{n} ({c})"] for c, n in RYANAIR_AIRPORTS]
    f.row(
        [
            ("text", 40, {"text": "From"}),
            ("select", None, {"name": "origin", "options": airports, "placeholder": "Departure"}),
            ("text", 24, {"text": "To"}),
            (
                "select",
                None,
                {"name": "destination", "options": airports, "placeholder": "Destination"},
            ),
        ]
    )
    f.row(
        [
            ("text", 40, {"text": "Depart"}),
            ("date", None, {"name": "dateOut", "placeholder": "Choose date"}),
            ("text", 40, {"text": "Return", "show_if": ["trip", "return"]}),
            (
                "date",
                None,
                {"name": "dateIn", "placeholder": "Choose date", "show_if": ["trip", "return"]},
            ),
        ]
    )
    f.row(
        [
            ("text", 56, {"text": "Adults"}),
            ("counter", 3 * t.row, {"name": "adults", "min": 1, "max": 9, "value": 1}),
            ("text", 48, {"text": "Teens"}),
            ("counter", 3 * t.row, {"name": "teens", "min": 0, "max": 9, "value": 0}),
        ]
    )
    f.row(
        [
            ("text", 56, {"text": "Children"}),
            ("counter", 3 * t.row, {"name": "children", "min": 0, "max": 9, "value": 0}),
            ("button", 80, {"text": "Search", "action": "ryanair_search", "color": "#f1c933"}),
        ]
    )
    return Page(
        "Official Ryanair website | Cheap flights", f.elements, "#f4f6fb", {"trip": "return"}
    )


@script
def ryanair_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    v = doc.values
    if not (v.get("origin") and v.get("destination") and v.get("dateOut")):
        doc.extra["error"] = "Please choose airports and a date"
        return
    one_way = v.get("trip") == "oneway"
    params = {
        "adults": v["adults"],
        "teens": v["teens"],
        "children": v["children"],
        "infants": 0,
        "dateOut": v["dateOut"],
        "dateIn": "" if one_way else (v.get("dateIn") or ""),
        "isConnectedFlight": "false",
        "isReturn": "false" if one_way else "true",
        "discount": 0,
        "promoCode": "",
        "originIata": v["origin"],
        "destinationIata": v["destination"],
        "tpAdults": v["adults"],
        "tpTeens": v["teens"],
        "tpChildren": v["children"],
        "tpInfants": 0,
        "tpStartDate": v["dateOut"],
        "tpEndDate": "" if one_way else (v.get("dateIn") or ""),
        "tpDiscount": 0,
        "tpPromoCode": "",
        "tpOriginIata": v["origin"],
        "tpDestinationIata": v["destination"],
    }
    browser.navigate(tab, "https://www.ryanair.com/gb/en/trip/flights/select?" + urlencode(params))


def _ryanair_select(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    names = dict(RYANAIR_AIRPORTS)
    o, d = query.get("originIata", "?"), query.get("destinationIata", "?")
    date = query.get("dateOut", "")
    blocks = [
        ("nav", [("Ryanair", "https://www.ryanair.com/gb/en")]),
        ("h1", f"{names.get(o, o)} to {names.get(d, d)}"),
        ("p", f"Departing {date}, {query.get('adults', '1')} adult(s)"),
        (
            "links",
            [
                (
                    f"FR {100 + i * 37}  {6 + i * 4:02d}:15  EUR {29 + i * 20}.99",
                    "https://www.ryanair.com/gb/en/trip/flights/select#" + str(i),
                )
                for i in range(3)
            ],
        ),
    ]
    return blocks_page(ctx, "Ryanair | Select flights", blocks)


# ---------------------------------------------------------------- delta
def _delta_home(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    _blocks(
        f,
        [
            (
                "nav",
                [
                    ("Delta", "https://www.delta.com/"),
                    ("Deals", "https://www.delta.com/deals"),
                    ("SkyMiles", "https://www.delta.com/skymiles"),
                ],
            )
        ],
    )
    f.add(
        "tabs",
        name="section",
        options=[
            ["book", "Book"],
            ["checkin", "Check In"],
            ["trips", "My Trips"],
            ["status", "Flight Status"],
        ],
    )
    today = ctx.now.date()
    days = [(today + dt.timedelta(days=d)) for d in (-1, 0, 1)]
    dates = [
        [d.isoformat(), f"{w}, {DAY_ABBR[d.weekday()]} {MONTH_ABBR[d.month]} {d.day}"]
        for d, w in zip(days, ("Yesterday", "Today", "Tomorrow"))
    ]
    status = ["section", "status"]
    f.row(
        [
            ("text", 40, {"text": "From", "show_if": status}),
            (
                "select",
                None,
                {
                    "name": "from",
                    "options": [list(a) for a in DELTA_AIRPORTS],
                    "show_if": status,
                    "placeholder": "Departure city",
                },
            ),
            ("text", 24, {"text": "To", "show_if": status}),
            (
                "select",
                None,
                {
                    "name": "to",
                    "options": [list(a) for a in DELTA_AIRPORTS],
                    "show_if": status,
                    "placeholder": "Arrival city",
                },
            ),
        ]
    )
    f.row(
        [
            ("text", 40, {"text": "Date", "show_if": status}),
            ("select", None, {"name": "date", "options": dates, "show_if": status}),
            (
                "button",
                80,
                {"text": "Submit", "action": "delta_status", "show_if": status, "color": "#c01933"},
            ),
        ]
    )
    book = ["section", "book"]
    y = f.y
    f.y = y - 2 * (t.row + t.pad)
    f.row([("text", None, {"text": "Book a trip: choose where you want to go.", "show_if": book})])
    f.row(
        [
            (
                "button",
                120,
                {
                    "text": "Search flights",
                    "show_if": book,
                    "action": "set:section=book",
                    "color": "#c01933",
                },
            )
        ]
    )
    f.y = max(f.y, y)
    f.text_block(
        "Travel with confidence: more legroom, free messaging and more on every Delta flight."
    )
    return Page(
        "Delta Air Lines | Flights & Plane Tickets",
        f.elements,
        "",
        {"section": "book", "date": today.isoformat()},
    )


@script
def delta_status(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    v = doc.values
    if not (v.get("from") and v.get("to")):
        return
    q = urlencode({"from": v["from"], "to": v["to"], "date": v["date"]})
    browser.navigate(tab, "https://www.delta.com/flightstatus/search?" + q)


def _delta_results(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    try:
        date = dt.date.fromisoformat(query.get("date", ""))
    except ValueError:
        date = ctx.now.date()
    when = f"{DAY_ABBR[date.weekday()]}, {MONTH_ABBR[date.month]} {date.day}, {date.year}"
    blocks = [
        ("nav", [("Delta", "https://www.delta.com/"), ("Flight Status", "https://www.delta.com/")]),
        ("h1", "Flight Status"),
        ("cls", "search-segment-cities__city", query.get("from", "")),
        ("cls", "search-segment-cities__city", query.get("to", "")),
        ("cls", "search-date", when),
        (
            "links",
            [
                (
                    f"DL {1200 + i * 111}  departs {7 + 3 * i}:05  On time",
                    "https://www.delta.com/flightstatus/details#" + str(i),
                )
                for i in range(3)
            ],
        ),
    ]
    return blocks_page(ctx, "Flight Status : Delta Air Lines", blocks)


# ---------------------------------------------------------------- search engine
def _google(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
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


# ---------------------------------------------------------------- procedural link sites
LINK_HOST = "links.minidesk.test"
_ADJ = (
    "Amber",
    "Brisk",
    "Calm",
    "Dusty",
    "Eager",
    "Fuzzy",
    "Golden",
    "Hidden",
    "Ivory",
    "Jolly",
    "Kind",
    "Lunar",
    "Misty",
    "Noble",
    "Olive",
    "Proud",
    "Quiet",
    "Rapid",
    "Silver",
    "Tidy",
)
_NOUN = (
    "Otter",
    "Harbor",
    "Meadow",
    "Lantern",
    "Falcon",
    "Canyon",
    "Willow",
    "Comet",
    "Garden",
    "Bridge",
    "Island",
    "Forest",
    "Castle",
    "Valley",
    "Beacon",
    "Orchard",
    "River",
    "Summit",
    "Prairie",
    "Glacier",
)


def link_site(seed: int, depth: int, fanout: int) -> dict[str, Any]:
    """A deterministic tree of pages: node ids are paths ("", "0", "0.2", ...), titles unique."""
    rng = random.Random(f"links-{seed}-{depth}-{fanout}")
    names = [f"{a} {n}" for a in _ADJ for n in _NOUN]
    rng.shuffle(names)
    nodes: dict[str, str] = {}
    frontier = [""]
    it = iter(names)
    nodes[""] = "Home"
    for _ in range(depth):
        nxt = []
        for node in frontier:
            for i in range(fanout):
                child = f"{node}.{i}" if node else str(i)
                nodes[child] = next(it)
                nxt.append(child)
        frontier = nxt
    return nodes


def link_url(level_key: str, seed: int, node: str) -> str:
    return f"https://{LINK_HOST}/{level_key}/{seed}/{node or 'home'}"


def _links(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    parts = key.split("/")[1:]
    try:
        level_key, seed, node = parts[0], int(parts[1]), parts[2]
        depth, fanout = (int(v) for v in level_key.split("x"))
    except (IndexError, ValueError):
        return blocks_page(ctx, "Not found", [("h1", "404 Not found")])
    node = "" if node == "home" else node
    nodes = link_site(seed, depth, fanout)
    if node not in nodes:
        return blocks_page(ctx, "Not found", [("h1", "404 Not found")])
    children = [
        (nodes[c], link_url(level_key, seed, c))
        for c in nodes
        if c.rpartition(".")[0] == node
        and c != node
        and (c.count(".") == (node.count(".") + 1 if node else 0))
    ]
    blocks: list[Block] = [("h1", nodes[node])]
    if node:
        parent = node.rpartition(".")[0]
        blocks.append(
            (
                "nav",
                [
                    ("Home", link_url(level_key, seed, "")),
                    ("Up", link_url(level_key, seed, parent)),
                ],
            )
        )
    blocks.append(("p", f"You are on the page {nodes[node]}."))
    if children:
        blocks.append(("links", children))
    return blocks_page(ctx, nodes[node], blocks)


# ---------------------------------------------------------------- chrome:// pages
def _newtab(ctx: PageCtx, query: dict[str, str]) -> Page:
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.gap(t.row)
    f.add("heading", h=t.font_size + 10, text="Google", x=ctx.width // 2 - 30, w=80)
    f.add(
        "input",
        name="q",
        placeholder="Search Google or type a URL",
        action="google_search",
        x=ctx.width // 6,
        w=ctx.width * 2 // 3,
    )
    f.row(
        [
            ("link", None, {"text": "YouTube", "href": "https://www.youtube.com/"}),
            ("link", None, {"text": "Apple", "href": "https://www.apple.com/"}),
            ("link", None, {"text": "SeatGeek", "href": "https://seatgeek.com/"}),
        ]
    )
    return Page("New Tab", f.elements)


@script
def google_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    q = doc.values.get("q", "")
    from envs.minidesk.apps.browser import normalize_typed_url

    browser.navigate(tab, normalize_typed_url(q))


def _history(ctx: PageCtx, query: dict[str, str]) -> Page:
    desk = ctx.desk
    q = query.get("q", "").lower()
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="History")
    f.row(
        [
            (
                "input",
                None,
                {
                    "name": "q",
                    "placeholder": "Search history",
                    "action": "history_search",
                    "value": query.get("q", ""),
                },
            ),
            ("button", 70, {"text": "Search", "action": "history_search"}),
        ]
    )
    f.add(
        "link",
        h=t.font_size + 6,
        text="Clear browsing data",
        w=140,
        href="chrome://settings/clearBrowserData",
    )
    entries = [
        (i, e)
        for i, e in enumerate(desk.history)
        if not q or q in e.url.lower() or q in e.title.lower()
    ]
    entries.sort(key=lambda ie: -ie[1].visit_time)
    f.row(
        [
            (
                "checkbox",
                120,
                {"name": "_all", "text": "Select all", "on_change": "history_select_all"},
            ),
            ("button", 110, {"text": "Delete selected", "action": "history_delete"}),
            ("text", None, {"text": f"{len(entries)} items"}),
        ]
    )
    for i, entry in entries:
        when = dt.datetime.fromtimestamp(entry.visit_time).strftime("%H:%M")
        host = urlsplit(entry.url).netloc
        f.add("checkbox", h=t.font_size + 7, name=f"sel{i}", text=f"{when}  {entry.title}  {host}")
    return Page("History", f.elements)


@script
def history_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    q = doc.values.get("q", "")
    browser.navigate(tab, "chrome://history/" + (("?" + urlencode({"q": q})) if q else ""))


@script
def history_select_all(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    on = bool(doc.values.get("_all"))
    for e in doc.elements:
        if e.kind == "checkbox" and e.name.startswith("sel"):
            doc.values[e.name] = on


@script
def history_delete(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    chosen = {int(name[3:]) for name, v in doc.values.items() if name.startswith("sel") and v}
    desk = browser.desk
    desk.history = [e for i, e in enumerate(desk.history) if i not in chosen]
    for name in list(doc.values):
        if name.startswith("sel") or name == "_all":
            del doc.values[name]
    tab.refresh(keep_state=True)


CLEAR_RANGES = [
    ["hour", "Last hour"],
    ["day", "Last 24 hours"],
    ["week", "Last 7 days"],
    ["month", "Last 4 weeks"],
    ["all", "All time"],
]
_RANGE_S = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 28 * 86400, "all": float("inf")}


def _clear_data(ctx: PageCtx, query: dict[str, str]) -> Page:
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="Clear browsing data")
    f.row(
        [
            ("text", 80, {"text": "Time range"}),
            ("select", None, {"name": "range", "options": CLEAR_RANGES}),
        ]
    )
    f.add("checkbox", name="history", text="Browsing history", value=True)
    f.add("checkbox", name="cookies", text="Cookies and other site data", value=True)
    f.add("checkbox", name="cache", text="Cached images and files", value=True)
    f.row(
        [
            ("button", 80, {"text": "Cancel", "action": "clear_cancel"}),
            ("button", 90, {"text": "Clear data", "action": "clear_data", "color": "#1a73e8"}),
        ]
    )
    return Page("Settings - Clear browsing data", f.elements, initial={"range": "hour"})


@script
def clear_data(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    desk = browser.desk
    if doc.values.get("history"):
        horizon = desk.now.timestamp() - _RANGE_S[doc.values.get("range") or "hour"]
        desk.history = [e for e in desk.history if e.visit_time < horizon]
    browser.navigate(tab, "chrome://settings/")


@script
def clear_cancel(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    browser.navigate(tab, "chrome://settings/")


def _settings(ctx: PageCtx, query: dict[str, str]) -> Page:
    return blocks_page(
        ctx,
        "Settings",
        [
            ("h1", "Settings"),
            (
                "links",
                [
                    ("Clear browsing data", "chrome://settings/clearBrowserData"),
                    ("History", "chrome://history/"),
                ],
            ),
        ],
    )


def _chrome_unknown(ctx: PageCtx, query: dict[str, str]) -> Page:
    return blocks_page(ctx, "Chrome", [("h1", "This page is not available")])


CHROME_PAGES: dict[str, Callable[[PageCtx, dict[str, str]], Page]] = {
    "newtab": _newtab,
    "history": _history,
    "settings/clearBrowserData": _clear_data,
    "settings": _settings,
}
DYNAMIC: list[tuple[str, Callable[[PageCtx, str, dict[str, str]], Page]]] = [
    ("apple.com/iphone/compare", _apple_compare),
    ("ryanair.com/gb/en/trip/flights/select", _ryanair_select),
    ("ryanair.com/gb/en", _ryanair_home),
    ("delta.com/flightstatus/search", _delta_results),
    ("google.com/search", _google),
    (LINK_HOST + "/", _links),
]
DYNAMIC.append(
    (
        "delta.com/",
        lambda ctx, key, q: (
            _delta_home(ctx, key, q)
            if key == "delta.com/"
            else _generic(ctx, "example.com", key, q)
        ),
    )
)


def run_script(name: str, browser: Any, tab: Any, doc: Any, el: Element) -> None:
    fn = SCRIPTS.get(name)
    if fn is not None:
        fn(browser, tab, doc, el)
