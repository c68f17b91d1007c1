"""Delta: the home page's Flight Status form and its results page.

OSWorld task fc6d8143 ("Find the status of tomorrow flights from New York airports to Columbus")
is scored by ``check_direct_json_object`` on the ``active_tab_html_parse`` getter against
``rule_relativeTime``: the results page's elements of class ``search-segment-cities__city``
(from, to) and ``search-date`` must hold the airports and the relative date, as delta.com's
results page shows them.

OSWorld task 6c4c23a1 ("Find flights from Seattle to New York on 5th next month and only show
those that can be purchased with miles") is scored the same way on the Book tab's results page
(``/flight-search/search-results``): the cities, the departure date and the selected fare tab
(class ``price-in-tabs__nav--selected``: "Money" or "Miles"; "Shop with Miles" on the form, or
the tab on the results page, picks it).
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
BOOK_URL = "https://www.delta.com/flight-search/search-results"
FARE_TAB_CLASS = "price-in-tabs__nav"
FARE_TAB_SELECTED = FARE_TAB_CLASS + "--selected"
"""Class of the results page's fare tabs, and of the selected one."""
FARE_TABS = [("false", "Money"), ("true", "Miles")]
"""``shopWithMiles`` value -> fare tab label."""
DELTA_AIRPORTS = [
    ("ATL", "ATL - Atlanta, GA"), ("BOS", "BOS - Boston, MA"), ("CLE", "CLE - Cleveland, OH"),
    ("CMH", "CMH - Columbus, OH"), ("CSG", "CSG - Columbus, GA"), ("CVG", "CVG - Cincinnati, OH"),
    ("EWR", "EWR - Newark, NJ"), ("JFK", "JFK - New York-Kennedy, NY"),
    ("LGA", "LGA - New York-LaGuardia, NY"), ("NYC", "NYC - New York City Area Airports, NY"),
    ("ORD", "ORD - Chicago-O'Hare, IL"), ("PDX", "PDX - Portland, OR"),
    ("SEA", "SEA - Seattle, WA"), ("SFO", "SFO - San Francisco, CA"),
]  # fmt: skip


def home_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``delta.com``: Book / Check In / My Trips / Flight Status tabs. The Book tab's trip type,
    airports, dates and "Shop with Miles" search flights; the Flight Status tab's From, To and
    Date pickers submit to the status page."""
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
    f.row(
        [
            (
                "radio",
                None,
                {"name": "trip", "value": "round", "text": "Round Trip", "show_if": book},
            ),
            (
                "radio",
                None,
                {"name": "trip", "value": "oneway", "text": "One Way", "show_if": book},
            ),
        ]
    )
    f.row(route_row(("origin", "destination"), DELTA_AIRPORTS, ("From", "To"), show_if=book))
    f.row(
        [
            ("text", 40, {"text": "Depart", "show_if": book}),
            ("date", None, {"name": "depart", "placeholder": "Depart date", "show_if": book}),
            ("text", 48, {"text": "Return", "show_if": book}),
            ("date", None, {"name": "return", "placeholder": "Return date", "show_if": book}),
        ]
    )
    f.row(
        [
            ("checkbox", None, {"name": "miles", "text": "Shop with Miles", "show_if": book}),
            ("checkbox", None, {"name": "refundable", "text": "Refundable Fares", "show_if": book}),
            (
                "button",
                120,
                {
                    "text": "Search flights",
                    "show_if": book,
                    "action": "delta_book",
                    "color": "#c01933",
                },
            ),
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
        {"section": "book", "date": today.isoformat(), "trip": "round"},
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


@script
def delta_book(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """The Book form's Search: with both airports and the dates the trip type needs, open the
    results URL (``tripType``, ``from``, ``to``, ``departureDate``, ``returnDate``,
    ``shopWithMiles``)."""
    v = doc.values
    one_way = v.get("trip") == "oneway"
    if not (v.get("origin") and v.get("destination") and v.get("depart")):
        return
    if not one_way and not v.get("return"):
        return
    params = {
        "tripType": "ONE_WAY" if one_way else "ROUND_TRIP",
        "from": v["origin"],
        "to": v["destination"],
        "departureDate": v["depart"],
        "returnDate": "" if one_way else v["return"],
        "paxCount": 1,
        "shopWithMiles": "true" if v.get("miles") else "false",
        "refundableFlightsOnly": "true" if v.get("refundable") else "false",
    }
    browser.navigate(tab, f"{BOOK_URL}?" + urlencode(params))


def _long_date(date: dt.date) -> str:
    """``Sat, Dec 5, 2026``, as delta.com's results pages write a date."""
    return f"{DAY_OF_WEEK[date.weekday()]}, {MONTH[date.month]} {date.day}, {date.year}"


def _date(query: dict[str, str], key: str, ctx: PageCtx) -> dt.date:
    try:
        return dt.date.fromisoformat(query.get(key, ""))
    except ValueError:
        return ctx.now.date()


def book_results_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``delta.com/flight-search/search-results?...``: the cities and the departure date (the
    classed lines ``active_tab_html_parse`` reads), the Money / Miles fare tabs (the selected one
    of class ``price-in-tabs__nav--selected``, the other a link to the same search with the other
    ``shopWithMiles``) and three flights priced in the selected fare."""
    miles = query.get("shopWithMiles") == "true"
    f = page_flow(ctx, [("nav", [("Delta", HOME_URL), ("Book", HOME_URL)])])
    for code in (query.get("from", ""), query.get("to", "")):
        f.add("text", text=code, cls="search-segment-cities__city")
    f.add("text", text=_long_date(_date(query, "departureDate", ctx)), cls="search-date")
    tabs = []
    for value, label in FARE_TABS:
        if (value == "true") == miles:
            tabs.append(
                ("text", 80, {"text": label, "cls": f"{FARE_TAB_CLASS} {FARE_TAB_SELECTED}"})
            )
        else:
            href = f"{BOOK_URL}?" + urlencode({**query, "shopWithMiles": value})
            tabs.append(("link", 80, {"text": label, "href": href, "cls": FARE_TAB_CLASS}))
    f.row(tabs)
    for i in range(3):
        price = f"{18 + 7 * i},500 miles" if miles else f"${219 + 64 * i}"
        f.add(
            "link",
            text=f"DL {400 + 37 * i}  departs {6 + 4 * i}:40  nonstop  {price}",
            href=f"{BOOK_URL}#flight{i}",
        )
    return Page("Flight Results : Delta Air Lines", f.elements)


def results_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``delta.com/flightstatus/search?from=..&to=..&date=..``: the classed lines
    ``active_tab_html_parse`` reads (two ``search-segment-cities__city``, one ``search-date``
    as "Fri, May 17, 2024") and three flights."""
    when = _long_date(_date(query, "date", ctx))
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
