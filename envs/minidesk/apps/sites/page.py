"""What a site page is: ``Page`` (title, elements, initial values) built for a ``PageCtx``, the
block language of static pages, and the registry of page scripts.

A block is a tuple whose first item names it:

- ``("nav", [(label, href), ...])``: a row of links; ``("h1", text)``; ``("p", text)``;
- ``("links", [(label, href), ...])``: one link per line; ``("cls", class, text)``: a text line
  with an HTML class (read by OSWorld's ``active_tab_html_parse`` getter);
  ``("image", label, colour)``.

A page script (``@script``) runs when an element with ``action``/``on_change`` naming it is used:
``fn(browser, tab, doc, el)``, as the page's JavaScript would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from envs.minidesk.document import Element, Flow
from envs.minidesk.widgets import Theme, text_width

Block = tuple
Script = Callable[..., None]
SCRIPTS: dict[str, Script] = {}
"""Page scripts by name (filled by ``@script`` as the site modules are imported)."""


def script(fn: Script) -> Script:
    """Register ``fn`` as the page script named like the function."""
    SCRIPTS[fn.__name__] = fn
    return fn


@dataclass
class PageCtx:
    """What a page is built for: the content width, the theme, the desktop clock and desktop."""

    width: int
    theme: Theme
    now: dt.datetime
    desk: Any


@dataclass
class Page:
    """A built page: its title, elements (laid out for the width), background and the values its
    form elements start with."""

    title: str
    elements: list[Element]
    bg: str = ""
    initial: dict[str, Any] = field(default_factory=dict)


PageBuilder = Callable[[PageCtx, str, dict[str, str]], Page]
"""A dynamic page: ``(ctx, host/path key, query) -> Page``."""


def blocks_page(ctx: PageCtx, title: str, blocks: list[Block], bg: str = "") -> Page:
    """A page of ``blocks`` laid out top to bottom."""
    return Page(title, page_flow(ctx, blocks).elements, bg)


def add_blocks(f: Flow, blocks: list[Block]) -> None:
    """Lay ``blocks`` out at the flow's current position."""
    t = f.theme
    for block in blocks:
        kind = block[0]
        if kind == "nav":
            x = f.margin
            for label, href in block[1]:
                w = text_width(label, t.font_size) + 2
                if x + w > f.width - f.margin:
                    f.y += t.row
                    x = f.margin
                f.elements.append(
                    Element(
                        "link",
                        id=f._id("nav"),
                        text=label,
                        href=href,
                        rect=[x, f.y, x + w, f.y + t.row],
                    )
                )
                x += w + 3 * t.pad
            f.y += t.row + t.pad
            f.add("hr", h=t.pad)
        elif kind == "h1":
            f.add("heading", h=t.font_size + 8, text=block[1])
        elif kind == "p":
            f.text_block(block[1])
        elif kind == "links":
            for label, href in block[1]:
                f.add(
                    "link",
                    h=t.font_size + 6,
                    text=label,
                    href=href,
                    w=min(f.width - 2 * f.margin, text_width(label, t.font_size) + 2),
                )
        elif kind == "cls":
            f.add("text", h=t.font_size + 6, text=block[2], cls=block[1])
        elif kind == "image":
            f.add("image", h=t.row * 3, text=block[1], color=block[2])
        else:
            raise ValueError(f"unknown page block {kind!r}")


def page_flow(ctx: PageCtx, blocks: list[Block]) -> Flow:
    """A flow for ``ctx`` that starts with ``blocks`` (a site's nav bar, a heading)."""
    f = Flow(ctx.width, ctx.theme)
    add_blocks(f, blocks)
    return f
