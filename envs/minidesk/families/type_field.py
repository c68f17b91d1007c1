"""``type_field``: Type words into labelled text fields (hard: several fields, a checkbox, Submit)."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import form_task
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import FIELD_WORDS, TYPE_WORDS
from envs.minidesk.widgets import GRID


def generate(g: TaskGen) -> dict[str, Any]:
    """Type a word and press Enter (easy, grid); fill one of 2-3 labelled fields and click Submit
    (medium); fill two of four pre-filled fields, tick the terms and Submit (hard). Scored by
    ``check_direct_json_object`` on the submitted values."""
    rng = g.rng
    word = rng.choice(TYPE_WORDS) + ("" if g.easy else str(rng.randint(1, 99)))
    if g.easy:
        if g.grid:
            rect = g.row_rect(rng.randrange(g.h // GRID))
        else:
            rect = g.place(min(240, g.w - 16), g.theme.row + 4)
        el = Element(
            "input", id="f0", name="f0", placeholder="Type here", action="submit", rect=rect
        )
        plan = [{"op": "text", "name": "f0", "value": word, "enter": True}]
        return form_task(
            g,
            f"Type '{word}' in the field and press Enter.",
            [el],
            {"f0": word},
            plan,
            field="submitted",
            focus="f0",
        )
    n = rng.randint(2, 3) if g.level == "medium" else 4
    names = g.pick(FIELD_WORDS, n)
    x = rng.randint(8, max(8, g.w - 300))
    rows = g.stack(n, x=x, w=min(g.w - 16 - x, 280))
    els: list[Element] = []
    initial = {}
    for i, (label, r) in enumerate(zip(names, rows)):
        els.append(Element("text", id=f"l{i}", text=label, rect=[r[0], r[1], r[0] + 70, r[3]]))
        els.append(
            Element(
                "input",
                id=f"f{i}",
                name=label.lower(),
                placeholder=label,
                rect=[r[0] + 74, r[1], r[2], r[3]],
            )
        )
        if g.level == "hard":
            initial[label.lower()] = rng.choice(TYPE_WORDS)
    bw, bh = g.button_size("Submit")
    submit = Element(
        "button", id="submit", text="Submit", action="submit", color="blue", rect=g.place(bw, bh)
    )
    els.append(submit)
    if g.level == "medium":
        target = rng.choice(names)
        expected = {target.lower(): word}
        plan = [
            {"op": "text", "name": target.lower(), "value": word},
            {"op": "submit", "id": "submit"},
        ]
        instruction = f"Enter '{word}' in the {target} field and click Submit."
    else:
        a, b = g.pick(names, 2)
        word2 = rng.choice(TYPE_WORDS) + str(rng.randint(100, 999))
        els.append(
            Element(
                "checkbox",
                id="agree",
                name="agree",
                text="I agree to the terms",
                rect=g.place(170, g.theme.row + 2),
            )
        )
        expected = {a.lower(): word, b.lower(): word2, "agree": True}
        plan = [
            {"op": "text", "name": a.lower(), "value": word},
            {"op": "text", "name": b.lower(), "value": word2},
            {"op": "check", "name": "agree", "value": True},
            {"op": "submit", "id": "submit"},
        ]
        instruction = (
            f"Set {a} to '{word}' and {b} to '{word2}', tick 'I agree to the terms' "
            "and click Submit."
        )
    return form_task(g, instruction, els, expected, plan, field="submitted", initial=initial)
