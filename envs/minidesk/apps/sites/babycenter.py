"""babycenter.com: the baby-names finder and a name's details page (with similar names).

OSWorld task 59155008 ("What are the similar names to the name carl") is scored by
``is_expected_active_tab`` on ``active_url_from_accessTree``: the details page of Carl,
``/baby-names/details/carl-853``.
"""

from __future__ import annotations

from envs.minidesk.apps.sites.sitemap import site_pages

ROOT = "https://www.babycenter.com"
NAV = [("Getting Pregnant", f"{ROOT}/getting-pregnant"), ("Pregnancy", f"{ROOT}/pregnancy"), ("Baby", f"{ROOT}/baby"), ("Child", f"{ROOT}/child"), ("Baby Names", f"{ROOT}/baby-names")]  # fmt: skip
C_NAMES = [("Calvin", 861), ("Cameron", 902), ("Carl", 853), ("Carla", 1417), ("Carlos", 854), ("Charles", 867)]  # fmt: skip

PAGES = site_pages(
    "babycenter.com",
    NAV,
    {
        "/child": ("Child development and parenting", [
            ("h1", "Child"),
            ("p", "Development, behavior and health for ages 1 to 8."),
        ]),
        "/baby-names": ("Baby Names Finder", [
            ("h1", "Baby Names Finder"),
            ("p", "Browse names by their first letter."),
            ("nav", [(c, f"{ROOT}/baby-names/starting-with/{c.lower()}") for c in "ABCDEFGH"]),
        ]),
        "/baby-names/starting-with/c": ("Baby names that start with C", [
            ("h1", "Baby names that start with C"),
            ("links", [(n, f"{ROOT}/baby-names/details/{n.lower()}-{i}") for n, i in C_NAMES]),
        ]),
        "/baby-names/details/carl-853": ("Carl - Baby Name Meaning, Origin and Popularity", [
            ("h1", "Carl"),
            ("p", "Origin: German. Meaning: free man."),
            ("p", "Similar names: Carlos, Charles, Karl, Carlo, Carlton."),
        ]),
    },
)  # fmt: skip
