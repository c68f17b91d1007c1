"""``close_popup``: Dismiss a pop-up (hard: two), then click buttons behind it."""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.forms import and_list, form_task
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import BUTTON_WORDS, COLOURS, POPUP_TEXTS
from envs.minidesk.widgets import GRID


def generate(g: TaskGen) -> dict[str, Any]:
    """Close a pop-up (easy, grid); close it, then click one button behind it (medium); close two
    pop-ups, then click three buttons in order (hard). Scored by ``check_direct_json_object`` on
    the form's state."""
    rng = g.rng
    text = rng.choice(POPUP_TEXTS)
    close_label = rng.choice(["Close", "No thanks", "Dismiss", "Later"])
    if g.grid:
        cols, rows = g.w // GRID, g.h // GRID
        dw, dh = (cols, 2) if g.level == "grid112" else (rng.randint(5, cols), rng.randint(2, 3))
        c0, r0 = rng.randint(0, cols - dw), rng.randint(0, rows - dh)
        rect = [c0 * GRID, r0 * GRID, (c0 + dw) * GRID, (r0 + dh) * GRID]
        label = "X" if g.level == "grid112" else "OK"
        dialog = Element(
            "dialog",
            id="popup",
            name="popup",
            text="" if g.level == "grid112" else "Notice",
            options=[["close", label]],
            rect=rect,
        )
        instr = "Close the pop-up." if g.level == "grid112" else "Close the pop-up by clicking OK."
        return form_task(
            g,
            instr,
            [dialog],
            {"popup": False},
            [{"op": "dialog", "name": "popup", "button": "close"}],
        )
    extra = [["ok", "Subscribe"]] if rng.random() < 0.5 else []
    dialog = Element(
        "dialog", id="popup", name="popup", text=text, options=[["close", close_label]] + extra
    )
    els: list[Element] = [dialog]
    if g.level == "easy":
        return form_task(
            g,
            f"Close the pop-up by clicking '{close_label}'.",
            els,
            {"popup": False, "popup_choice": "close"},
            [{"op": "dialog", "name": "popup", "button": "close"}],
            initial={"popup_choice": ""},
        )
    n, k = (rng.randint(3, 5), 1) if g.level == "medium" else (rng.randint(7, 9), 3)
    labels = g.pick(BUTTON_WORDS, n)
    for i, label in enumerate(labels):
        els.append(
            Element(
                "button",
                id=f"b{i}",
                text=label,
                action="record",
                color=rng.choice(COLOURS),
                rect=g.place(*g.button_size(label)),
            )
        )
    order = g.pick(labels, k)
    plan = [{"op": "dialog", "name": "popup", "button": "close"}]
    if g.level == "hard":
        dialog.on_change = "reveal_next"
        dialog.value = True
        second = Element(
            "dialog",
            id="popup2",
            name="popup2",
            text=rng.choice(POPUP_TEXTS),
            options=[["close", "Close"]],
            value=False,
        )
        dialog.options = [["close", close_label]]
        dialog.action = "popup2"
        els.insert(1, second)
        plan.append({"op": "dialog", "name": "popup2", "button": "close"})
    plan += [{"op": "click", "id": f"b{labels.index(lab)}"} for lab in order]
    what = f"the '{order[0]}' button" if k == 1 else f"the buttons {and_list(order)} in this order"
    return form_task(
        g, f"Close the pop-up, then click {what}.", els, {"clicks": order}, plan, field="state"
    )
