"""The family catalogue: family name -> generator module, and ``make_task`` over it."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from envs.minidesk.families.click_button import generate as click_button
from envs.minidesk.families.close_popup import generate as close_popup
from envs.minidesk.families.drag_slider import generate as drag_slider
from envs.minidesk.families.edit_text import generate as edit_text
from envs.minidesk.families.follow_links import generate as follow_links
from envs.minidesk.families.ids import (
    DEFAULT_SCREEN,
    FAMILIES,
    GRID_LEVELS,
    LEVELS,
    parse_task_id,
    task_id,
)
from envs.minidesk.families.layout import LayoutError, TaskGen
from envs.minidesk.families.scroll_find import generate as scroll_find
from envs.minidesk.families.select_dropdown import generate as select_dropdown
from envs.minidesk.families.switch_tab import generate as switch_tab
from envs.minidesk.families.tick_checkboxes import generate as tick_checkboxes
from envs.minidesk.families.type_field import generate as type_field

Generator = Callable[[TaskGen], dict[str, Any]]
"""A family: the task dict (with its expert ``"plan"``) for one seeded ``TaskGen``."""

GENERATORS: dict[str, Generator] = {
    "click_button": click_button,
    "tick_checkboxes": tick_checkboxes,
    "type_field": type_field,
    "select_dropdown": select_dropdown,
    "switch_tab": switch_tab,
    "follow_links": follow_links,
    "scroll_find": scroll_find,
    "drag_slider": drag_slider,
    "close_popup": close_popup,
    "edit_text": edit_text,
}
assert set(GENERATORS) == set(FAMILIES), "every family needs a generator"


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
    try:
        task = GENERATORS[family](TaskGen(rng, level, size))
    except LayoutError as error:
        raise LayoutError(
            f"task {task_id(family, level, seed)} does not fit a {size[0]}x{size[1]} screen: "
            f"{error} (use a larger screen or an easier level)"
        ) from None
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


def task_from_id(tid: str, screen_size: tuple[int, int] = DEFAULT_SCREEN) -> dict[str, Any]:
    """The task of a procedural id (``minidesk/<family>/<level>/<seed>``)."""
    return make_task(*parse_task_id(tid), screen_size)
