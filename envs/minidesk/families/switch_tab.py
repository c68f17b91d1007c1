"""``switch_tab``: Switch tabs, then act on widgets shown only inside one tab's panel."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import add_submit, form_task
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import BUTTON_WORDS, CHECK_WORDS, TAB_WORDS
from envs.minidesk.widgets import GRID


def generate(g: TaskGen) -> dict[str, Any]:
    """Switch to a named tab (easy, grid); click a button shown only in one tab's panel (medium);
    tick boxes in three tabs, then Save (hard). Scored by ``check_direct_json_object`` on the
    form's state."""
    rng = g.rng
    n = {
        "grid112": 4,
        "grid224": 4,
        "easy": rng.randint(3, 4),
        "medium": rng.randint(3, 4),
        "hard": rng.randint(4, 5),
    }[g.level]
    names = [str(i + 1) for i in range(n)] if g.level == "grid112" else g.pick(TAB_WORDS, n)
    values = [f"t{i}" for i in range(n)]
    if g.grid:
        rect = g.row_rect(rng.randrange(g.h // GRID))
    else:
        w = min(g.w - 16, n * 80)
        x = rng.randint(8, g.w - w - 8)
        rect = [x, g.top + 4, x + w, g.top + 4 + g.theme.row + 4]
        g.taken.append([0, 0, g.w, rect[3] + 4])
    tabs = Element(
        "tabs", id="tabs", name="tab", options=[[v, t] for v, t in zip(values, names)], rect=rect
    )
    els = [tabs]
    if g.easy:
        target = rng.randrange(1, n)
        label = f"tab {names[target]}" if g.level == "grid112" else f"'{names[target]}' tab"
        return form_task(
            g,
            f"Switch to the {label}.",
            els,
            {"tab": values[target]},
            [{"op": "select", "name": "tab", "value": values[target]}],
            initial={"tab": "t0"},
        )
    # Each tab panel holds its own widgets (shown only while that tab is active).
    per_tab = {}
    used: set[str] = set()
    for i, v in enumerate(values):
        taken = list(g.taken)
        if g.level == "medium":
            labels = g.pick([w for w in BUTTON_WORDS if w not in used], 2)
            used.update(labels)
            per_tab[v] = [
                Element(
                    "button",
                    id=f"{v}b{j}",
                    text=lab,
                    action="record",
                    show_if=["tab", v],
                    rect=g.place(*g.button_size(lab)),
                )
                for j, lab in enumerate(labels)
            ]
        else:
            pool = [w for w in CHECK_WORDS if w not in used]
            labels = g.pick(pool, min(3, len(pool) // (n - i)))
            used.update(labels)
            rects = g.stack(len(labels))
            per_tab[v] = [
                Element(
                    "checkbox", id=f"{v}c{j}", name=f"{v}c{j}", text=lab, show_if=["tab", v], rect=r
                )
                for j, (lab, r) in enumerate(zip(labels, rects))
            ]
        g.taken = taken  # panels overlap: only one is visible at a time
        els.extend(per_tab[v])
    if g.level == "medium":
        target = rng.randrange(1, n)
        button = rng.choice(per_tab[values[target]])
        return form_task(
            g,
            f"Open the '{names[target]}' tab and click '{button.text}'.",
            els,
            {"clicks": [button.text]},
            [{"op": "click", "id": button.id}],
            field="state",
            initial={"tab": "t0"},
        )
    chosen_tabs = g.pick(range(1, n), 3)
    expected, plan, parts = {}, [], []
    for t in sorted(chosen_tabs):
        box = rng.choice(per_tab[values[t]])
        expected[box.name] = True
        plan.append({"op": "check", "name": box.name, "value": True})
        parts.append(f"'{box.text}' in the '{names[t]}' tab")
    bw, bh = g.button_size("Save")
    add_submit(els, plan, "Save", [g.w - bw - 8, g.h - bh - 8, g.w - 8, g.h - 8])
    return form_task(
        g,
        "Tick " + ", ".join(parts) + ", then click Save.",
        els,
        expected,
        plan,
        field="submitted",
        initial={"tab": "t0"},
    )
