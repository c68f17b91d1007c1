"""The gymnasium env: API conformance, spaces, episodes, groups, registration."""

from __future__ import annotations

import datetime as dt

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from minidesk_helpers import FIXED_NOW

import envs  # noqa: F401 - registers MiniDesk-v0
from envs.minidesk import MAX_INSTRUCTION_BYTES, MiniDeskEnv, decode_instruction

SEATGEEK = "f3b19d1e-2d48-44e9-b4e1-defcae1a0197"


@pytest.mark.parametrize("size", [(448, 336), (112, 112), (224, 224)])
def test_check_env_passes(size) -> None:
    check_env(MiniDeskEnv(screen_size=size, now=FIXED_NOW), skip_render_check=True)


def test_check_env_passes_on_a_browser_task() -> None:
    check_env(MiniDeskEnv(task=SEATGEEK, now=FIXED_NOW), skip_render_check=True)


def test_gymnasium_make() -> None:
    env = gym.make("MiniDesk-v0", screen_size=(224, 224), now=FIXED_NOW)
    obs, info = env.reset(seed=3)
    assert obs["screenshot"].shape == (224, 224, 3)
    assert info["task_id"].startswith("minidesk/") and "/grid224/" in info["task_id"]
    obs, reward, terminated, truncated, info = env.step("WAIT")
    assert not terminated and not truncated and reward == 0.0


def test_observation_layout(env) -> None:
    obs, info = env.reset(options={"task": SEATGEEK})
    assert env.observation_space.contains(obs)
    assert obs["screenshot"].dtype == np.uint8 and obs["screenshot"].shape == (336, 448, 3)
    assert obs["instruction"].shape == (MAX_INSTRUCTION_BYTES,)
    assert (
        decode_instruction(obs["instruction"])
        == "Find help page about buying tickets."
        == info["instruction"]
    )
    assert info["task_id"] == SEATGEEK


def test_group_of_resets_starts_identically(env) -> None:
    first, _ = env.reset(seed=1, options={"task": "minidesk/select_dropdown/hard/4"})
    env.step("pyautogui.click(x=200, y=200)")
    for seed in (1, 2, 3):
        obs, _ = env.reset(seed=seed, options={"task": "minidesk/select_dropdown/hard/4"})
        assert (obs["screenshot"] == first["screenshot"]).all()


def test_done_ends_and_evaluates(env) -> None:
    env.reset(options={"task": SEATGEEK})
    _, reward, terminated, truncated, info = env.step("DONE")
    assert terminated and not truncated
    assert info["eval_result"] == 0.0 == reward and info["terminated_by"] == "DONE"
    with pytest.raises(AssertionError, match="reset"):
        env.step("WAIT")


def test_max_steps_truncates() -> None:
    env = MiniDeskEnv(max_steps=3, now=FIXED_NOW)
    env.reset(options={"task": "minidesk/click_button/easy/1"})
    results = [env.step("WAIT") for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]
    assert results[-1][4]["terminated_by"] == "max_steps" and "eval_result" in results[-1][4]


def test_info_carries_parsed_commands(env) -> None:
    env.reset(options={"task": "minidesk/click_button/easy/1"})
    _, _, _, _, info = env.step("pyautogui.click(x=10, y=20); pyautogui.write('hi')")
    assert info["commands"] == [
        ("click", {"x": 10, "y": 20, "button": "left", "clicks": 1}),
        ("write", {"text": "hi"}),
    ]
    assert info["action_error"] is None and info["task_id"] == "minidesk/click_button/easy/1"


def test_task_dict_and_unknown_ids(env) -> None:
    task = env.task_set[SEATGEEK]
    _, info = env.reset(options={"task": task})
    assert info["task_id"] == SEATGEEK
    with pytest.raises(KeyError, match="unknown task id"):
        env.reset(options={"task": "no-such-task"})
    with pytest.raises(ValueError, match="grid112"):
        env.reset(options={"task": "minidesk/click_button/grid112/0"})


def test_full_hd_screen() -> None:
    env = MiniDeskEnv(screen_size=(1920, 1080), now=FIXED_NOW)
    obs, _ = env.reset(options={"task": SEATGEEK + "_noise"})
    assert obs["screenshot"].shape == (1080, 1920, 3)
    assert obs["screenshot"].std() > 10  # something is drawn


def test_render_mode() -> None:
    env = MiniDeskEnv(render_mode="rgb_array", now=FIXED_NOW)
    obs, _ = env.reset(options={"task": SEATGEEK})
    assert (env.render() == obs["screenshot"]).all()
    assert env.screenshot_png().startswith(b"\x89PNG")


def test_bad_constructor_arguments_name_the_value() -> None:
    with pytest.raises(ValueError, match="screen_size"):
        MiniDeskEnv(screen_size=(10, 10))
    with pytest.raises(ValueError, match="max_steps"):
        MiniDeskEnv(max_steps=0)
    with pytest.raises(ValueError, match=r"unknown task_families \['nope'\]"):
        MiniDeskEnv(task_families=["click_button", "nope"])
    with pytest.raises(ValueError, match="training_seeds"):
        MiniDeskEnv(training_seeds=0)


def test_task_families_and_training_seeds_shape_the_training_tasks() -> None:
    """Only the chosen families, every grid level the screen allows, seeds from 100,000 on
    (never the held-out evaluation seeds); sampled tasks stay within the families too."""
    from envs.minidesk.families import HELD_OUT_SEEDS, TRAINING_SEED_START

    env = MiniDeskEnv(
        screen_size=(112, 112), task_families=["drag_slider", "select_dropdown"], training_seeds=3
    )
    tasks = env.default_tasks()
    assert tasks[:3] == [
        f"minidesk/drag_slider/grid112/{TRAINING_SEED_START + i}" for i in range(3)
    ]
    assert (
        len(tasks) == 6
        and tasks[-1] == f"minidesk/select_dropdown/grid112/{TRAINING_SEED_START + 2}"
    )
    assert all(int(t.rsplit("/", 1)[1]) not in HELD_OUT_SEEDS for t in tasks)
    env.reset(seed=0)
    for _ in range(10):
        _, info = env.reset()
        assert info["task_id"].split("/")[1] in ("drag_slider", "select_dropdown")


def test_default_clock_keeps_a_group_identical() -> None:
    env = MiniDeskEnv()
    first, _ = env.reset(options={"task": "fc6d8143-9452-4171-9459-7f515143419a"})
    again, _ = env.reset(options={"task": "fc6d8143-9452-4171-9459-7f515143419a"})
    assert (first["screenshot"] == again["screenshot"]).all()
    assert env.desk.now.date() == dt.date.today() and env.desk.now.hour == 10
