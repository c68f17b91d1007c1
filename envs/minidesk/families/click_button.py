"""``click_button``: Click one button, or several in a given order, among look-alike buttons."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import and_list, form_task
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import BUTTON_WORDS, COLOURS


def generate(g: TaskGen) -> dict[str, Any]:
    """Click one button (easy), 2-3 (medium) or 5-6 (hard) named buttons in order among 3-12
    look-alikes; grid levels: one coloured button. Scored by ``check_direct_json_object`` on the
    form's click log (``minidesk_form``, field "state")."""
    rng = g.rng
    if g.grid:
        n = rng.randint(3, 5) if g.level == "grid112" else rng.randint(4, 7)
        colours = g.pick(COLOURS, n)
        cells = (1, 1) if g.level == "grid112" else (2, 1)
        # grid112 buttons are one 28-px cell with no label: the colour names them (and is logged).
        els = [
            Element(
                "button",
                id=f"b{i}",
                text=c if g.level == "grid224" else "",
                value=c,
                color=c,
                action="record",
                rect=g.place(0, 0, cells),
            )
            for i, c in enumerate(colours)
        ]
        target = rng.choice(colours)
        return form_task(
            g,
            f"Click the {target} button.",
            els,
            {"clicks": [target]},
            [{"op": "click", "id": f"b{colours.index(target)}"}],
            field="state",
        )
    n, k = {
        "easy": (rng.randint(3, 5), 1),
        "medium": (rng.randint(5, 7), rng.randint(2, 3)),
        "hard": (rng.randint(9, 12), rng.randint(5, 6)),
    }[g.level]
    labels = g.pick(BUTTON_WORDS, n)
    els = []
    for i, label in enumerate(labels):
        colour = rng.choice(COLOURS) if g.level != "easy" or rng.random() < 0.5 else ""
        els.append(
            Element(
                "button",
                id=f"b{i}",
                text=label,
                color=colour,
                action="record",
                rect=g.place(*g.button_size(label)),
            )
        )
    order = g.pick(labels, k)
    if k == 1:
        instruction = f"Click the '{order[0]}' button."
    else:
        instruction = f"Click the buttons {and_list(order)} in this order."
    plan = [{"op": "click", "id": f"b{labels.index(lab)}"} for lab in order]
    return form_task(g, instruction, els, {"clicks": order}, plan, field="state")
