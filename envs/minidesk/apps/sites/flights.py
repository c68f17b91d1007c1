"""Pieces the airline sites share: the route pickers of a flight search and its result rows."""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites.page import Block


def route_row(
    names: tuple[str, str], airports: list, placeholders: tuple[str, str], **kw: Any
) -> list[tuple[str, int | None, dict]]:
    """From/To labels and airport pickers (a ``Flow.row``) named ``names``; ``kw`` (e.g.
    ``show_if``) goes to all four."""
    row: list[tuple[str, int | None, dict]] = []
    for label, width, name, placeholder in zip(("From", "To"), (40, 24), names, placeholders):
        options = [list(a) for a in airports]
        row.append(("text", width, {"text": label, **kw}))
        row.append(
            ("select", None, {"name": name, "options": options, "placeholder": placeholder, **kw})
        )
    return row


def result_links(rows: list[str], url: str) -> Block:
    """A ``links`` block of search results: row ``i`` links to ``url#i``."""
    return ("links", [(row, f"{url}#{i}") for i, row in enumerate(rows)])
