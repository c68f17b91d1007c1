"""Ryanair: the flight search form and its results page.

OSWorld task f79439ad ("Search for a one way flight from Dublin to Vienna on 10th next month")
is scored by ``check_direct_json_object`` on the ``active_tab_url_parse`` getter against
``rule_relativeTime``: the query of the results URL (``trip/flights/select?...``) must hold the
airports, ``isReturn=false`` and ``tpStartDate`` of the relative date, as ryanair.com's search
puts them there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from envs.minidesk.apps.sites.flights import result_links, route_row
from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page, page_flow, script
from envs.minidesk.document import Element

HOME_URL = "https://www.ryanair.com/gb/en"
SELECT_URL = "https://www.ryanair.com/gb/en/trip/flights/select"
RYANAIR_AIRPORTS = [
    ("BER", "Berlin Brandenburg"), ("BVA", "Paris Beauvais"), ("CIA", "Rome Ciampino"),
    ("DUB", "Dublin"), ("STN", "London Stansted"), ("VIE", "Vienna"), ("VLC", "Valencia"),
    ("WMI", "Warsaw Modlin"),
]  # fmt: skip


def home_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``ryanair.com/gb/en``: trip type, airports, dates and passenger counters; Search opens
    the results URL that ``active_tab_url_parse`` reads."""
    f = page_flow(
        ctx,
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
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="Where to next?")
    f.row(
        [
            ("radio", None, {"name": "trip", "value": "return", "text": "Return trip"}),
            ("radio", None, {"name": "trip", "value": "oneway", "text": "One way"}),
        ]
    )
    airports = [[c, f"{n} ({c})"] for c, n in RYANAIR_AIRPORTS]
    f.row(route_row(("origin", "destination"), airports, ("Departure", "Destination")))
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
    """The search form's Search: with airports and a date chosen, open the results URL with
    ryanair.com's query (``originIata``, ``isReturn``, ``tpStartDate``, ...) that
    ``active_tab_url_parse`` reads; else show an error."""
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
    browser.navigate(tab, f"{SELECT_URL}?" + urlencode(params))


def select_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``ryanair.com/gb/en/trip/flights/select?...``: the route and date of the query and three
    flights; its URL is what the task is scored on."""
    names = dict(RYANAIR_AIRPORTS)
    o, d = query.get("originIata", "?"), query.get("destinationIata", "?")
    date = query.get("dateOut", "")
    blocks = [
        ("nav", [("Ryanair", HOME_URL)]),
        ("h1", f"{names.get(o, o)} to {names.get(d, d)}"),
        ("p", f"Departing {date}, {query.get('adults', '1')} adult(s)"),
        result_links(
            [f"FR {100 + i * 37}  {6 + i * 4:02d}:15  EUR {29 + i * 20}.99" for i in range(3)],
            SELECT_URL,
        ),
    ]
    return blocks_page(ctx, "Ryanair | Select flights", blocks)
