"""Kohl's: the home page's search box and the catalogue page with its filters and sort control.

OSWorld task cabb3bae ("Browse spider-man toys for kids and sort by lowest price") is scored by
``is_expected_url_pattern_match`` on the ``active_url_from_accessTree`` getter: the active URL
must hold ``AgeAppropriate:Kids`` (a filter), ``search=spider-man%20toys`` (the search, spaces
as ``%20``) and ``S=4`` (sort by price, low to high), as kohls.com's catalogue URLs do
(``catalog.jsp?CN=AgeAppropriate:Kids&search=spider-man%20toys&S=4``). Filters are links that
add or drop one ``CN`` value; the sort drop-down reloads the page with its ``S``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page, page_flow, script
from envs.minidesk.document import Element

HOME_URL = "https://www.kohls.com/"
CATALOG_URL = "https://www.kohls.com/catalog.jsp"
SORTS = [
    ("1", "Featured"), ("2", "New Arrivals"), ("3", "Best Sellers"),
    ("4", "Price Low-High"), ("5", "Price High-Low"), ("6", "Highest Rated"),
]  # fmt: skip
"""``S`` values of the sort drop-down (4 is "lowest price first")."""
FACETS = [
    ("AgeAppropriate", "Age", ["Baby", "Toddler", "Kids", "Teen", "Adult"]),
    ("Gender", "Gender", ["Boys", "Girls", "Unisex"]),
    ("Brand", "Brand", ["Marvel", "Hasbro", "LEGO", "Mattel"]),
]
"""(``CN`` name, heading, values): the filters of the catalogue page."""
PRODUCTS = [
    # name, price, (age, gender, brand), rating, newness
    ("Marvel Spider-Man Web Shooter", 24.99, ("Kids", "Boys", "Marvel"), 4.6, 3),
    ("Spider-Man Titan Hero Figure", 12.99, ("Kids", "Unisex", "Hasbro"), 4.8, 1),
    ("LEGO Spider-Man Bridge Battle", 39.99, ("Kids", "Unisex", "LEGO"), 4.7, 5),
    ("Spider-Man Plush Toy", 9.99, ("Toddler", "Unisex", "Marvel"), 4.4, 2),
    ("Spider Man Mask & Gloves Set", 14.99, ("Kids", "Boys", "Hasbro"), 4.1, 6),
    ("Spider-Man Collector Statue", 89.99, ("Adult", "Unisex", "Marvel"), 4.9, 4),
    ("Barbie Dreamhouse", 179.99, ("Kids", "Girls", "Mattel"), 4.8, 7),
    ("Hot Wheels Track Builder Toys", 29.99, ("Kids", "Boys", "Mattel"), 4.5, 8),
    ("LEGO Classic Creative Bricks", 34.99, ("Kids", "Unisex", "LEGO"), 4.9, 9),
    ("Baby Stacking Rings Toys", 7.99, ("Baby", "Unisex", "Hasbro"), 4.3, 10),
]
"""The toy catalogue a search filters; a product matches a query when it holds every word."""


def catalog_url(search: str, facets: list[str], sort: str = "") -> str:
    """The catalogue URL of a search with ``CN`` filters (``Name:Value``, joined by ``+``) and a
    sort; spaces in the search are ``%20`` as kohls.com writes them."""
    parts = []
    if facets:
        parts.append("CN=" + "+".join(quote(f, safe=":") for f in facets))
    if search:
        parts.append("search=" + quote(search))
    if sort:
        parts.append(f"S={sort}")
    return CATALOG_URL + ("?" + "&".join(parts) if parts else "")


def parse_catalog(url: str) -> tuple[str, list[str], str]:
    """(search, ``CN`` filters, sort) of a catalogue URL."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return query.get("search", ""), query.get("CN", "").split(), query.get("S", "")


def _words(text: str) -> list[str]:
    return text.lower().replace("-", " ").split()


def _matches(name: str, search: str, facets: list[str], attrs: tuple[str, str, str]) -> bool:
    wanted = [w.rstrip("s") for w in _words(search)]
    have = [w.rstrip("s") for w in _words(name)]
    if not all(w in have for w in wanted):
        return False
    by_name = {n: a for (n, _, _), a in zip(FACETS, attrs)}
    return all(by_name.get(f.split(":", 1)[0]) == f.split(":", 1)[-1] for f in facets)


