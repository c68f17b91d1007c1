"""``rllib_arpo.recipes.miniwob``: the pieces of ARPO on MiniWoB++ (the run itself is
``bench/miniwob_learning.py``), and ``envs.miniwob.expert.expert_answer`` in a real browser."""

from __future__ import annotations

import json
import math

import pytest

from envs.miniwob.browser import INSTRUCTION_HEIGHT, TASK_HEIGHT, TASK_WIDTH
from envs.miniwob.expert import ANSWER_TASKS, expert_answer
from rllib_arpo.core import metrics as M
from rllib_arpo.core.actions import parse_response, to_pyautogui
from rllib_arpo.core.coords import CoordinateSpace
from rllib_arpo.recipes import SettingError
from rllib_arpo.recipes import miniwob as R
from rllib_arpo.recipes.demo import TIME_PARTS, time_split
from rllib_arpo.recipes.held_out import FamilyScore

browser = pytest.mark.browser


# ------------------------------------------------------------------ without a browser


def test_training_held_out_and_demo_pages_never_meet() -> None:
    training = R.training_ids(["click-test-2"], 32)
    held_out = R.held_out_ids(["click-test-2", "click-link"], 200)
    assert training[0] == "miniwob/click-test-2/0" and len(training) == 32
    assert held_out[0] == f"miniwob/click-test-2/{R.HELD_OUT_SEED_START}" and len(held_out) == 400
    seeds = lambda ids: {int(i.rsplit("/", 1)[1]) for i in ids}  # noqa: E731
    assert max(seeds(training)) < R.HELD_OUT_SEED_START
    assert max(seeds(held_out)) < R.DEMO_SEED_START
    with pytest.raises(SettingError, match="at most") as error:
        R.training_ids(["click-test-2"], R.HELD_OUT_SEED_START + 1)
    assert error.value.setting == "training_seeds"


def test_fixed_click_candidates_cover_the_task_area_only() -> None:
    points = R.fixed_click_points()
    assert len(points) == 64
    assert all(0 < x < TASK_WIDTH and INSTRUCTION_HEIGHT < y < TASK_HEIGHT for x, y in points)


def test_the_fixed_click_reference_is_computed_once_per_held_out_set(tmp_path) -> None:
    calls = []

    def compute():
        calls.append(1)
        return {"miniwob/a": FamilyScore("miniwob/a", 7, 20)}, {"miniwob/a": [30, 90]}

    path = tmp_path / "fixed.json"
    first = R.cached_fixed_click(path, ["miniwob/a"], 20, compute)
    again = R.cached_fixed_click(path, ["miniwob/a"], 20, compute)
    assert len(calls) == 1 and first[2] >= 0 and again[2] == 0.0
    assert again[0] == first[0] and again[1] == {"miniwob/a": [30, 90]}
    assert json.loads(path.read_text())["miniwob/a"]["successes"] == 7
    R.cached_fixed_click(path, ["miniwob/a"], 40, compute)  # other pages: computed again
    R.cached_fixed_click(path, ["miniwob/b"], 20, compute)
    assert len(calls) == 3


def test_an_iteration_splits_into_its_parts() -> None:
    result = {
        "env_runners": {M.ROLLOUT_RESET_S: 0.5, M.ROLLOUT_ENV_S: 0.25, M.ROLLOUT_GENERATION_S: 1.0},
        "learners": {"default_policy": {M.TIME_LEARNER_COMPUTE_S: math.nan}},  # no update
        M.TIME_SYNC_S: 0.125,
        M.TIME_REPLAY_S: 0.0625,
        M.TIME_OLD_LOGP_S: 0.0625,
    }
    split = time_split(result, wall=2.5)
    assert tuple(split) == TIME_PARTS
    assert split["learner"] == 0.0 and split["driver"] == 0.125
    assert split["plumbing"] == pytest.approx(2.5 - 0.5 - 0.25 - 1.0 - 0.125 - 0.125)


@browser
def test_settings_are_checked_before_anything_runs(tmp_path) -> None:
    with pytest.raises(SettingError, match="click-tset"):
        R.check_settings(R.MiniWoBSettings(tmp_path, rl_tasks=("click-tset",)))
    with pytest.raises(SettingError, match="one-click expert") as error:
        R.check_settings(R.MiniWoBSettings(tmp_path, warm_tasks=("enter-text",)))
    assert error.value.setting == "warm_tasks"
    with pytest.raises(SettingError, match="never shown"):
        R.check_settings(R.MiniWoBSettings(tmp_path, rl_tasks=("click-button",)))
    R.check_settings(R.MiniWoBSettings(tmp_path))


def test_the_rl_config_trains_on_training_pages_only(tmp_path) -> None:
    config = R.miniwob_config(R.MiniWoBSettings(tmp_path, training_seeds=4), tmp_path)
    assert config.env == "miniwob" and config.env_config == {"max_steps": R.MAX_STEPS}
    assert config.tasks == R.training_ids(R.RL_TASKS, 4)
    assert config.minibatch_size == config.group_size * config.tasks_per_iteration


# ------------------------------------------------------------------ in a browser


@browser
@pytest.mark.parametrize("task", ANSWER_TASKS)
def test_the_expert_answer_solves_the_page_through_the_policy_path(shared_env, task) -> None:
    """The answer is read as a policy's answer is (the model frame -> pyautogui) and solves."""
    for seed in range(3):
        shared_env.reset(seed=50 + seed, options={"task": task})
        text = expert_answer(shared_env)
        assert text.startswith("Thought: I click ")
        space = CoordinateSpace.for_screen(*shared_env.frame_size)
        parsed = parse_response(text, space)
        assert parsed.ok, parsed.error
        _, reward, terminated, _, info = shared_env.step(to_pyautogui(parsed, space))
        assert terminated and reward == 1.0, (text, info)


@browser
def test_the_expert_answers_only_one_click_tasks(shared_env) -> None:
    shared_env.reset(seed=1, options={"task": "enter-text"})
    with pytest.raises(KeyError, match="no one-click answer"):
        expert_answer(shared_env)


@browser
def test_the_demo_pool_holds_distinct_solved_pages() -> None:
    pool = R.demo_pool(["click-test", "focus-text"], 6, seed=3)
    assert len(pool) == 6
    assert all(len(d.responses) == 1 and d.responses[0].startswith("Thought:") for d in pool)
    assert len({(d.instruction, d.responses[0]) for d in pool}) > 1
    assert {d.instruction for d in pool} <= {"Click the button.", "Focus into the textbox."}
