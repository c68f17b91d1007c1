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

Layout: ``ids`` (families, levels, ids, seed ranges), ``words`` (vocabularies), ``layout``
(``TaskGen``), ``forms`` (the form-app task dict), one module per family (``click_button``, ...,
each a ``generate(g) -> task``), ``catalogue`` (``make_task``).
"""

from envs.minidesk.families.catalogue import GENERATORS, make_task, task_from_id
from envs.minidesk.families.ids import (
    DEFAULT_SCREEN,
    DEMO_SEED_START,
    FAMILIES,
    FREE_LEVELS,
    GRID_LEVELS,
    HELD_OUT_SEEDS,
    ID_PREFIX,
    LEVELS,
    TRAINING_SEED_START,
    check_family_names,
    levels_for,
    parse_task_id,
    task_id,
    training_task_ids,
)

__all__ = [
    "DEFAULT_SCREEN",
    "DEMO_SEED_START",
    "FAMILIES",
    "FREE_LEVELS",
    "GENERATORS",
    "GRID_LEVELS",
    "HELD_OUT_SEEDS",
    "ID_PREFIX",
    "LEVELS",
    "TRAINING_SEED_START",
    "check_family_names",
    "levels_for",
    "make_task",
    "parse_task_id",
    "task_from_id",
    "task_id",
    "training_task_ids",
]
