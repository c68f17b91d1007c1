"""nfl.com: scores by season and week, down to each season's Super Bowl.

OSWorld task f0b971a1 ("Show me the scores for the 2019 super bowl") is scored by
``is_expected_active_tab`` on ``active_url_from_accessTree``: ``/scores/2019/POST4`` (the 2019
season's fourth post-season week).
"""

from __future__ import annotations

from envs.minidesk.apps.sites.sitemap import site_pages

ROOT = "https://www.nfl.com"
NAV = [("News", f"{ROOT}/news/"), ("Scores", f"{ROOT}/scores/"), ("Schedules", f"{ROOT}/schedules/"), ("Standings", f"{ROOT}/standings/")]  # fmt: skip
SEASONS = range(2017, 2024)
WEEKS = [("Week 17", "REG17"), ("Wild Card", "POST1"), ("Divisional", "POST2"), ("Conference Championships", "POST3"), ("Super Bowl", "POST4")]  # fmt: skip

PAGES = site_pages(
    "nfl.com",
    NAV,
    {
        "/": ("NFL.com | Official Site of the National Football League", [
            ("h1", "NFL"),
            ("p", "Scores, news, schedules and standings."),
        ]),
        "/scores/": ("NFL Scores", [
            ("h1", "NFL Scores"),
            ("p", "Choose a season (a season's Super Bowl is played early the next year)."),
            ("nav", [(str(y), f"{ROOT}/scores/{y}/REG1") for y in SEASONS]),
        ]),
        **{
            f"/scores/{y}/REG1": (f"NFL {y} Week 1 Scores", [
                ("h1", f"{y} season scores"),
                ("links", [(f"{y} {name}", f"{ROOT}/scores/{y}/{code}") for name, code in WEEKS]),
            ])
            for y in SEASONS
        },
        **{
            f"/scores/{y}/{code}": (f"NFL {y} {name} Scores", [("h1", f"{y} season: {name}"), ("p", "Final scores.")])
            for y in SEASONS
            for name, code in WEEKS
        },
    },
)  # fmt: skip
