"""Macy's: departments, category pages and the facet filters that write the URL path.

OSWorld task 2888b4e6 ("Find a men's T-Shirt that is in large size with a stripe pattern, short
sleeve and under the Sales&Discount") is scored by ``exact_match`` on the ``url_dashPart``
getter (the last ``/`` part of the active URL, its ``?id=`` cut): it must be
``Stripe,Men,L,Short%20Sleeve,Sales%20%26%20Discounts``. As on macys.com, a filtered category
URL is ``/shop/<department>/<category>/<facet names>/<facet values>?id=<n>``: the ticked values,
percent-encoded, in the category's facet order (not the order they were ticked), several
values of one facet joined by ``|``. Ticking a box reloads the page with the new URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page, page_flow, script
from envs.minidesk.document import Element

SITE = "https://www.macys.com"
PATTERN = ("Pattern", "Pattern", ["Solid", "Stripe", "Graphic", "Plaid"])
GENDER = ("Gender", "Gender", ["Men", "Women", "Unisex"])
SIZE = ("Size", "Size", ["S", "M", "L", "XL", "XXL"])
SLEEVE = ("Sleeve_length", "Sleeve Length", ["Short Sleeve", "Long Sleeve", "Sleeveless"])
OFFERS = ("Special_offers", "Special Offers", ["Sales & Discounts", "Clearance/Closeout"])
WAIST = ("Waist_size", "Waist Size", ["30", "32", "34", "36"])
CATEGORIES: dict[str, tuple[str, int, list[tuple[str, str, list[str]]]]] = {
    "/shop/mens-clothing/mens-t-shirts": ("Men's T-Shirts", 30423,
                                          [PATTERN, GENDER, SIZE, SLEEVE, OFFERS]),
    "/shop/mens-clothing/mens-jeans": ("Men's Jeans", 11221, [WAIST, OFFERS]),
    "/shop/mens-clothing/mens-sweaters": ("Men's Sweaters", 4286, [PATTERN, SIZE, OFFERS]),
    "/shop/womens-clothing/womens-tops": ("Women's Tops", 255, [PATTERN, SIZE, SLEEVE, OFFERS]),
}  # fmt: skip
"""Category path -> (title, ``id``, facets as (URL name, heading, values) in URL order)."""
DEPARTMENTS = {
    "/shop/mens-clothing": ("Men", 1, ["/shop/mens-clothing/mens-jeans",
                                       "/shop/mens-clothing/mens-sweaters",
                                       "/shop/mens-clothing/mens-t-shirts"]),
    "/shop/womens-clothing": ("Women", 118, ["/shop/womens-clothing/womens-tops"]),
}  # fmt: skip
"""Department path -> (nav label, ``id``, its categories)."""
NAV = [(label, f"{SITE}{path}?id={n}") for path, (label, n, _) in DEPARTMENTS.items()] + [
    ("Home", f"{SITE}/shop/for-the-home?id=22672"),
    ("Sale", f"{SITE}/shop/sale?id=3536"),
]


def category_url(path: str, ticked: dict[str, list[str]]) -> str:
    """The URL of category ``path`` filtered by ``ticked`` (facet URL name -> values)."""
    _, cid, facets = CATEGORIES[path]
    names = [name for name, _, _ in facets if ticked.get(name)]
    if not names:
        return f"{SITE}{path}?id={cid}"
    values = ",".join("|".join(quote(v, safe="") for v in ticked[name]) for name in names)
    return f"{SITE}{path}/{','.join(names)}/{values}?id={cid}"


def parse_category(key: str) -> tuple[str, dict[str, list[str]]] | None:
    """(category path, ticked values) of a host/path key, None off the category pages."""
    path = "/" + key.split("/", 1)[1] if "/" in key else "/"
    for base in CATEGORIES:
        if path == base:
            return base, {}
        if path.startswith(base + "/"):
            rest = path[len(base) + 1 :].split("/")
            if len(rest) != 2:
                return None
            names, values = rest[0].split(","), rest[1].split(",")
            return base, {n: [unquote(v) for v in vs.split("|")] for n, vs in zip(names, values)}
    return None


def _product(i: int, title: str, ticked: dict[str, list[str]]) -> str:
    picked = [vs[0] for vs in ticked.values()]
    style = " ".join(picked[:2]) or "Classic"
    return (
        f"Club Room {style} {title.split(' ', 1)[1].rstrip('s')} No. {i + 1}  ${19.99 + 6 * i:.2f}"
    )


def category_page(ctx: PageCtx, path: str, ticked: dict[str, list[str]]) -> Page:
    """A category page: one checkbox per facet value (ticked as the URL says) and products."""
    title, _, facets = CATEGORIES[path]
    f = page_flow(ctx, [("nav", NAV), ("h1", title)])
    for name, heading, values in facets:
        items: list[tuple[str, int | None, dict]] = [("text", 110, {"text": heading})]
        for value in values:
            items.append(
                (
                    "checkbox",
                    140,
                    {
                        "name": f"{name}:{value}",
                        "text": value,
                        "value": value in ticked.get(name, []),
                        "on_change": "macys_filter",
                    },
                )
            )
        f.row(items)
    f.add("hr", h=ctx.theme.pad)
    count = max(2, 9 - 2 * len(ticked))
    for i in range(count):
        f.add(
            "link",
            h=ctx.theme.font_size + 6,
            text=_product(i, title, ticked),
            href=f"{SITE}/shop/product/item-{i + 1}?ID={9100 + i}",
            w=min(f.width - 2 * f.margin, 460),
        )
    return Page(f"{title} - Macy's", f.elements)


def macys_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """Every macys.com page: home, a department (its categories), a category, else a notice."""
    category = parse_category(key)
    if category is not None:
        return category_page(ctx, *category)
    path = "/" + key.split("/", 1)[1] if "/" in key else "/"
    if path in DEPARTMENTS:
        label, _, paths = DEPARTMENTS[path]
        links = [(CATEGORIES[p][0], f"{SITE}{p}?id={CATEGORIES[p][1]}") for p in paths]
        blocks = [("nav", NAV), ("h1", f"{label}'s Clothing"), ("links", links)]
        return blocks_page(ctx, f"{label}'s Clothing - Macy's", blocks)
    if path == "/":
        blocks = [
            ("nav", NAV),
            ("h1", "Black Friday Deals"),
            ("p", "Extra 20% off with code FRIDAY. Free shipping at $25."),
            ("image", "Holiday gifts", "red"),
        ]
        return blocks_page(ctx, "Macy's - Shop Fashion Clothing & Accessories", blocks)
    blocks = [("nav", NAV), ("h1", "Shop Macy's"), ("p", "See what's new this week.")]
    return blocks_page(ctx, "Macy's", blocks)


@script
def macys_filter(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """A facet box changed: reload the category with the ticked values in the URL path."""
    parts = urlsplit(tab.url)
    category = parse_category(parts.netloc.removeprefix("www.") + parts.path)
    if category is None:
        return
    ticked: dict[str, list[str]] = {}
    for box in doc.elements:
        if box.kind == "checkbox" and doc.values.get(box.name):
            name, value = box.name.split(":", 1)
            ticked.setdefault(name, []).append(value)
    browser.navigate(tab, category_url(category[0], ticked))
