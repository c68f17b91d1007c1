"""flightaware.com and its community forum, where threads list their reply counts.

OSWorld task a96b564e ("Find discussions of community and open one with most replies") is
scored by ``is_expected_active_tab`` on ``active_tab_info``: the thread with the most replies,
``discussions.flightaware.com/t/the-banter-thread/4412``.
"""

from __future__ import annotations

from envs.minidesk.apps.sites.sitemap import site_pages

ROOT = "https://www.flightaware.com"
FORUM = "https://discussions.flightaware.com"
NAV = [("Live Flight Tracking", f"{ROOT}/live/"), ("Products", f"{ROOT}/commercial/"), ("ADS-B", f"{ROOT}/adsb/"), ("Community", f"{ROOT}/squawks/")]  # fmt: skip
THREADS = [("Flight tracking not updating", "flight-tracking-not-updating/81234", 41), ("The Banter Thread", "the-banter-thread/4412", 6811), ("PiAware feeder setup help", "piaware-feeder-setup-help/15029", 388), ("Photos of the week", "photos-of-the-week/30961", 1204)]  # fmt: skip

PAGES = {
    **site_pages(
        "flightaware.com",
        NAV,
        {
            "/": ("FlightAware - Flight Tracker", [
                ("h1", "FlightAware"),
                ("p", "Track flights worldwide in real time."),
            ]),
            "/squawks/": ("Community - FlightAware", [
                ("h1", "Community"),
                ("links", [("Squawks: aviation photos", f"{ROOT}/photos/"), ("Discussions", f"{FORUM}/")]),
            ]),
        },
    ),
    **site_pages(
        "discussions.flightaware.com",
        [("FlightAware", f"{ROOT}/"), ("Latest", f"{FORUM}/latest")],
        {
            "/": ("FlightAware Discussions", [
                ("h1", "FlightAware Discussions"),
                ("p", "Topics, with their number of replies:"),
                ("links", [(f"{title} ({replies:,} replies)", f"{FORUM}/t/{slug}") for title, slug, replies in THREADS]),
            ]),
            **{
                f"/t/{slug}": (f"{title} - FlightAware Discussions", [("h1", title), ("p", f"{replies:,} replies")])
                for title, slug, replies in THREADS
            },
        },
    ),
}  # fmt: skip
