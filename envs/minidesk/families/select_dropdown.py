"""``select_dropdown``: Pick options from drop-down lists (medium: sometimes a radio group)."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import form_task, setting_form
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import SELECT_SETS
from envs.minidesk.widgets import GRID, text_width


def generate(g: TaskGen) -> dict[str, Any]:
    """Pick an option from a drop-down that starts open (easy, grid); set 1-2 drop-downs, or a
    radio group (medium); set 3 long drop-downs, then Submit (hard). Scored by
    ``check_direct_json_object`` on the form's values (hard: the submitted values)."""
    rng = g.rng
    if g.easy:
        label = rng.choice(["Size", "Color", "Fruit"])
        k = {"grid112": 3, "grid224": rng.randint(4, 6)}.get(g.level, rng.randint(4, 6))
        options = g.pick(SELECT_SETS[label], k)
        if g.grid:
            top = 0 if g.level == "grid112" else rng.randint(0, g.h // GRID - k - 1)
            rect = g.row_rect(top, 0, g.w // GRID if g.level == "grid112" else rng.randint(4, 8))
            for i in range(k):
                g.row_rect(top + 1 + i, 0, 1)
        else:
            w = 160
            rect = g.place(w, g.theme.row + 2)
            g.taken.append([rect[0], rect[3], rect[2], rect[3] + k * (g.theme.row + 2)])
            if rect[3] + k * (rect[3] - rect[1]) > g.h:  # keep the open menu below the box
                rect[1], rect[3] = g.top + 4, g.top + 4 + g.theme.row + 2
        target = rng.choice(options)
        el = Element(
            "select", id="s0", name="s0", options=options, placeholder=label, rect=rect, rows=k
        )
        return form_task(
            g,
            f"Select '{target}' from the {label} list.",
            [el],
            {"s0": target},
            [{"op": "select", "name": "s0", "value": target}],
            open_="s0",
        )
    n = rng.randint(1, 2) if g.level == "medium" else 3
    labels = g.pick(list(SELECT_SETS), n)
    x = rng.randint(8, max(8, g.w - 280))
    rows = g.stack(n, x=x, w=260, gap=10)
    els, expected, plan, parts = [], {}, [], []
    for i, (label, r) in enumerate(zip(labels, rows)):
        pool = SELECT_SETS[label]
        options = list(pool) if g.level == "hard" else g.pick(pool, min(len(pool), 6))
        name = label.lower()
        els.append(Element("text", id=f"l{i}", text=label, rect=[r[0], r[1], r[0] + 70, r[3]]))
        width = (r[2] - r[0] - 74) // 3
        short = [
            o for o in options if text_width(o, g.theme.font_size) + g.theme.font_size + 12 <= width
        ]
        if g.level == "medium" and n == 2 and len(short) >= 3 and rng.random() < 0.5:
            # A radio group instead of a drop-down: three short choices side by side.
            options = short[:3]
            for k, option in enumerate(options):
                x = r[0] + 74 + k * width
                els.append(
                    Element("radio", id=f"s{i}r{k}", name=name, value=option, text=option,
                            rect=[x, r[1], x + width - 2, r[3]])
                )  # fmt: skip
        else:
            els.append(
                Element(
                    "select",
                    id=f"s{i}",
                    name=name,
                    options=options,
                    placeholder="Choose…",
                    rect=[r[0] + 74, r[1], r[2], r[3]],
                    rows=6 if g.level == "hard" else 0,
                )
            )
        value = rng.choice(options[3:] if g.level == "hard" and len(options) > 8 else options)
        expected[name] = value
        plan.append({"op": "select", "name": name, "value": value})
        parts.append(f"{label} to '{value}'")
    return setting_form(g, parts, els, expected, plan, rows, "Submit", gap=10)
