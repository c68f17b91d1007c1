"""``envs.miniwob.MiniWoBEnv``: MiniWoB++ pages driven by pyautogui strings in headless Chromium."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

from envs.miniwob import (
    ENV_ID,
    BrowserNotFoundError,
    MiniWoBEnv,
    MiniWoBError,
    expert_action,
    find_browser,
    parse_task_id,
    supported_tasks,
    time_steps,
)
from envs.spaces import decode_instruction

browser = pytest.mark.browser

# (task, one of our action strings): every statement kind the interpreter accepts, on 12 tasks
SMOKE = [
    ("click-test-2", "pyautogui.click(x=150, y=200)"),
    ("click-button", "pyautogui.moveTo(80, 120)\npyautogui.click()"),
    ("enter-text", "pyautogui.click(x=66, y=63); pyautogui.write('hello')"),
    ("enter-password", "pyautogui.doubleClick(x=66, y=80)"),
    ("click-checkboxes", "pyautogui.rightClick(x=150, y=205)"),
    ("click-link", "pyautogui.scroll(-5, x=80, y=120)"),
    ("focus-text", "pyautogui.press('tab'); pyautogui.press(['left', 'right'], presses=2)"),
    ("use-autocomplete", "pyautogui.hotkey('ctrl', 'a')"),
    ("scroll-text", "pyautogui.scroll(5); pyautogui.hscroll(-2, x=60, y=100)"),
    ("click-tab", "pyautogui.mouseDown(x=40, y=120); pyautogui.mouseUp(x=45, y=125)"),
    ("drag-box", "pyautogui.moveTo(30, 100); pyautogui.dragTo(120, 160, button='left')"),
    ("email-inbox", "pyautogui.keyDown('shift'); pyautogui.press('a'); pyautogui.keyUp('shift')"),
    ("simple-arithmetic", "WAIT"),
    ("choose-list", "pyautogui.tripleClick(x=80, y=100); time.sleep(0.1)"),
]


# ------------------------------------------------------------------ without a browser


def test_missing_chromium_names_the_binary(tmp_path):
    missing = str(tmp_path / "no-such-chromium")
    with pytest.raises(BrowserNotFoundError, match="no-such-chromium") as err:
        MiniWoBEnv(chrome_binary=missing, chromedriver=missing)
    assert "Chromium" in str(err.value) and "apt-get install -y chromium chromium-driver" in str(
        err.value
    )


def test_missing_chromedriver_names_the_binary(tmp_path):
    fake_chrome = tmp_path / "chromium"
    fake_chrome.write_text("#!/bin/sh\n")
    fake_chrome.chmod(0o755)
    with pytest.raises(BrowserNotFoundError, match="chromedriver.*no-such-driver"):
        find_browser(str(fake_chrome), str(tmp_path / "no-such-driver"))


def test_nothing_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MINIWOB_CHROME_BINARY", raising=False)
    monkeypatch.delenv("MINIWOB_CHROMEDRIVER", raising=False)
    with pytest.raises(BrowserNotFoundError, match="none of chromium, chromium-browser"):
        find_browser()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"scale": 0}, "scale"),
        ({"max_steps": 0}, "max_steps"),
        ({"episode_time_limit_s": 0.1}, "episode_time_limit_s"),
        ({"data_mode": "dev"}, "data_mode"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MiniWoBEnv(**kwargs)


def test_register_rllib_env():
    from ray.tune.registry import ENV_CREATOR, _global_registry

    from envs.miniwob import make_rllib_env, register_rllib_env

    register_rllib_env()
    assert _global_registry.contains(ENV_CREATOR, "miniwob")
    assert ENV_ID in gym.registry and gym.spec(ENV_ID).entry_point == "envs.miniwob:MiniWoBEnv"
    assert callable(make_rllib_env)


# ------------------------------------------------------------------ task ids


@browser
def test_task_ids():
    names = supported_tasks()
    assert len(names) == 125 and "click-test-2" in names
    assert not any(n.startswith("flight.") for n in names)
    for spec in ("click-test-2", "miniwob/click-test-2", "miniwob/click-test-2-v1"):
        assert parse_task_id(spec) == ("click-test-2", None)
    assert parse_task_id("miniwob/click-button/17") == ("click-button", 17)
    with pytest.raises(KeyError, match="did you mean click-test-2"):
        parse_task_id("click-tset-2")
    with pytest.raises(KeyError, match="not supported"):
        parse_task_id("flight.AA")
    with pytest.raises(KeyError, match="int seed"):
        parse_task_id("click-button/abc")


@browser
def test_default_tasks(shared_env):
    ids = shared_env.default_tasks(seeds_per_task=2)
    assert len(ids) == 2 * len(supported_tasks())
    assert ids[:2] == [f"miniwob/{supported_tasks()[0]}/0", f"miniwob/{supported_tasks()[0]}/1"]
    assert shared_env.default_tasks(1, tasks=["click-button"]) == ["miniwob/click-button/0"]


# ------------------------------------------------------------------ episodes


@browser
@pytest.mark.parametrize("task, action", SMOKE, ids=[t for t, _ in SMOKE])
def test_tasks_reset_and_step_with_our_actions(shared_env, task, action):
    obs, info = shared_env.reset(seed=3, options={"task": task})
    assert shared_env.observation_space.contains(obs)
    assert obs["screenshot"].shape == (210, 160, 3) and obs["screenshot"].std() > 0
    assert info["task_id"] == f"miniwob/{task}" and info["seed"] == 3
    assert info["instruction"] and decode_instruction(obs["instruction"]) == info["instruction"]
    obs, reward, terminated, truncated, info = shared_env.step(action)
    assert info["action_valid"], info["action_error"]
    assert "env_error" not in info, info["env_error"]
    assert shared_env.observation_space.contains(obs)
    assert reward in (0.0, 1.0) and not truncated
    if terminated:
        assert info["terminated_by"] == "task" and info["eval_result"] in (0.0, 1.0)


@browser
@pytest.mark.parametrize("task", ["click-test-2", "click-button"])
def test_scripted_policy_solves_by_pixel_clicks(shared_env, task):
    for seed in range(5):
        _, info = shared_env.reset(seed=100 + seed, options={"task": task})
        action = expert_action(shared_env)
        assert action.startswith("pyautogui.click(x=") and "\n" not in action
        _, reward, terminated, _, info = shared_env.step(action)
        assert terminated and info["terminated_by"] == "task", info
        assert reward == info["eval_result"] == 1.0 and info["raw_reward"] == 1.0


@browser
def test_typing_solves_enter_text(shared_env):
    shared_env.reset(seed=7, options={"task": "enter-text"})
    action = expert_action(shared_env)
    assert "pyautogui.write(" in action
    _, reward, terminated, _, info = shared_env.step(action)
    assert terminated and reward == 1.0, info


@browser
def test_wrong_button_scores_zero_and_keeps_raw_reward(shared_env):
    _, info = shared_env.reset(seed=1, options={"task": "click-test-2"})
    wrong = "TWO" if info["fields"]["target"] == "ONE" else "ONE"
    button = next(e for e in shared_env.dom_elements() if e.tag == "button" and e.text == wrong)
    x, y = shared_env.element_center(button)
    _, reward, terminated, _, info = shared_env.step(f"pyautogui.click(x={x}, y={y})")
    assert terminated and reward == 0.0
    assert info["eval_result"] == 0.0 and info["raw_reward"] == -1.0


@browser
def test_keys_reach_the_page(shared_env):
    shared_env.reset(seed=0, options={"task": "enter-text"})
    driver = shared_env.browser.driver
    field = next(e for e in shared_env.dom_elements() if e.tag.startswith("input"))
    x, y = shared_env.element_center(field)
    shared_env.step(f"pyautogui.click(x={x}, y={y}); pyautogui.write('hello')")
    assert driver.execute_script("return document.querySelector('#tt').value") == "hello"
    shared_env.step("pyautogui.hotkey('ctrl', 'a'); pyautogui.press('backspace')")
    assert driver.execute_script("return document.querySelector('#tt').value") == ""
    shared_env.step("pyautogui.write('Ab c'); pyautogui.press(['left', 'left', 'delete'])")
    assert driver.execute_script("return document.querySelector('#tt').value") == "Abc"


@browser
def test_scroll_moves_the_text_area(shared_env):
    shared_env.reset(seed=3, options={"task": "scroll-text"})
    top = "return document.querySelector('#text-area').scrollTop"
    assert shared_env.browser.driver.execute_script(top) == 0
    shared_env.step("pyautogui.scroll(-2, x=60, y=100)")  # 2 clicks down = 40 CSS px
    assert shared_env.browser.driver.execute_script(top) == 40
    shared_env.step("pyautogui.scroll(1)")  # at the mouse
    assert shared_env.browser.driver.execute_script(top) == 20


@browser
def test_rejected_actions_do_nothing_and_count(shared_env):
    obs0, _ = shared_env.reset(seed=2, options={"task": "click-test-2"})
    for action in (
        "import os",
        "pyautogui.click(x=400, y=100)",  # outside the 160x210 screenshot
        "pyautogui.click(x=30, y=100); pyautogui.press('nokey')",  # nothing runs, not even the click
    ):
        obs, reward, terminated, truncated, info = shared_env.step(action)
        assert not info["action_valid"] and info["action_error"]
        assert not terminated and reward == 0.0
        np.testing.assert_array_equal(obs["screenshot"], obs0["screenshot"])
    assert (
        "outside the 160x210" in shared_env.step("pyautogui.click(x=400, y=5)")[4]["action_error"]
    )
    assert info["step"] == 3


@browser
def test_done_fail_wait_and_max_steps(shared_env):
    for special in ("DONE", "FAIL"):
        shared_env.reset(seed=0, options={"task": "click-test-2"})
        _, reward, terminated, truncated, info = shared_env.step(special)
        assert terminated and not truncated and reward == 0.0
        assert info["terminated_by"] == special and info["eval_result"] == 0.0
    shared_env.reset(seed=0, options={"task": "click-test-2"})
    for step in range(1, shared_env.max_steps + 1):
        _, reward, terminated, truncated, info = shared_env.step("WAIT")
        assert not terminated and truncated == (step == shared_env.max_steps)
    assert info["terminated_by"] == "max_steps" and info["eval_result"] == 0.0
    with pytest.raises(AssertionError, match="Call reset"):
        shared_env.step("WAIT")


@browser
def test_seeded_task_id_repeats_the_instance(shared_env):
    first, info = shared_env.reset(seed=1, options={"task": "miniwob/click-button/7"})
    again, info2 = shared_env.reset(seed=2, options={"task": "miniwob/click-button/7"})
    assert info["task_id"] == info2["task_id"] == "miniwob/click-button/7"
    assert info["seed"] == info2["seed"] == 7 and info["instruction"] == info2["instruction"]
    np.testing.assert_array_equal(first["screenshot"], again["screenshot"])
    other, _ = shared_env.reset(seed=8, options={"task": "click-button"})
    assert not np.array_equal(first["screenshot"], other["screenshot"])


@browser
def test_time_limit_is_raised(shared_env):
    shared_env.reset(seed=0, options={"task": "click-test-2"})
    limit = shared_env.browser.driver.execute_script("return core.EPISODE_MAX_TIME;")
    assert limit == 3_600_000  # the page's own default is 10_000 ms

    env = MiniWoBEnv(task="click-test-2", episode_time_limit_s=1, wait_s=1.3)
    try:
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step("WAIT")  # the page times the episode out
        assert terminated and info["terminated_by"] == "task" and reward == 0.0
        assert info["raw_reward"] == -1.0 and info["reason"] == "timed out"
    finally:
        env.close()


@browser
def test_scale_2_doubles_the_frame_and_coordinates():
    env = MiniWoBEnv(task="click-button", scale=2)
    try:
        obs, _ = env.reset(seed=4)
        assert obs["screenshot"].shape == (420, 320, 3)
        action = expert_action(env)
        _, reward, terminated, _, info = env.step(action)
        assert terminated and reward == 1.0, (action, info)
    finally:
        env.close()


@browser
def test_crashed_browser_raises_then_recovers():
    env = MiniWoBEnv(task="click-test-2")
    try:
        env.reset(seed=0)
        env.browser.driver.quit()  # Chromium and chromedriver gone mid-episode
        with pytest.raises(MiniWoBError, match="browser failed in step 1"):
            env.step("pyautogui.click(x=10, y=100)")
        obs, info = env.reset(seed=0)  # a fresh browser
        assert info["instruction"].startswith("Click button")
        assert env.step(expert_action(env))[1] == 1.0
    finally:
        env.close()


@browser
def test_gym_make_and_check_env():
    from gymnasium.utils.env_checker import check_env

    env = gym.make(ENV_ID, task="click-test-2", max_steps=3)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


@browser
def test_time_steps():
    t0 = time.perf_counter()
    result = time_steps("click-test-2", n=5)
    assert time.perf_counter() - t0 < 30
    assert result["task"] == "click-test-2" and result["steps"] == 5
    assert 0 < result["step_ms_median"] <= result["step_ms_p90"] < 5_000
    assert result["steps_per_s"] > 0 and result["reset_ms_median"] > 0


@browser
def test_served_through_the_env_server(shared_env):
    """The fallback of docs/miniwob.md: the same env behind ``python -m envs.server``."""
    import os
    import subprocess
    import sys

    from envs.osworld import OSWorldEnv

    server = subprocess.Popen(
        [sys.executable, "-m", "envs.server", "--env", "envs.miniwob:MiniWoBEnv", "--port", "0",
         "--max-lifetime-s", "60", "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "ARPO_ENV_TOKEN": "miniwob-test-token"},
    )  # fmt: skip
    _, local = shared_env.reset(options={"task": "miniwob/click-button/3"})
    action = expert_action(shared_env)  # the served page is the same instance
    try:
        line = server.stdout.readline()
        assert "listening on" in line, line
        client = OSWorldEnv(
            line.split("listening on", 1)[1].strip(), token="miniwob-test-token", close_remote=True
        )
        obs, info = client.reset(seed=0, options={"task": "miniwob/click-button/3"})
        assert obs["screenshot"].shape == (210, 160, 3)
        assert info["instruction"] == local["instruction"]
        _, reward, terminated, _, info = client.step(action)
        assert terminated and reward == 1.0 and info["eval_result"] == 1.0
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stdout.close()


@browser
def test_reset_replaces_a_browser_that_died_between_episodes():
    env = MiniWoBEnv(task="click-test-2")
    try:
        env.reset(seed=0)
        env.browser.driver.service.stop()  # chromedriver (and its Chromium) killed
        obs, info = env.reset(seed=0)
        assert info["instruction"].startswith("Click button") and env.browser.responsive()
    finally:
        env.close()


# ------------------------------------------------------------------ state and input bounds


def _typed_after_reset(env: MiniWoBEnv, held: str) -> str:
    """Hold ``held`` with keyDown, reset, then type 'abc' into enter-text's field."""
    env.reset(seed=0, options={"task": "enter-text"})
    env.step(f"pyautogui.keyDown('{held}')")
    env.reset(seed=0, options={"task": "enter-text"})
    field = next(e for e in env.dom_elements() if e.tag.startswith("input"))
    x, y = env.element_center(field)
    env.step(f"pyautogui.click(x={x}, y={y}); pyautogui.write('abc')")
    return env.browser.driver.execute_script("return document.querySelector('#tt').value")


