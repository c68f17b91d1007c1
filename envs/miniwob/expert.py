"""A scripted MiniWoB++ expert: pyautogui actions read off the page's DOM (a reference policy for
tests and demonstrations, not a VLM: it reads the DOM)."""

from __future__ import annotations

from typing import Any

EXPERT_TASKS = (
    "click-test",
    "click-test-2",
    "click-button",
    "click-link",
    "enter-text",
    "enter-password",
    "focus-text",
)


def expert_action(env: Any) -> str:
    """A scripted pyautogui action for the current page, from its DOM and fields (pixel clicks
    at element centres, typing); supports ``EXPERT_TASKS``. Not a VLM: it reads the DOM."""
    env = env.unwrapped
    name, fields = env.task_name, env.fields
    elements = env.dom_elements()

    def click(element) -> str:
        x, y = env.element_center(element)
        return f"pyautogui.click(x={x}, y={y})"

    def find(predicate) -> Any:
        for element in elements:
            if predicate(element):
                return element
        raise LookupError(f"no matching element on {name} ({env.instruction!r})")

    if name == "click-test":
        return click(find(lambda e: e.id == "subbtn"))
    if name in ("click-test-2", "click-button"):
        target = fields["target"]
        return click(find(lambda e: e.tag == "button" and (e.text or "").strip() == target))
    if name == "click-link":
        target = fields["target"]
        return click(find(lambda e: e.tag == "span" and "alink" in e.classes and e.text == target))
    if name in ("enter-text", "enter-password"):
        inputs = [e for e in elements if e.tag.startswith("input")]
        lines = []
        for element in inputs:
            lines.append(click(element))
            lines.append(f"pyautogui.write({fields['target']!r})")
        lines.append(click(find(lambda e: e.id == "subbtn")))
        return "\n".join(lines)
    if name == "focus-text":
        return click(find(lambda e: e.tag.startswith("input")))
    raise KeyError(f"no expert for MiniWoB task {name!r}; experts: {', '.join(EXPERT_TASKS)}")
