"""Procedural task families: seeded OSWorld-schema tasks at graded difficulty.

``make_task(family, level, seed, screen_size)`` returns a task dict (deterministic in its
arguments) whose id ``minidesk/<family>/<level>/<seed>`` resolves again through
``MiniDeskEnv.reset(options={"task": id})``.

Levels:
- ``easy``: one action; ``medium``: 2-4 actions; ``hard``: 5+ actions with distractors. Free-pixel
  layouts on the env's screen (default 448x336).
- ``grid112`` / ``grid224``: the easy content on a 112x112 / 224x224 screen with every widget
  snapped to the 28-px grid of merged image tokens (what tiny VLMs can learn to point at,
  see docs/minidesk.md).

Each task carries ``task["minidesk"]["plan"]``: the sub-goals the scripted expert pursues
(closed loop, from the live state), never read by the evaluator.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from envs.minidesk.apps import sites
from envs.minidesk.document import Element
from envs.minidesk.evaluators import MONTH_FULL
from envs.minidesk.widgets import GRID, PALETTE, Theme, text_width

ID_PREFIX = "minidesk/"
FAMILIES = (
    "click_button",
    "tick_checkboxes",
    "type_field",
    "select_dropdown",
    "switch_tab",
    "follow_links",
    "scroll_find",
    "drag_slider",
    "close_popup",
    "edit_text",
)
"""Task families, each at every level of ``LEVELS``."""
LEVELS = ("easy", "medium", "hard", "grid112", "grid224")
FREE_LEVELS = ("easy", "medium", "hard")
GRID_LEVELS = {"grid112": (112, 112), "grid224": (224, 224)}
DEFAULT_SCREEN = (448, 336)

BUTTON_WORDS = (
    "Apply",
    "Cancel",
    "Save",
    "Delete",
    "Next",
    "Back",
    "Submit",
    "Reset",
    "Open",
    "Close",
    "Print",
    "Share",
    "Edit",
    "Copy",
    "Paste",
    "Undo",
    "Help",
    "Send",
    "Search",
    "Export",
    "Import",
    "Upload",
    "Refresh",
    "Archive",
    "Rename",
    "Move",
)
CHECK_WORDS = (
    "Wi-Fi",
    "Bluetooth",
    "Dark mode",
    "Alerts",
    "Auto-update",
    "Location",
    "Sync",
    "Backup",
    "Sounds",
    "Vibration",
    "Hotspot",
    "Night light",
    "Captions",
    "Cookies",
)
FIELD_WORDS = ("Name", "Email", "City", "Phone", "Company", "Username", "Country", "Street")
TYPE_WORDS = (
    "apple",
    "river",
    "cobalt",
    "maple",
    "orbit",
    "pixel",
    "tango",
    "zebra",
    "lemon",
    "harbor",
    "quartz",
    "violet",
    "falcon",
    "copper",
    "meadow",
    "sierra",
)
SELECT_SETS = {
    "Size": ("Small", "Medium", "Large", "X-Large", "XX-Large", "Tiny", "Huge", "Petite"),
    "Color": ("Red", "Green", "Blue", "Black", "White", "Yellow", "Purple", "Orange"),
    "Fruit": ("Apple", "Banana", "Cherry", "Grape", "Kiwi", "Lemon", "Mango", "Peach"),
    "Country": (
        "Austria",
        "Belgium",
        "Canada",
        "Denmark",
        "Egypt",
        "France",
        "Ghana",
        "Hungary",
        "India",
        "Japan",
        "Kenya",
        "Mexico",
        "Norway",
        "Peru",
        "Spain",
        "Togo",
    ),
    "Month": tuple(MONTH_FULL.values()),
}
TAB_WORDS = ("General", "Privacy", "Display", "Sound", "Network", "Storage", "Accounts", "About")
LIST_WORDS = (
    "Alpha",
    "Bravo",
    "Charlie",
    "Delta",
    "Echo",
    "Foxtrot",
    "Golf",
    "Hotel",
    "India",
    "Juliet",
    "Kilo",
    "Lima",
    "Mike",
    "November",
    "Oscar",
    "Papa",
    "Quebec",
    "Romeo",
    "Sierra",
    "Tango",
    "Uniform",
    "Victor",
    "Whiskey",
    "Xray",
    "Yankee",
    "Zulu",
)
SLIDER_WORDS = ("Volume", "Brightness", "Contrast", "Speed", "Zoom", "Balance", "Bass", "Treble")
POPUP_TEXTS = (
    "Subscribe to our newsletter?",
    "Allow notifications from this site?",
    "A new version is available.",
    "We use cookies to improve your experience.",
)
TITLES = ("Settings", "Control panel", "Order form", "Preferences", "Dashboard", "Account")
COLOURS = tuple(PALETTE)


HELD_OUT_SEEDS = range(0, 100_000)
"""Seeds kept for evaluation: training task lists and warm-start demos never draw them."""
TRAINING_SEED_START = 100_000
"""RL training tasks use seeds from here (``training_task_ids``)."""
DEMO_SEED_START = 1_000_000
"""``arpo warmstart`` draws its demonstration tasks from here on."""


def task_id(family: str, level: str, seed: int) -> str:
    return f"{ID_PREFIX}{family}/{level}/{seed}"


def check_family_names(family_names: Sequence[str], field: str = "families") -> None:
    """ValueError naming ``field`` and the unknown names unless every name is in ``FAMILIES``."""
    unknown = sorted(set(family_names) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown {field} {unknown}; expected some of {', '.join(FAMILIES)}")


def training_task_ids(
    family_names: Sequence[str], level_names: Sequence[str], seeds: int
) -> list[str]:
    """``seeds`` training task ids per (family, level), seeds from ``TRAINING_SEED_START`` (disjoint
    from the held-out evaluation seeds and from the warm start's demonstrations)."""
    check_family_names(family_names)
    return [
        task_id(family, level, TRAINING_SEED_START + i)
        for family in family_names
        for level in level_names
        for i in range(seeds)
    ]


def levels_for(screen_size: tuple[int, int]) -> tuple[str, ...]:
    """Levels that render on an env of ``screen_size``."""
    for level, size in GRID_LEVELS.items():
        if tuple(screen_size) == size:
            return (level,)
    return FREE_LEVELS


def task_from_id(tid: str, screen_size: tuple[int, int] = DEFAULT_SCREEN) -> dict[str, Any]:
    """The task of a procedural id (``minidesk/<family>/<level>/<seed>``)."""
    parts = tid[len(ID_PREFIX) :].split("/") if tid.startswith(ID_PREFIX) else []
    if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
        raise KeyError(
            f"malformed procedural task id {tid!r}; expected {ID_PREFIX}<family>/<level>/<seed>"
        )
    return make_task(parts[0], parts[1], int(parts[2]), screen_size)


def make_task(
    family: str, level: str, seed: int, screen_size: tuple[int, int] | None = None
) -> dict[str, Any]:
    """An OSWorld-schema task of ``family`` at ``level`` (deterministic in all arguments).

    Args:
        family: One of ``FAMILIES``.
        level: One of ``LEVELS``.
        seed: Any int; layouts, labels, colours and targets vary with it.
        screen_size: (W, H) the free levels are laid out for (default 448x336); grid levels
            always use their own size and reject another one.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if level in GRID_LEVELS:
        if screen_size is not None and tuple(screen_size) != GRID_LEVELS[level]:
            raise ValueError(
                f"level {level} renders at {GRID_LEVELS[level]}, not {tuple(screen_size)}"
            )
        size = GRID_LEVELS[level]
    else:
        size = tuple(screen_size or DEFAULT_SCREEN)
    rng = random.Random(f"{family}/{level}/{seed}")
    g = _Gen(rng, level, size)
    task = _GENERATORS[family](g)
    tid = task_id(family, level, seed)
    task["id"] = tid
    task.setdefault("snapshot", "minidesk")
    task.setdefault("source", "minidesk-procedural")
    task["minidesk"] = {
        "task_id": tid,
        "family": family,
        "level": level,
        "seed": seed,
        "screen_size": list(size),
        "plan": task.pop("plan"),
    }
    return task


# ---------------------------------------------------------------------------- layout
class _Gen:
    """Layout and sampling helpers for one task."""

    def __init__(self, rng: random.Random, level: str, size: tuple[int, int]):
        self.rng, self.level, self.size = rng, level, size
        self.grid = level in GRID_LEVELS
        self.theme = Theme.for_screen(*size)
        self.w, self.h = size
        self.n = 0
        self.taken: list[list[int]] = []
        self.title = rng.choice(TITLES)
        self.top = 0 if self.grid else self.theme.font_size + 14

    @property
    def easy(self) -> bool:
        return self.level in ("easy", "grid112", "grid224")

    def id(self, kind: str) -> str:
        self.n += 1
        return f"{kind}{self.n}"

    def pick(self, pool: tuple | list, k: int) -> list:
        return self.rng.sample(list(pool), k)

    def heading(self) -> list[Element]:
        if self.grid:
            return []
        return [Element("heading", id="title", text=self.title, rect=[8, 4, self.w - 8, self.top])]

    def place(self, w: int, h: int, cells: tuple[int, int] | None = None) -> list[int]:
        """A free rect of w x h px (free levels) or of ``cells`` grid cells (grid levels)."""
        if self.grid:
            cw, ch = cells or (max(1, -(-w // GRID)), 1)
            cols, rows = self.w // GRID, self.h // GRID
            spots = [(c, r) for r in range(rows) for c in range(cols - cw + 1) if r + ch <= rows]
            self.rng.shuffle(spots)
            for c, r in spots:
                rect = [c * GRID, r * GRID, (c + cw) * GRID, (r + ch) * GRID]
                if not any(_overlap(rect, t, 0) for t in self.taken):
                    self.taken.append(rect)
                    return rect
            raise RuntimeError("grid is full")
        for _ in range(400):
            x = self.rng.randint(8, max(8, self.w - w - 8))
            y = self.rng.randint(self.top + 4, max(self.top + 4, self.h - h - 8))
            rect = [x, y, x + w, y + h]
            if not any(_overlap(rect, t, 6) for t in self.taken):
                self.taken.append(rect)
                return rect
        raise RuntimeError(f"no room for a {w}x{h} widget on {self.size}")

    def row_rect(self, y_cells: int, x_cells: int = 0, w_cells: int | None = None) -> list[int]:
        """Grid row rect (grid levels) used by stacked layouts."""
        w_cells = w_cells or (self.w // GRID - x_cells)
        rect = [x_cells * GRID, y_cells * GRID, (x_cells + w_cells) * GRID, (y_cells + 1) * GRID]
        self.taken.append(rect)
        return rect

    def button_size(self, label: str) -> tuple[int, int]:
        return text_width(label, self.theme.font_size) + 16, self.theme.row + 4

    def stack(
        self, n: int, x: int | None = None, w: int | None = None, gap: int = 4
    ) -> list[list[int]]:
        """n rows stacked vertically at a random offset (free levels)."""
        h = self.theme.row + 2
        w = w or min(self.w - 16, 200)
        total = n * (h + gap)
        for _ in range(400):
            x0 = self.rng.randint(8, max(8, self.w - w - 8)) if x is None else x
            y0 = self.rng.randint(self.top + 4, max(self.top + 4, self.h - total - 8))
            rects = [[x0, y0 + i * (h + gap), x0 + w, y0 + i * (h + gap) + h] for i in range(n)]
            if not any(_overlap(r, t, 4) for r in rects for t in self.taken):
                self.taken.extend(rects)
                return rects
        raise RuntimeError(f"no room for {n} stacked rows on {self.size}")


def _overlap(a: list[int], b: list[int], margin: int) -> bool:
    return not (
        a[2] + margin <= b[0]
        or b[2] + margin <= a[0]
        or a[3] + margin <= b[1]
        or b[3] + margin <= a[1]
    )


def _add_submit(els: list[Element], plan: list[dict], label: str, rect: list[int]) -> None:
    """Append the blue submit button ``label`` at ``rect`` and the plan step that clicks it."""
    button_id = label.lower()
    els.append(
        Element("button", id=button_id, text=label, action="submit", color="blue", rect=rect)
    )
    plan.append({"op": "submit", "id": button_id})


def _setting_form(
    g: _Gen,
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
        return _form(g, instruction, els, expected, plan)
    bw, bh = g.button_size(submit_label)
    last = rows[-1]
    _add_submit(els, plan, submit_label, [last[0], last[3] + gap, last[0] + bw, last[3] + gap + bh])
    return _form(
        g, f"{instruction} Then click {submit_label}.", els, expected, plan, field="submitted"
    )


def _form(
    g: _Gen,
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


def _and_list(items: list[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


# ---------------------------------------------------------------------------- families
def _click_button(g: _Gen) -> dict[str, Any]:
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
        return _form(
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
        instruction = f"Click the buttons {_and_list(order)} in this order."
    plan = [{"op": "click", "id": f"b{labels.index(lab)}"} for lab in order]
    return _form(g, instruction, els, {"clicks": order}, plan, field="state")


def _tick_checkboxes(g: _Gen) -> dict[str, Any]:
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
        return _form(g, f"Tick the '{on[0]}' checkbox.", els, target, plan, initial=initial)
    instruction = (
        f"Make sure that exactly these options are ticked: {_and_list(on)}."
        if on
        else "Untick every option."
    )
    if g.level == "hard":
        bw, bh = g.button_size("Save")
        _add_submit(els, plan, "Save", g.place(bw, bh))
        return _form(
            g,
            instruction + " Then click Save.",
            els,
            target,
            plan,
            field="submitted",
            initial=initial,
        )
    return _form(g, instruction, els, target, plan, initial=initial)


def _type_field(g: _Gen) -> dict[str, Any]:
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
        return _form(
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
    return _form(g, instruction, els, expected, plan, field="submitted", initial=initial)


def _select_dropdown(g: _Gen) -> dict[str, Any]:
    rng = g.rng
    if g.easy:
        label = rng.choice(["Size", "Color", "Fruit"])
        k = {"grid112": 3, "grid224": rng.randint(4, 6)}.get(g.level, rng.randint(4, 6))
        options = g.pick(SELECT_SETS[label], k)
        if g.grid:
            top = 0 if g.level == "grid112" else rng.randint(0, g.h // GRID - k - 1)
            rect = g.row_rect(top, 0, g.w // GRID if g.level == "grid112" else rng.randint(4, 8))
            for i in range(k):
                g.row_rect(top + 1 + i, 0, 1)
        else:
            w = 160
            rect = g.place(w, g.theme.row + 2)
            g.taken.append([rect[0], rect[3], rect[2], rect[3] + k * (g.theme.row + 2)])
            if rect[3] + k * (rect[3] - rect[1]) > g.h:  # keep the open menu below the box
                rect[1], rect[3] = g.top + 4, g.top + 4 + g.theme.row + 2
        target = rng.choice(options)
        el = Element(
            "select", id="s0", name="s0", options=options, placeholder=label, rect=rect, rows=k
        )
        return _form(
            g,
            f"Select '{target}' from the {label} list.",
            [el],
            {"s0": target},
            [{"op": "select", "name": "s0", "value": target}],
            open_="s0",
        )
    n = rng.randint(1, 2) if g.level == "medium" else 3
    labels = g.pick(list(SELECT_SETS), n)
    x = rng.randint(8, max(8, g.w - 280))
    rows = g.stack(n, x=x, w=260, gap=10)
    els, expected, plan, parts = [], {}, [], []
    for i, (label, r) in enumerate(zip(labels, rows)):
        pool = SELECT_SETS[label]
        options = list(pool) if g.level == "hard" else g.pick(pool, min(len(pool), 6))
        name = label.lower()
        els.append(Element("text", id=f"l{i}", text=label, rect=[r[0], r[1], r[0] + 70, r[3]]))
        width = (r[2] - r[0] - 74) // 3
        short = [
            o for o in options if text_width(o, g.theme.font_size) + g.theme.font_size + 12 <= width
        ]
        if g.level == "medium" and n == 2 and len(short) >= 3 and rng.random() < 0.5:
            # A radio group instead of a drop-down: three short choices side by side.
            options = short[:3]
            for k, option in enumerate(options):
                x = r[0] + 74 + k * width
                els.append(
                    Element("radio", id=f"s{i}r{k}", name=name, value=option, text=option,
                            rect=[x, r[1], x + width - 2, r[3]])
                )  # fmt: skip
        else:
            els.append(
                Element(
                    "select",
                    id=f"s{i}",
                    name=name,
                    options=options,
                    placeholder="Choose…",
                    rect=[r[0] + 74, r[1], r[2], r[3]],
                    rows=6 if g.level == "hard" else 0,
                )
            )
        value = rng.choice(options[3:] if g.level == "hard" and len(options) > 8 else options)
        expected[name] = value
        plan.append({"op": "select", "name": name, "value": value})
        parts.append(f"{label} to '{value}'")
    return _setting_form(g, parts, els, expected, plan, rows, "Submit", gap=10)


def _switch_tab(g: _Gen) -> dict[str, Any]:
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
        return _form(
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
        return _form(
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
    _add_submit(els, plan, "Save", [g.w - bw - 8, g.h - bh - 8, g.w - 8, g.h - 8])
    return _form(
        g,
        "Tick " + ", ".join(parts) + ", then click Save.",
        els,
        expected,
        plan,
        field="submitted",
        initial={"tab": "t0"},
    )


def _follow_links(g: _Gen) -> dict[str, Any]:
    rng = g.rng
    if g.grid:
        # A one-click link page on the grid (the form app logs followed links).
        n = 3 if g.level == "grid112" else rng.randint(3, 6)
        names = [f"{a} {b}" for a, b in zip(g.pick(sites._ADJ, n), g.pick(sites._NOUN, n))]
        if g.level == "grid112":
            names = [nm.split()[0] for nm in names]
        rows = sorted(g.pick(range(g.h // GRID), n))
        els = [
            Element(
                "link",
                id=f"a{i}",
                text=nm,
                href=f"https://{sites.LINK_HOST}/grid/{i}",
                rect=g.row_rect(r, 0, g.w // GRID),
            )
            for i, (nm, r) in enumerate(zip(names, rows))
        ]
        target = rng.randrange(n)
        return _form(
            g,
            f"Follow the link '{names[target]}'.",
            els,
            {"clicks": [els[target].href]},
            [{"op": "click", "id": f"a{target}"}],
            field="state",
        )
    depth, fanout = {
        "easy": (1, rng.randint(3, 5)),
        "medium": (rng.randint(2, 3), 3),
        "hard": (5, 3),
    }[g.level]
    seed = rng.randint(0, 10**6)
    nodes = sites.link_site(seed, depth, fanout)
    leaf = ".".join(str(rng.randrange(fanout)) for _ in range(depth))
    path = [leaf[:i] for i in range(1, len(leaf) + 1) if i == len(leaf) or leaf[i] == "."]
    level_key = f"{depth}x{fanout}"
    target = sites.link_url(level_key, seed, leaf)
    titles = [nodes[p] for p in path]
    instruction = (
        f"Open the link '{titles[0]}'."
        if depth == 1
        else "Follow the links " + " > ".join(f"'{t}'" for t in titles) + "."
    )
    return {
        "instruction": instruction,
        "config": [
            {"type": "launch", "parameters": {"command": ["google-chrome"]}},
            {
                "type": "chrome_open_tabs",
                "parameters": {"urls_to_open": [sites.link_url(level_key, seed, "")]},
            },
            {"type": "activate_window", "parameters": {"window_name": "Google Chrome"}},
            {
                "type": "execute",
                "parameters": {
                    "command": ["python", "-c", "import pyautogui; pyautogui.hotkey('alt', 'f10')"]
                },
            },
        ],
        "related_apps": ["chrome"],
        "evaluator": {
            "func": "is_expected_active_tab",
            "result": {"type": "active_url_from_accessTree", "goto_prefix": "https://"},
            "expected": {"type": "rule", "rules": {"type": "url", "url": target}},
        },
        "plan": [
            {
                "op": "links",
                "path": [sites.link_url(level_key, seed, p) for p in path],
                "titles": titles,
            }
        ],
    }


def _scroll_find(g: _Gen) -> dict[str, Any]:
    rng = g.rng
    if g.grid:
        rows = g.h // GRID
        n = rows
        items = g.pick(LIST_WORDS, n)
        rect = [0, 0, g.w, rows * GRID]
        g.taken.append(rect)
        target = rng.choice(items)
        el = Element("list", id="list", name="item", options=items, rows=rows, rect=rect)
        return _form(
            g,
            f"Click '{target}' in the list.",
            [el],
            {"item": target},
            [{"op": "list", "name": "item", "value": target}],
        )
    rows = rng.randint(5, 7)
    row_h = g.theme.row
    n = {"easy": rows, "medium": rng.randint(16, 24), "hard": rng.randint(60, 80)}[g.level]
    pool = [f"{a} {b}" for a in LIST_WORDS for b in ("one", "two", "three", "four")]
    items = g.pick(pool, n) if g.level != "hard" else sorted(g.pick(pool, n))
    w = 220
    rect = g.place(w, rows * row_h)
    lo, hi = {
        "easy": (0, rows - 1),
        "medium": (rows + 1, min(n - 1, rows + 14)),
        "hard": (25, min(n - 1, 50)),
    }[g.level]
    target = items[rng.randint(lo, hi)]
    el = Element("list", id="list", name="item", options=items, rows=rows, rect=rect)
    return _form(
        g,
        f"Scroll the list to find '{target}' and click it.",
        [el],
        {"item": target},
        [{"op": "list", "name": "item", "value": target}],
    )


def _drag_slider(g: _Gen) -> dict[str, Any]:
    rng = g.rng
    if g.grid:
        hi = 4 if g.level == "grid112" else 10
        rect = g.row_rect(rng.randrange(g.h // GRID))
        value = rng.randint(1, hi)
        el = Element("slider", id="s0", name="s0", min=0, max=hi, value=0, rect=rect)
        return _form(
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
    return _setting_form(g, parts, els, expected, plan, rows, "Apply", gap=12)


def _close_popup(g: _Gen) -> dict[str, Any]:
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
        return _form(
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
        return _form(
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
    what = f"the '{order[0]}' button" if k == 1 else f"the buttons {_and_list(order)} in this order"
    return _form(
        g, f"Close the pop-up, then click {what}.", els, {"clicks": order}, plan, field="state"
    )


def _edit_text(g: _Gen) -> dict[str, Any]:
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
                {
                    "type": "execute",
                    "parameters": {
                        "command": [
                            "python",
                            "-c",
                            "import pyautogui; pyautogui.hotkey('alt', 'f10')",
                        ]
                    },
                },
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


_GENERATORS = {
    "click_button": _click_button,
    "tick_checkboxes": _tick_checkboxes,
    "type_field": _type_field,
    "select_dropdown": _select_dropdown,
    "switch_tab": _switch_tab,
    "follow_links": _follow_links,
    "scroll_find": _scroll_find,
    "drag_slider": _drag_slider,
    "close_popup": _close_popup,
    "edit_text": _edit_text,
}
assert set(_GENERATORS) == set(FAMILIES)
