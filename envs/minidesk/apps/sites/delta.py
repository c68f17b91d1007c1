"""Delta: the home page's Flight Status form and its results page.

OSWorld task fc6d8143 ("Find the status of tomorrow flights from New York airports to Columbus")
is scored by ``check_direct_json_object`` on the ``active_tab_html_parse`` getter against
``rule_relativeTime``: the results page's elements of class ``search-segment-cities__city``
(from, to) and ``search-date`` must hold the airports and the relative date, as delta.com's
results page shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from envs.minidesk.apps.sites.flights import result_links, route_row
from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page, page_flow, script
from envs.minidesk.dates import DAY_OF_WEEK, MONTH
from envs.minidesk.document import Element

HOME_URL = "https://www.delta.com/"
SEARCH_URL = "https://www.delta.com/flightstatus/search"
DELTA_AIRPORTS = [
    ("ATL", "ATL - Atlanta, GA"), ("BOS", "BOS - Boston, MA"), ("CLE", "CLE - Cleveland, OH"),
    ("CMH", "CMH - Columbus, OH"), ("CSG", "CSG - Columbus, GA"), ("CVG", "CVG - Cincinnati, OH"),
    ("EWR", "EWR - Newark, NJ"), ("JFK", "JFK - New York-Kennedy, NY"),
    ("LGA", "LGA - New York-LaGuardia, NY"), ("NYC", "NYC - New York City Area Airports, NY"),
    ("ORD", "ORD - Chicago-O'Hare, IL"),
]  # fmt: skip


def home_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``delta.com``: Book / Check In / My Trips / Flight Status tabs; the Flight Status tab's
    From, To and Date pickers submit to the results page."""
    f = page_flow(
        ctx,
        [
            (
                "nav",
                [
                    ("Delta", HOME_URL),
                    ("Deals", "https://www.delta.com/deals"),
                    ("SkyMiles", "https://www.delta.com/skymiles"),
                ],
            )
        ],
    )
    t = ctx.theme
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
        [d.isoformat(), f"{w}, {DAY_OF_WEEK[d.weekday()]} {MONTH[d.month]} {d.day}"]
        for d, w in zip(days, ("Yesterday", "Today", "Tomorrow"))
    ]
    status = ["section", "status"]
    f.row(
        route_row(
            ("from", "to"), DELTA_AIRPORTS, ("Departure city", "Arrival city"), show_if=status
        )
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
    """The Flight Status form's Submit: with both airports chosen, open the results URL
    (``from``, ``to``, ``date``) whose page ``active_tab_html_parse`` reads."""
    v = doc.values
    if not (v.get("from") and v.get("to")):
        return
    q = urlencode({"from": v["from"], "to": v["to"], "date": v["date"]})
    browser.navigate(tab, f"{SEARCH_URL}?" + q)


def results_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``delta.com/flightstatus/search?from=..&to=..&date=..``: the classed lines
    ``active_tab_html_parse`` reads (two ``search-segment-cities__city``, one ``search-date``
    as "Fri, May 17, 2024") and three flights."""
    try:
        date = dt.date.fromisoformat(query.get("date", ""))
    except ValueError:
        date = ctx.now.date()
    when = f"{DAY_OF_WEEK[date.weekday()]}, {MONTH[date.month]} {date.day}, {date.year}"
    blocks = [
        ("nav", [("Delta", HOME_URL), ("Flight Status", HOME_URL)]),
        ("h1", "Flight Status"),
        ("cls", "search-segment-cities__city", query.get("from", "")),
        ("cls", "search-segment-cities__city", query.get("to", "")),
        ("cls", "search-date", when),
        result_links(
            [f"DL {1200 + i * 111}  departs {7 + 3 * i}:05  On time" for i in range(3)],
            "https://www.delta.com/flightstatus/details",
        ),
    ]
    return blocks_page(ctx, "Flight Status : Delta Air Lines", blocks)
