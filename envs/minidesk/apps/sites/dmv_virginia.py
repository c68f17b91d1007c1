"""dmv.virginia.gov: licenses and IDs, down to the driver's license eligibility requirements.

OSWorld task a728a36e ("Find the Driver License Eligibility Requirements") is scored by
``is_expected_active_tab`` on ``active_url_from_accessTree``:
``/licenses-ids/license/applying/eligibility``.
"""

from __future__ import annotations

from envs.minidesk.apps.sites.sitemap import article, menu, site_pages

ROOT = "https://www.dmv.virginia.gov"
LICENSE = f"{ROOT}/licenses-ids/license"
NAV = [("Licenses & IDs", f"{ROOT}/licenses-ids"), ("Vehicles", f"{ROOT}/vehicles"), ("Records", f"{ROOT}/records"), ("Safety", f"{ROOT}/safety")]  # fmt: skip

PAGES = site_pages(
    "dmv.virginia.gov",
    NAV,
    {
        "/": article("Virginia Department of Motor Vehicles", "Virginia DMV", "Online services, licenses, vehicle titles and registration."),
        "/licenses-ids": menu("Licenses & IDs", [("Driver's License", LICENSE), ("Learner's Permit", f"{ROOT}/licenses-ids/permit"), ("ID Cards", f"{ROOT}/licenses-ids/id-cards"), ("Commercial Driver's License", f"{ROOT}/licenses-ids/cdl")]),
        "/licenses-ids/license": menu("Driver's License", [("Applying for a License", f"{LICENSE}/applying"), ("Renewing a License", f"{LICENSE}/renewing"), ("Replacing a License", f"{LICENSE}/replacing")]),
        "/licenses-ids/license/applying": menu("Applying for a Driver's License", [("Eligibility Requirements", f"{LICENSE}/applying/eligibility"), ("Required Documents", f"{LICENSE}/applying/documents"), ("Exams", f"{LICENSE}/applying/exams")]),
        "/licenses-ids/license/applying/eligibility": article("Eligibility Requirements", "Driver's License Eligibility Requirements", "You must be a Virginia resident and at least 16 years and 3 months old."),
    },
)  # fmt: skip
