"""Names of the procedural tasks: families, levels, ids and the seed ranges they are drawn from.

A procedural task id is ``minidesk/<family>/<level>/<seed>``; ``MiniDeskEnv.reset(options={"task":
id})`` regenerates the task from it (``catalogue.task_from_id``).
"""

from __future__ import annotations

from collections.abc import Sequence

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
"""Task families, each at every level of ``LEVELS`` (one module of this package each)."""
LEVELS = ("easy", "medium", "hard", "grid112", "grid224")
FREE_LEVELS = ("easy", "medium", "hard")
GRID_LEVELS = {"grid112": (112, 112), "grid224": (224, 224)}
EASY_LEVELS = ("easy", "grid112", "grid224")
"""Levels with one-action tasks (the grid levels carry the easy content)."""
DEFAULT_SCREEN = (448, 336)
"""(width, height) the free levels are laid out for unless told otherwise."""

HELD_OUT_SEEDS = range(0, 100_000)
"""Seeds kept for evaluation: training task lists and warm-start demos never draw them."""
TRAINING_SEED_START = 100_000
"""RL training tasks use seeds from here (``training_task_ids``)."""
DEMO_SEED_START = 1_000_000
"""``arpo warmstart`` draws its demonstration tasks from here on."""


def task_id(family: str, level: str, seed: int) -> str:
    """The procedural id ``minidesk/<family>/<level>/<seed>``."""
    return f"{ID_PREFIX}{family}/{level}/{seed}"


def parse_task_id(tid: str) -> tuple[str, str, int]:
    """``(family, level, seed)`` of a procedural id (names are checked by ``make_task``).

    Raises:
        KeyError: ``tid`` is not ``minidesk/<family>/<level>/<seed>`` with an int seed.
    """
    parts = tid[len(ID_PREFIX) :].split("/") if tid.startswith(ID_PREFIX) else []
    if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
        raise KeyError(
            f"malformed procedural task id {tid!r}; expected {ID_PREFIX}<family>/<level>/<seed>"
        )
    return parts[0], parts[1], int(parts[2])


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
