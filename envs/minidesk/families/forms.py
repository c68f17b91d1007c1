"""Task builders shared by the families: the form-app task dict and its instruction pieces.

Most families lay out widgets on MiniDesk's form app (``apps/form.py``) and are scored by
OSWorld's ``check_direct_json_object`` on the form's state (getter ``minidesk_form``).
"""

from __future__ import annotations

from typing import Any

from envs.minidesk.document import Element
from envs.minidesk.families.layout import TaskGen

MAXIMIZE_CODE = "import pyautogui; pyautogui.hotkey('alt', 'f10')"
"""What OSWorld tasks run to maximize the window just opened (Alt+F10)."""


def form_task(
    g: TaskGen,
    instruction: str,
    elements: list[Element],
    expected: dict[str, Any],
    plan: list[dict],
    field: str = "values",
    initial: dict | None = None,
    focus: str | None = None,
    open_: str | None = None,
    bg: str = "",
) -> dict[str, Any]:
    """A task on a full-screen form of ``elements`` (under the title heading), passed when the
    form's ``field`` ("values", "clicks", "submitted" or the whole "state") holds ``expected``.

    Args:
        g: The task's generator (title, level).
        instruction: What the agent is told.
        elements: The form's widgets.
        expected: Key/value pairs the form's ``field`` must hold.
        plan: The scripted expert's sub-goals.
        field: Which part of the form state is compared.
        initial: Values the form starts with.
        focus: Name of the element that has the keyboard focus at the start.
        open_: Name of the drop-down that starts open.
        bg: Background colour of the form.
    """
    state = {
        "title": g.title,
        "elements": [e.to_dict() for e in g.heading() + elements],
        "initial": initial or {},
        "bg": bg,
    }
    if focus:
        state["focus"] = focus
    if open_:
        state["open"] = open_
    return {
        "instruction": instruction,
        "config": [
            {
                "type": "minidesk_app_state",
                "parameters": {"app": "form", "state": state, "fullscreen": True},
            }
        ],
        "related_apps": ["minidesk-form"],
        "evaluator": {
            "func": "check_direct_json_object",
            "result": {"type": "minidesk_form", "field": field},
            "expected": {"type": "rule", "rules": {"expected": expected}},
        },
        "plan": plan,
    }


def maximize_step() -> dict[str, Any]:
    """The setup step that maximizes the window just opened (a fresh dict each call)."""
    return {"type": "execute", "parameters": {"command": ["python", "-c", MAXIMIZE_CODE]}}


def add_submit(els: list[Element], plan: list[dict], label: str, rect: list[int]) -> None:
    """Append the blue submit button ``label`` at ``rect`` and the plan step that clicks it."""
    button_id = label.lower()
    els.append(
        Element("button", id=button_id, text=label, action="submit", color="blue", rect=rect)
    )
    plan.append({"op": "submit", "id": button_id})


def setting_form(
    g: TaskGen,
    parts: list[str],
    els: list[Element],
    expected: dict[str, Any],
    plan: list[dict],
    rows: list[list[int]],
    submit_label: str,
    gap: int,
) -> dict[str, Any]:
    """ "Set A to x, B to y and C to z." forms; the hard level adds a submit button ``gap`` px under
    the last row, which the task then requires."""
    instruction = (
        "Set " + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + "."
    )
    if g.level != "hard":
        return form_task(g, instruction, els, expected, plan)
    bw, bh = g.button_size(submit_label)
    last = rows[-1]
    add_submit(els, plan, submit_label, [last[0], last[3] + gap, last[0] + bw, last[3] + gap + bh])
    return form_task(
        g, f"{instruction} Then click {submit_label}.", els, expected, plan, field="submitted"
    )


def and_list(items: list[str]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``."""
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