@browser
@pytest.mark.parametrize("held", ["shift", "ctrl"])
def test_keys_held_with_keydown_do_not_survive_reset(shared_env, held):
    assert _typed_after_reset(shared_env, held) == "abc"


@browser
def test_the_screenshot_follows_a_scrolled_page(shared_env):
    """click-pie is taller than the window: after a scroll, the screenshot shows what the
    viewport shows, so a click where the screenshot shows a pixel lands on that pixel."""
    shared_env.reset(seed=1, options={"task": "click-pie"})
    driver = shared_env.browser.driver
    driver.execute_script(  # a red bar at document y = 100 px
        "var m = document.createElement('div'); m.style.cssText = 'position:absolute; left:0; "
        "top:100px; width:160px; height:4px; background:rgb(255,0,0); z-index:99999'; "
        "document.body.appendChild(m);"
    )
    obs, *_ = shared_env.step("pyautogui.scroll(-10, x=80, y=150)")
    scrolled = driver.execute_script("return window.scrollY")
    assert scrolled > 0
    shot = obs["screenshot"]
    red = [
        row
        for row in range(shot.shape[0])
        if (shot[row, :, 0] > 250).all() and (shot[row, :, 1:] < 30).all()
    ]
    assert red and red[0] == 100 - scrolled


