"""A scripted MiniWoB++ expert that reads the page's DOM: a reference policy for tests, and the
demonstrations of a MiniWoB warm start. It is not a VLM: it reads the DOM, which a policy never
sees.

- ``expert_action``: the pyautogui code that solves the page (``EXPERT_TASKS``).
- ``expert_answer``: the same solution as a UI-TARS answer (``Thought: ...\\nAction: ...``, in the
  model's coordinate frame), for the tasks one click solves (``ANSWER_TASKS``).
"""

from __future__ import annotations

from typing import Any

from rllib_arpo.core.actions import Action, format_response
from rllib_arpo.core.coords import CoordinateSpace

ANSWER_TASKS = ("click-test", "click-test-2", "click-button", "click-link", "focus-text")
"""Tasks one click solves: ``expert_answer`` writes that click."""
EXPERT_TASKS = (*ANSWER_TASKS, "enter-text", "enter-password")
"""Tasks ``expert_action`` solves."""


def expert_action(env: Any) -> str:
    """A scripted pyautogui action for the current page, from its DOM and fields (pixel clicks
    at element centres, typing); supports ``EXPERT_TASKS``. Not a VLM: it reads the DOM."""
    env = env.unwrapped
    name, fields = env.task_name, env.fields
    if name in ANSWER_TASKS:
        x, y = env.element_center(_click_target(env)[0])
        return f"pyautogui.click(x={x}, y={y})"
    if name in ("enter-text", "enter-password"):
        elements = env.dom_elements()
        lines = []
        for element in (e for e in elements if e.tag.startswith("input")):
            x, y = env.element_center(element)
            lines.append(f"pyautogui.click(x={x}, y={y})")
            lines.append(f"pyautogui.write({fields['target']!r})")
        x, y = env.element_center(_find(env, elements, lambda e: e.id == "subbtn"))
        lines.append(f"pyautogui.click(x={x}, y={y})")
        return "\n".join(lines)
    raise KeyError(f"no expert for MiniWoB task {name!r}; experts: {', '.join(EXPERT_TASKS)}")


def expert_answer(env: Any) -> str:
    """The expert's answer for the current page as UI-TARS text: one click at the target's
    centre, written in the model's coordinate frame (``CoordinateSpace.for_screen`` of the
    screenshot, as a policy's answers are read), with a thought that names the target.

    Raises:
        KeyError: the task is not one of ``ANSWER_TASKS``.
    """
    env = env.unwrapped
    if env.task_name not in ANSWER_TASKS:
        raise KeyError(
            f"no one-click answer for MiniWoB task {env.task_name!r}; tasks: "
            f"{', '.join(ANSWER_TASKS)}"
        )
    element, what = _click_target(env)
    space = CoordinateSpace.for_screen(*env.frame_size)
    point = space.to_model(*env.element_center(element))
    return format_response(Action("click", start=point), thought=f"I click {what}.")


def _click_target(env: Any) -> tuple[Any, str]:
    """(the element that one click on solves an ``ANSWER_TASKS`` page, how a thought names it)."""
    name, fields, elements = env.task_name, env.fields, env.dom_elements()
    if name == "click-test":
        return _find(env, elements, lambda e: e.id == "subbtn"), 'the button "Click Me!"'
    if name in ("click-test-2", "click-button"):
        target = fields["target"]
        button = _find(
            env, elements, lambda e: e.tag == "button" and (e.text or "").strip() == target
        )
        return button, f'the button "{target}"'
    if name == "click-link":
        target = fields["target"]
        link = _find(
            env, elements, lambda e: e.tag == "span" and "alink" in e.classes and e.text == target
        )
        return link, f'the link "{target}"'
    if name == "focus-text":
        return _find(env, elements, lambda e: e.tag.startswith("input")), "the text box"
    raise KeyError(f"no click target for MiniWoB task {name!r}")


def _find(env: Any, elements: list, predicate) -> Any:
    for element in elements:
        if predicate(element):
            return element
    raise LookupError(f"no matching element on {env.task_name} ({env.instruction!r})")
