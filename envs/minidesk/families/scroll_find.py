"""``scroll_find``: Scroll a list box to an item and click it."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import form_task
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import LIST_WORDS
from envs.minidesk.widgets import GRID


def generate(g: TaskGen) -> dict[str, Any]:
    """Click an item of a list box: all rows visible (easy, grid), or scrolled to among 16-24
    (medium) or 60-80 sorted items (hard). Scored by ``check_direct_json_object`` on the form's
    values."""
    rng = g.rng
    if g.grid:
        rows = g.h // GRID
        items = g.pick(LIST_WORDS, rows)
        rect = [0, 0, g.w, rows * GRID]
        g.taken.append(rect)
        target = rng.choice(items)
        instruction = f"Click '{target}' in the list."
    else:
        rows = rng.randint(5, 7)
        n = {"easy": rows, "medium": rng.randint(16, 24), "hard": rng.randint(60, 80)}[g.level]
        pool = [f"{a} {b}" for a in LIST_WORDS for b in ("one", "two", "three", "four")]
        items = g.pick(pool, n) if g.level != "hard" else sorted(g.pick(pool, n))
        rect = g.place(220, rows * g.theme.row)
        lo, hi = {
            "easy": (0, rows - 1),
            "medium": (rows + 1, min(n - 1, rows + 14)),
            "hard": (25, min(n - 1, 50)),
        }[g.level]
        target = items[rng.randint(lo, hi)]
        instruction = f"Scroll the list to find '{target}' and click it."
    el = Element("list", id="list", name="item", options=items, rows=rows, rect=rect)
    return form_task(
        g, instruction, [el], {"item": target}, [{"op": "list", "name": "item", "value": target}]
    )