@browser
def test_a_huge_write_is_refused_before_any_input_is_sent(shared_env):
    from envs.miniwob.env import MAX_TYPED_CHARS

    shared_env.reset(seed=0, options={"task": "enter-text"})
    field = next(e for e in shared_env.dom_elements() if e.tag.startswith("input"))
    x, y = shared_env.element_center(field)
    started = time.perf_counter()
    text = "a" * 65_000
    _, _, _, _, info = shared_env.step(f"pyautogui.click(x={x}, y={y}); pyautogui.write('{text}')")
    assert time.perf_counter() - started < 10
    assert not info["action_valid"] and f"{MAX_TYPED_CHARS}" in info["action_error"]
    value = shared_env.browser.driver.execute_script("return document.querySelector('#tt').value")
    assert value == ""  # nothing was typed, not even a prefix


def test_an_unknown_key_error_prints_no_control_characters():
    from envs.minidesk.interpreter import ActionRejected
    from envs.miniwob.browser import webdriver_key

    keys = {"enter": "\ue007", "\t": "\ue004", "\n": "\ue007", "\b": "\ue003"}
    with pytest.raises(ActionRejected) as caught:
        webdriver_key("no\x1bkey", keys)
    message = str(caught.value)
    assert message.isprintable(), repr(message)
    assert "'no\\x1bkey'" in message and "enter" in message
