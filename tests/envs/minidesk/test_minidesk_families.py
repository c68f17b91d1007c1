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


def test_a_level_too_large_for_the_screen_is_a_clear_value_error() -> None:
    """Free levels lay out widgets of fixed pixel sizes: on a small screen a hard task does not
    fit. That is a bad task for this env (ValueError naming the task and the screen, which the env
    server answers with 400 and the rollout records as an env error), not a crash."""
    from envs.minidesk.env import MiniDeskEnv

    env = MiniDeskEnv(screen_size=(224, 168))
    with pytest.raises(ValueError, match=r"minidesk/click_button/hard/0 does not fit a 224x168"):
        env.reset(options={"task": "minidesk/click_button/hard/0"})
    env.reset(options={"task": "minidesk/click_button/easy/0"})  # the env is still usable
