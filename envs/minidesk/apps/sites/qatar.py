"""Qatar Airways: the home page's booking form and the booking site's flight list.

OSWorld task 82bc8d6a ("On next Monday, look up a flight from Mumbai to Stockholm") is scored by
``check_direct_json_object`` on the ``active_tab_url_parse`` getter against
``rule_relativeTime``: the query of the flight list URL
(``booking.qatarairways.com/nsp/views/showBooking.action?...``) must hold ``fromStation``,
``toStation`` (city codes: Stockholm is ``STO``, its Arlanda airport ``ARN`` is a decoy) and
``departing`` (``YYYY-MM-DD``), as qatarairways.com's search puts them there. The form's pickers
are named like the query keys.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from envs.minidesk.apps.sites.flights import result_links, route_row
from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page, page_flow, script
from envs.minidesk.document import Element

HOME_URL = "https://www.qatarairways.com/en-hk/homepage.html"
BOOKING_URL = "https://booking.qatarairways.com/nsp/views/showBooking.action"
QATAR_AIRPORTS = [
    ("ARN", "Stockholm Arlanda (ARN)"), ("BLR", "Bengaluru (BLR)"), ("BOM", "Mumbai (BOM)"),
    ("CPH", "Copenhagen (CPH)"), ("DEL", "Delhi (DEL)"), ("DOH", "Doha (DOH)"),
    ("HKG", "Hong Kong (HKG)"), ("LHR", "London Heathrow (LHR)"), ("OSL", "Oslo (OSL)"),
    ("STO", "Stockholm, all airports (STO)"),
]  # fmt: skip
SECTIONS = [("book", "Book"), ("manage", "Manage / Check in"), ("status", "Flight status")]
BOOK = ["section", "book"]
"""``show_if`` of the booking form (the Book tab)."""


def home_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``qatarairways.com/en-hk/homepage.html``: Book / Manage / Check in / Flight status tabs;
    the Book tab's trip type, airports, dates, passengers and cabin; Search flights opens the
    flight list URL that ``active_tab_url_parse`` reads."""
    nav = [
        ("Explore", "https://www.qatarairways.com/en-hk/destinations.html"),
        ("Privilege Club", "https://www.qatarairways.com/en-hk/Privilege-Club.html"),
        ("Help", "https://www.qatarairways.com/en-hk/help.html"),
    ]
    f = page_flow(ctx, [("nav", nav)])
    t = ctx.theme
    f.add("tabs", name="section", options=[list(tab) for tab in SECTIONS])
    f.row(
        [
            ("radio", None, {"name": "tripType", "value": "R", "text": "Return", "show_if": BOOK}),
            ("radio", None, {"name": "tripType", "value": "O", "text": "One way", "show_if": BOOK}),
        ]
    )
    f.row(route_row(("fromStation", "toStation"), QATAR_AIRPORTS, ("From", "To"), show_if=BOOK))
    f.row(
        [
            ("text", 70, {"text": "Departing", "show_if": BOOK}),
            ("date", None, {"name": "departing", "show_if": BOOK}),
            ("text", 70, {"text": "Returning", "show_if": ["tripType", "R"]}),
            ("date", None, {"name": "returning", "show_if": ["tripType", "R"]}),
        ]
    )
    f.row(
        [
            ("text", 70, {"text": "Adults", "show_if": BOOK}),
            ("counter", 3 * t.row, {"name": "adults", "min": 1, "max": 9, "value": 1,
                                    "show_if": BOOK}),
            ("text", 50, {"text": "Cabin", "show_if": BOOK}),
            ("select", None, {"name": "bookingClass", "show_if": BOOK,
                              "options": [["E", "Economy"], ["B", "Business"], ["F", "First"]]}),
            ("button", 120, {"text": "Search flights", "action": "qatar_search",
                             "color": "#8e2157", "show_if": BOOK}),
        ]
    )  # fmt: skip
    status = ["section", "status"]
    f.y -= 4 * (t.row + t.pad)
    f.row([("text", None, {"text": "Check the status of a flight by number.", "show_if": status})])
    f.row([("input", None, {"name": "flightNumber", "placeholder": "QR 0000", "show_if": status})])
    f.y += 2 * (t.row + t.pad)
    f.text_block("Fly to over 170 destinations with the World's Best Airline.")
    return Page(
        "Qatar Airways | Book Flights",
        f.elements,
        "#f3f1ee",
        {"section": "book", "tripType": "R", "bookingClass": "E"},
    )


@script
def qatar_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """Search flights: with two different airports and the dates the trip type needs, open
    the flight list with qatarairways.com's query; else show an error."""
    v = doc.values
    return_trip = v.get("tripType") == "R"
    ready = v.get("fromStation") and v.get("toStation") and v.get("departing")
    if not ready or v["fromStation"] == v["toStation"] or (return_trip and not v.get("returning")):
        doc.extra["error"] = "Please select your destination and travel dates"
        return
    params = {
        "widget": "QR",
        "searchType": "F",
        "addTaxToFare": "Y",
        "selLang": "en",
        "tripType": v["tripType"],
        "fromStation": v["fromStation"],
        "toStation": v["toStation"],
        "departing": v["departing"],
        "returning": (v.get("returning") or "") if return_trip else "",
        "bookingClass": v["bookingClass"],
        "adults": v["adults"],
        "children": 0,
        "infants": 0,
    }
    browser.navigate(tab, f"{BOOKING_URL}?" + urlencode(params))


def booking_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``booking.qatarairways.com/nsp/views/showBooking.action?...``: the route and date of the
    query and three flights; its URL is what the task is scored on."""
    names = dict(QATAR_AIRPORTS)
    o, d = query.get("fromStation", "?"), query.get("toStation", "?")
    blocks = [
        ("nav", [("Modify search", HOME_URL)]),
        ("h1", f"{names.get(o, o)} to {names.get(d, d)}"),
        ("p", f"Departing {query.get('departing', '')}, {query.get('adults', '1')} adult(s)"),
        result_links(
            [
                f"QR {550 + i * 7}  via Doha  {2 + i * 5:02d}:40  HKD {6200 + i * 850}"
                for i in range(3)
            ],
            BOOKING_URL,
        ),
    ]
    return blocks_page(ctx, "Qatar Airways | Select flights", blocks)


def qatar_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """Every www.qatarairways.com page: the home page, else an information page."""
    if key.endswith("/homepage.html") or key == "qatarairways.com/":
        return home_page(ctx, key, query)
    blocks = [
        ("nav", [("Qatar Airways", HOME_URL)]),
        ("h1", "Qatar Airways"),
        ("p", "This page has moved. Book your next journey from our home page."),
    ]
    return blocks_page(ctx, "Qatar Airways", blocks)
