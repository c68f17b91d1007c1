"""``drag_slider``: Drag sliders to given values."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import form_task, setting_form
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import SLIDER_WORDS
from envs.minidesk.widgets import GRID


def generate(g: TaskGen) -> dict[str, Any]:
    """Drag one slider (easy, grid), two (medium) or four (hard, then Apply) to given values.
    Scored by ``check_direct_json_object`` on the form's values (hard: the submitted values)."""
    rng = g.rng
    if g.grid:
        hi = 4 if g.level == "grid112" else 10
        rect = g.row_rect(rng.randrange(g.h // GRID))
        value = rng.randint(1, hi)
        el = Element("slider", id="s0", name="s0", min=0, max=hi, value=0, rect=rect)
        return form_task(
            g,
            f"Drag the slider to {value}.",
            [el],
            {"s0": value},
            [{"op": "slider", "name": "s0", "value": value}],
        )
    n, hi = {"easy": (1, 10), "medium": (2, 20), "hard": (4, 100)}[g.level]
    labels = g.pick(SLIDER_WORDS, n)
    x = rng.randint(8, max(8, g.w - 330))
    rows = g.stack(n, x=x, w=min(320, g.w - 16 - x), gap=10)
    els, expected, plan, parts = [], {}, [], []
    for i, (label, r) in enumerate(zip(labels, rows)):
        name = label.lower()
        start = rng.randint(0, hi)
        value = rng.choice([v for v in range(hi + 1) if abs(v - start) > hi // 5])
        els.append(Element("text", id=f"l{i}", text=label, rect=[r[0], r[1], r[0] + 80, r[3]]))
        els.append(
            Element(
                "slider",
                id=f"s{i}",
                name=name,
                min=0,
                max=hi,
                value=start,
                rect=[r[0] + 84, r[1] - 4, r[2], r[3] + 4],
            )
        )
        expected[name] = value
        plan.append({"op": "slider", "name": name, "value": value})
        parts.append(f"{label} to {value}")
    return setting_form(g, parts, els, expected, plan, rows, "Apply", gap=12)
