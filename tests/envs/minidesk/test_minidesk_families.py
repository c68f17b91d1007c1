"""Procedural task families (``envs/minidesk/families/``): schema, determinism, names."""

from __future__ import annotations

import json

import pytest

from envs.minidesk import FAMILIES, LEVELS, make_task, validate_task


def test_procedural_tasks_follow_the_schema_and_are_deterministic() -> None:
    for family in FAMILIES:
        for level in LEVELS:
            task = make_task(family, level, 7)
            validate_task(task, f"{family}/{level}")
            assert task == make_task(family, level, 7)
            assert task["id"] == f"minidesk/{family}/{level}/7"
            assert json.loads(json.dumps(task)) == task  # plain JSON
    assert make_task("click_button", "hard", 1) != make_task("click_button", "hard", 2)


def test_make_task_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="click_button"):
        make_task("nope", "easy", 0)
    with pytest.raises(ValueError, match="grid112"):
        make_task("click_button", "impossible", 0)
    with pytest.raises(ValueError, match="112"):
        make_task("click_button", "grid112", 0, screen_size=(448, 336))
