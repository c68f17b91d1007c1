"""``tick_checkboxes``: Tick and untick checkboxes until exactly the named ones are on."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import add_submit, and_list, form_task
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import CHECK_WORDS
from envs.minidesk.widgets import GRID


def generate(g: TaskGen) -> dict[str, Any]:
    """Tick one box (easy, grid) or make exactly the named boxes ticked (medium: 2-3 changes; hard:
    5-6 in two columns, then Save). Scored by ``check_direct_json_object`` on the form's values
    (hard: the submitted values)."""
    rng = g.rng
    n, changes = {
        "easy": (rng.randint(3, 4), 1),
        "grid112": (3, 1),
        "grid224": (rng.randint(3, 6), 1),
        "medium": (rng.randint(4, 6), rng.randint(2, 3)),
        "hard": (rng.randint(8, 10), rng.randint(5, 6)),
    }[g.level]
    labels = g.pick(CHECK_WORDS, n)
    if g.grid:
        cols = g.w // GRID
        rows = g.pick(range(g.h // GRID), n)
        rects = [g.row_rect(r, 0, cols) for r in sorted(rows)]
    elif g.level == "hard":
        half = (n + 1) // 2
        rects = g.stack(half, x=8, w=g.w // 2 - 16) + g.stack(
            n - half, x=g.w // 2 + 8, w=g.w // 2 - 16
        )
    else:
        rects = g.stack(n)
    initial = {f"c{i}": (False if g.easy else rng.random() < 0.4) for i in range(n)}
    flip = g.pick(range(n), changes)
    target = {f"c{i}": (not initial[f"c{i}"]) if i in flip else initial[f"c{i}"] for i in range(n)}
    if g.easy:
        target = {f"c{i}": i in flip for i in range(n)}
    els = [
        Element("checkbox", id=f"c{i}", name=f"c{i}", text=labels[i], rect=rects[i])
        for i in range(n)
    ]
    on = [labels[i] for i in range(n) if target[f"c{i}"]]
    plan: list[dict] = [{"op": "check", "name": f"c{i}", "value": target[f"c{i}"]} for i in flip]
    if g.easy:
        return form_task(g, f"Tick the '{on[0]}' checkbox.", els, target, plan, initial=initial)
    instruction = (
        f"Make sure that exactly these options are ticked: {and_list(on)}."
        if on
        else "Untick every option."
    )
    if g.level == "hard":
        bw, bh = g.button_size("Save")
        add_submit(els, plan, "Save", g.place(bw, bh))
        return form_task(
            g,
            instruction + " Then click Save.",
            els,
            target,
            plan,
            field="submitted",
            initial=initial,
        )
    return form_task(g, instruction, els, target, plan, initial=initial)
