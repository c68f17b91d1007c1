"""``edit_text``: Type, replace or edit one line of a text file (editor and file manager)."""

from __future__ import annotations

from typing import Any

from envs.minidesk.families.forms import maximize_step
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.families.words import TYPE_WORDS


def generate(g: TaskGen) -> dict[str, Any]:
    """Type text in the editor (easy, grid; ``exact_match`` on ``editor_buffer``); replace a
    file's text and save it (medium) or open it from the file manager, change one line and save
    it (hard; ``exact_match`` on ``vm_file``)."""
    rng = g.rng
    home = "/home/user"
    words = g.pick(TYPE_WORDS, 6)
    if g.easy:
        text = f"{words[0]} {words[1]}"
        return {
            "instruction": f"Type '{text}' in the text editor.",
            "config": [
                {
                    "type": "minidesk_app_state",
                    "parameters": {
                        "app": "editor",
                        "state": {"path": f"{home}/notes.txt", "text": ""},
                        "fullscreen": True,
                    },
                }
            ],
            "related_apps": ["minidesk-editor"],
            "evaluator": {
                "func": "exact_match",
                "result": {"type": "editor_buffer"},
                "expected": {"type": "rule", "rules": {"expected": text}},
            },
            "plan": [{"op": "editor_type", "text": text}],
        }
    name = rng.choice(["notes", "todo", "draft", "ideas", "report"]) + ".txt"
    path = f"{home}/{name}"
    if g.level == "medium":
        old = "\n".join(words[:3])
        new = f"{words[3]} {words[4]}"
        return {
            "instruction": f"Replace all the text of {name} with '{new}' and save the file.",
            "config": [
                {"type": "minidesk_files", "parameters": {"files": {path: old}}},
                {"type": "open", "parameters": {"path": path}},
                maximize_step(),
            ],
            "related_apps": ["minidesk-editor"],
            "evaluator": {
                "func": "exact_match",
                "result": {"type": "vm_file", "path": path},
                "expected": {"type": "rule", "rules": {"expected": new}},
            },
            "plan": [{"op": "editor_replace_all", "path": path, "text": new}],
        }
    lines = [f"{a} {b}" for a, b in zip(g.pick(TYPE_WORDS, 5), g.pick(TYPE_WORDS, 5))]
    row = rng.randrange(1, len(lines))  # not the first line: the caret starts there
    replacement = f"{rng.choice(TYPE_WORDS)} {rng.randint(10, 99)}"
    expected = "\n".join(lines[:row] + [replacement] + lines[row + 1 :])
    others = {
        f"{home}/{n}.txt": "\n".join(g.pick(TYPE_WORDS, 3))
        for n in g.pick(["todo", "draft", "ideas", "report", "list", "plan"], 3)
        if f"{home}/{n}.txt" != path
    }
    files = {path: "\n".join(lines), **others}
    return {
        "instruction": f"Open {name} from the file manager, change the line '{lines[row]}' to '{replacement}' and save the file.",
        "config": [
            {"type": "minidesk_files", "parameters": {"files": files}},
            {"type": "launch", "parameters": {"command": ["nautilus", home]}},
        ],
        "related_apps": ["minidesk-files", "minidesk-editor"],
        "evaluator": {
            "func": "exact_match",
            "result": {"type": "vm_file", "path": path},
            "expected": {"type": "rule", "rules": {"expected": expected}},
        },
        "plan": [{"op": "editor_line", "path": path, "row": row, "text": replacement}],
    }