def _header(ctx: PageCtx, search: str) -> Any:
    f = page_flow(
        ctx,
        [
            (
                "nav",
                [
                    ("Kohl's", HOME_URL),
                    ("Women", catalog_url("women", [])),
                    ("Men", catalog_url("men", [])),
                    ("Kids", catalog_url("kids", [])),
                    ("Toys", catalog_url("toys", [])),
                    ("Clearance", catalog_url("clearance", [])),
                ],
            )
        ],
    )
    f.row(
        [
            (
                "input",
                None,
                {
                    "name": "search",
                    "value": search,
                    "placeholder": "What are you looking for today?",
                    "action": "kohls_search",
                },
            ),
            ("button", 80, {"text": "Search", "action": "kohls_search", "color": "#859e3b"}),
        ]
    )
    return f


def home_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``kohls.com``: the search box and promotions (links to other catalogue pages)."""
    f = _header(ctx, "")
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="Holiday Deals Are Here")
    for label, search in (
        ("Shop Toys Gift Guide", "toys"),
        ("Kids' Pajamas", "kids pajamas"),
        ("Home Decor", "home decor"),
    ):
        f.add("link", h=t.font_size + 6, text=label, href=catalog_url(search, []), w=200)
    f.text_block("Earn Kohl's Cash on every purchase. Free shipping on orders of $49 or more.")
    return Page("Kohl's | Shop Clothing, Shoes, Home, Kitchen, Bedding, Toys & More", f.elements)


def catalog_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """``kohls.com/catalog.jsp?CN=..&search=..&S=..``: the results of the search under the
    filters, sorted; each filter value is a link that toggles it, the sort a drop-down."""
    search, facets, sort = query.get("search", ""), query.get("CN", "").split(), query.get("S", "")
    f = _header(ctx, search)
    t = ctx.theme
    hits = [p for p in PRODUCTS if _matches(p[0], search, facets, p[2])]
    order = {
        "2": lambda p: p[4],
        "3": lambda p: -p[3] * 10 - p[1] / 100,
        "4": lambda p: p[1],
        "5": lambda p: -p[1],
        "6": lambda p: -p[3],
    }.get(sort)
    if order is not None:
        hits.sort(key=order)
    f.add("heading", h=t.font_size + 8, text=f'Results for "{search}"' if search else "Shop")
    f.row(
        [
            ("text", None, {"text": f"{len(hits)} products"}),
            ("text", 56, {"text": "Sort by"}),
            (
                "select",
                160,
                {
                    "name": "sort",
                    "options": [list(s) for s in SORTS],
                    "value": sort or "1",
                    "on_change": "kohls_sort",
                },
            ),
        ]
    )
    for cn, heading, values in FACETS:
        items: list[tuple[str, int | None, dict]] = [("text", 70, {"text": heading})]
        for value in values:
            facet = f"{cn}:{value}"
            on = facet in facets
            toggled = [x for x in facets if x != facet] if on else [*facets, facet]
            label = f"[x] {value}" if on else value
            items.append(("link", 90, {"text": label, "href": catalog_url(search, toggled, sort)}))
        f.row(items)
    f.add("hr", h=t.pad)
    for i, (name, price, _, rating, _) in enumerate(hits):
        f.add(
            "link",
            h=t.font_size + 6,
            text=f"{name}  ${price:.2f}  ({rating} stars)",
            href=f"https://www.kohls.com/product/prd-{5100 + i}.jsp",
            w=min(f.width - 2 * f.margin, 420),
        )
    if not hits:
        f.text_block("We couldn't find a match. Try another search or fewer filters.")
    return Page(f"{search or 'Shop'} | Kohl's", f.elements)


def kohls_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """Every kohls.com page: home, the catalogue (``catalog.jsp``, ``search.jsp``), a product."""
    path = key.split("/", 1)[1] if "/" in key else ""
    if path in ("", "/"):
        return home_page(ctx, key, query)
    if path in ("catalog.jsp", "search.jsp"):
        return catalog_page(ctx, key, query)
    blocks = [("nav", [("Kohl's", HOME_URL)]), ("h1", "Product details")]
    if not path.startswith("product/"):
        blocks[1] = ("h1", "Sorry, we couldn't find that page")
    else:
        blocks.append(("p", "Free store pickup today. Add to cart to see delivery options."))
    return blocks_page(ctx, "Kohl's", blocks)


@script
def kohls_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """The search box's Enter / Search button: a new search (filters and sort dropped)."""
    text = " ".join(str(doc.values.get("search") or "").split())
    if text:
        browser.navigate(tab, catalog_url(text, []))


@script
def kohls_sort(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """The sort drop-down changed: reload the catalogue with its ``S``, search and filters kept."""
    search, facets, _ = parse_catalog(tab.url)
    browser.navigate(tab, catalog_url(search, facets, doc.values.get("sort") or ""))
