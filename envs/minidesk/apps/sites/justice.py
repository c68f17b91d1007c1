"""justice.gov: the forms index, filtered by component (Civil Division is component 431).

OSWorld task 9f935cce ("Browse list of Civil Division forms") is scored by
``is_expected_url_pattern_match`` on ``active_url_from_accessTree``: the URL holds
``forms?title=&field_component_target_id=431``.
"""

from __future__ import annotations

from envs.minidesk.apps.sites.sitemap import site_pages

ROOT = "https://www.justice.gov"
NAV = [("About", f"{ROOT}/about"), ("News", f"{ROOT}/news"), ("Resources", f"{ROOT}/resources"), ("Forms", f"{ROOT}/forms")]  # fmt: skip
COMPONENTS = [("Antitrust Division", 421), ("Civil Division", 431), ("Civil Rights Division", 436), ("Criminal Division", 446), ("Tax Division", 606)]  # fmt: skip

PAGES = site_pages(
    "justice.gov",
    NAV,
    {
        "/": ("United States Department of Justice", [
            ("h1", "U.S. Department of Justice"),
            ("p", "News, resources and forms."),
        ]),
        "/forms": ("Forms | United States Department of Justice", [
            ("h1", "Forms"),
            ("p", "Filter the forms by component:"),
            ("links", [(name, f"{ROOT}/forms?title=&field_component_target_id={cid}") for name, cid in COMPONENTS]),
        ]),
    },
)  # fmt: skip
