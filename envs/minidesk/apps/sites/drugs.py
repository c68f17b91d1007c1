"""drugs.com: the drug index, a drug's page and its side effects, the natural products database.

OSWorld tasks: 0d8b7de3 ("Browse the natural products database", ``is_expected_active_tab`` on
``active_url_from_accessTree``: ``/npc/`` or ``/npp/``) and b070486d ("Show side effects of
Tamiflu", ``exact_match`` on ``url_dashPart``: the last URL part is ``tamiflu-side-effects.html``).
"""

from __future__ import annotations

from envs.minidesk.apps.sites.sitemap import site_pages

ROOT = "https://www.drugs.com"
NAV = [("Drugs A-Z", f"{ROOT}/drug_information.html"), ("Pill Identifier", f"{ROOT}/imprints.php"), ("Interaction Checker", f"{ROOT}/drug_interactions.html"), ("News", f"{ROOT}/news.html")]  # fmt: skip
DRUGS_T = ["Tacrolimus", "Tamiflu", "Tamoxifen", "Tamsulosin", "Tegretol", "Tramadol"]

PAGES = site_pages(
    "drugs.com",
    NAV,
    {
        "/": ("Drugs.com | Prescription Drug Information", [
            ("h1", "Know more. Be sure."),
            ("p", "Find drugs and conditions, check interactions, identify pills."),
            ("links", [("Browse drugs A-Z", f"{ROOT}/drug_information.html"), ("Natural Products Database", f"{ROOT}/npc/"), ("Side Effects", f"{ROOT}/sfx/"), ("Drug Classes", f"{ROOT}/drug-classes.html")]),
        ]),
        "/drug_information.html": ("Drugs A to Z", [
            ("h1", "Drugs A to Z"),
            ("p", "Browse drugs by the first letter of their name."),
            ("nav", [(c, f"{ROOT}/alpha/{c.lower()}.html") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]),
        ]),
        "/alpha/t.html": ("Drugs starting with T", [
            ("h1", "Drugs & Medications starting with T"),
            ("links", [(d, f"{ROOT}/{d.lower()}.html") for d in DRUGS_T]),
        ]),
        "/tamiflu.html": ("Tamiflu: Uses, Dosage & Side Effects", [
            ("h1", "Tamiflu"),
            ("p", "Generic name: oseltamivir. Tamiflu is an antiviral medicine used to treat flu."),
            ("links", [("Uses", f"{ROOT}/tamiflu.html#uses"), ("Dosage", f"{ROOT}/dosage/tamiflu.html"), ("Side Effects", f"{ROOT}/sfx/tamiflu-side-effects.html"), ("Interactions", f"{ROOT}/drug-interactions/tamiflu.html")]),
        ]),
        "/sfx/tamiflu-side-effects.html": ("Tamiflu Side Effects", [
            ("h1", "Tamiflu Side Effects"),
            ("p", "Common side effects of Tamiflu include nausea, vomiting and headache."),
        ]),
        "/sfx/": ("Side Effects Database", [
            ("h1", "Side Effects Database"),
            ("p", "Search for side effects by drug name: open the drug's page from Drugs A-Z."),
        ]),
        "/npc/": ("Natural Products Database (Consumer)", [
            ("h1", "Natural Product Information (Consumer)"),
            ("p", "Herbal and natural products: uses, side effects and interactions."),
            ("links", [("Professional version of this database", f"{ROOT}/npp/")]),
        ]),
        "/npp/": ("Natural Products Database (Professional)", [
            ("h1", "Natural Product Information (Professional)"),
            ("p", "Monographs for health professionals."),
        ]),
    },
)  # fmt: skip
