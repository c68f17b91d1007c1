"""united.com: travel information, baggage and the baggage fee calculator.

OSWorld task c1fa57f3 ("Open the baggage fee calculator") is scored by
``is_expected_url_pattern_match`` on ``active_tab_info``: the URL holds ``baggage-calculator``.
"""

from __future__ import annotations

from envs.minidesk.apps.sites.sitemap import article, menu, site_pages

ROOT = "https://www.united.com/en/us"
NAV = [("Book", f"{ROOT}/book-flight"), ("My Trips", f"{ROOT}/manageres/mytrips"), ("Travel Info", f"{ROOT}/fly/travel.html"), ("MileagePlus", f"{ROOT}/fly/mileageplus.html")]  # fmt: skip

PAGES = site_pages(
    "united.com",
    NAV,
    {
        "/en/us": article("United Airlines - Airline Tickets, Travel Deals and Flights", "United Airlines", "Book flights, check in, and manage your trips."),
        "/en/us/fly/travel.html": menu("Travel information", [("Baggage", f"{ROOT}/fly/travel/baggage.html"), ("Check-in", f"{ROOT}/fly/travel/checkin.html"), ("Airport information", f"{ROOT}/fly/travel/airport.html")]),
        "/en/us/fly/travel/baggage.html": menu("Baggage", [("Carry-on bags", f"{ROOT}/fly/travel/baggage/carry-on-bags.html"), ("Checked bag fees", f"{ROOT}/fly/travel/baggage/checked-bags.html"), ("Baggage fee calculator", f"{ROOT}/baggage-calculator/any-flights")]),
        "/en/us/baggage-calculator/any-flights": article("Baggage fee calculator", "Baggage fee calculator", "Find out how much your bags will cost."),
    },
)  # fmt: skip
