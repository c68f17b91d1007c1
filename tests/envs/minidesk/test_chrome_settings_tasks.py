"""OSWorld's Chrome tasks about the browser's own state on MiniDesk: the real task files solved by
the expert through the UI (and 0 for DONE at once and for FAIL; infeasible ones 1 only on FAIL),
the getters and metrics of ``chrome_evaluators.py`` against OSWorld's semantics, the profile, the
settings pages and the browser features they use."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.minidesk import MiniDeskEnv, TaskSet
from envs.minidesk.chrome_evaluators import BROWSER_STATE_GETTERS as G
from envs.minidesk.chrome_evaluators import (
    check_enabled_experiments,
    check_font_size,
    is_cookie_deleted,
    is_expected_bookmarks,
    is_expected_tabs,
    is_shortcut_on_desktop,
)
from envs.minidesk.chrome_profile import ChromeProfile
from envs.minidesk.desktop import Desktop
from envs.minidesk.setup_steps import run_steps
from tests.envs.minidesk.minidesk_helpers import FIXED_NOW, run_expert

TASKS = TaskSet(Path(__file__).parents[3] / "test_data" / "osworld_chrome")
FEASIBLE = [
    "030eeff7-b492-4218-b312-701ec99ee0cc",  # Do Not Track
    "06fe7178-4491-4589-810f-2e2bc9502122",  # reopen the closed tab
    "2ad9387a-65d8-4e33-ad5b-7580065a27ca",  # bookmarks bar folder
    "2ae9ba84-3a0d-4d4c-8338-3a1478dc5fe3",  # profile name
    "3299584d-8f11-4457-bf4c-ce98f7600250",  # startup page
    "35253b65-1c19-4304-8aa4-6884b8218fc0",  # desktop shortcut
    "480bcfea-d68f-4aaa-a0a9-2589ef319381",  # chrome://flags
    "7a5a7856-f1b6-42a4-ade9-1ca81ca0f263",  # bookmark the page
    "7b6c7e24-c58a-49fc-a5bb-d57b80e5b4c3",  # delete Amazon's cookies
    "9656a811-9b5b-4ddf-99c7-5117bcef0626",  # enhanced Safe Browsing
    "99146c54-4f37-4ab8-9327-5f3291665e1e",  # delete site data on close
    "af630914-714e-4a24-a7bb-f9af687d3b91",  # largest font size
    "bb5e4c0d-f964-439c-97b6-bdb9747de3f4",  # Bing
]
INFEASIBLE = [
    "3720f614-37fd-4d04-8a6b-76f54f8c222d",
    "93eabf48-6a27-4cb6-b963-7d5fe1e0d3a9",
    "ae78f875-5b98-4907-bbb5-9c737fc68c03",
]


def _final(env: MiniDeskEnv, task: dict, answer: str) -> float:
    env.reset(seed=0, options={"task": task})
    return env.step(answer)[1]


@pytest.mark.parametrize("key", FEASIBLE + INFEASIBLE)
def test_task_files_expert_done_fail(key: str) -> None:
    task = TASKS[key]
    env = MiniDeskEnv(now=FIXED_NOW, max_steps=30)
    feasible = key in FEASIBLE
    assert run_expert(env, task)[0] == 1.0  # an infeasible task's expert answers FAIL
    assert _final(env, task, "DONE") == 0.0
    assert _final(env, task, "FAIL") == (0.0 if feasible else 1.0)


# ------------------------------------------------------------------------------ getters
def _desk() -> Desktop:
    return Desktop(448, 336, FIXED_NOW)


def test_fresh_profile_getters_match_osworld_defaults() -> None:
    desk = _desk()
    assert G["enable_do_not_track"](desk, {}) == "false"
    assert G["enable_enhanced_safety_browsing"](desk, {}) == "false"
    assert G["new_startup_page"](desk, {}) == "true"  # no "session": a fresh start
    assert G["data_delete_automacally"](desk, {}) == "false"
    assert G["default_search_engine"](desk, {}) == "Google"
    assert G["chrome_font_size"](desk, {})["default_font_size"] == 16
    assert G["enabled_experiments"](desk, {}) == []
    assert G["find_unpacked_extension_path"](desk, {}) == []
    assert G["cookie_data"](desk, {}) == []
    assert G["open_tabs_info"](desk, {}) == []
    assert G["shortcuts_on_desktop"](desk, {}) == {}


def test_getters_read_chromes_keys() -> None:
    desk = _desk()
    chrome = desk.chrome
    chrome.set_pref("enable_do_not_track", True)
    chrome.set_pref("safebrowsing.enhanced", True)
    chrome.set_pref("session.restore_on_startup", 4)
    chrome.set_pref("profile.default_content_setting_values.cookies", 4)
    chrome.set_pref("profile.name", "Thomas")
    chrome.set_search_engine("Bing")
    chrome.set_pref("extensions.settings", {"abc": {"path": "/home/user/Desktop/ext"}})
    chrome.set_flag("chrome-webui-refresh-2023", 2)
    chrome.set_flag("chrome-refresh-2023", 2)
    assert G["enable_do_not_track"](desk, {}) == "true"
    assert G["enable_enhanced_safety_browsing"](desk, {}) == "true"
    assert G["new_startup_page"](desk, {}) == "false"
    assert G["data_delete_automacally"](desk, {}) == "true"
    assert G["profile_name"](desk, {}) == "Thomas"
    assert G["default_search_engine"](desk, {}) == "Bing"
    assert G["find_unpacked_extension_path"](desk, {}) == ["/home/user/Desktop/ext"]
    assert G["enabled_experiments"](desk, {}) == [
        "chrome-refresh-2023@2",
        "chrome-webui-refresh-2023@2",
    ]
    chrome.set_pref("session.restore_on_startup", 5)
    assert G["new_startup_page"](desk, {}) == "true"


def test_set_pref_none_drops_the_setting_and_empty_parents() -> None:
    chrome = ChromeProfile()
    chrome.set_pref("profile.default_content_setting_values.cookies", 4)
    chrome.set_pref("profile.default_content_setting_values.cookies", None)
    assert chrome.preferences == {"profile": {"name": "Person 1"}}


def test_jq_preferences_edit_is_emulated() -> None:
    desk = _desk()
    step = TASKS["3299584d-8f11-4457-bf4c-ce98f7600250"]["config"][1]
    run_steps(desk, [step, {"type": "launch", "parameters": {"command": ["google-chrome"]}}])
    assert desk.chrome.pref("session.restore_on_startup") == 4
    assert [t.url for t in desk.find_app("browser").app.tabs] == ["http://funbrain.com/"]
    assert not ChromeProfile().run_shell(
        "cd /tmp && jq '. + {}' Preferences > t && mv t Preferences"
    )


# ------------------------------------------------------------------------------ metrics
def test_is_expected_tabs_is_order_free_but_counts() -> None:
    rule = {"type": "url", "urls": ["https://www.a.com", "https://b.com/"]}
    tabs = [{"url": "https://b.com"}, {"url": "https://a.com/"}]
    assert is_expected_tabs(tabs, rule) == 1.0
    assert is_expected_tabs([*tabs, {"url": "chrome://newtab/"}], rule) == 0.0
    assert is_expected_tabs(tabs, {"type": "title", "urls": []}) == 0.0


def test_is_expected_bookmarks() -> None:
    chrome = ChromeProfile()
    folders = {"type": "bookmark_bar_folders_names", "names": ["Favorites"]}
    urls = {"type": "bookmark_bar_websites_urls", "urls": ["https://x.org/a/"]}
    assert is_expected_bookmarks([], folders) == 0.0
    assert is_expected_bookmarks(chrome.bookmarks, folders) == 0.0
    chrome.add_folder("Favorites")
    chrome.add_bookmark("https://x.org/a/", "A")
    assert is_expected_bookmarks(chrome.bookmarks, folders) == 1.0
    assert is_expected_bookmarks(chrome.bookmarks, urls) == 1.0
    chrome.add_folder("More")
    assert is_expected_bookmarks(chrome.bookmarks, folders) == 0.0
    with pytest.raises(TypeError):
        is_expected_bookmarks(chrome.bookmarks, {"type": "other"})


def test_is_cookie_deleted_and_clearing() -> None:
    chrome = ChromeProfile()
    rule = {"type": "domains", "domains": [".amazon.com"]}
    chrome.set_cookies("https://www.amazon.com/s?k=x", ("session-id",), now=100.0)
    chrome.set_cookies("https://google.com/", ("NID",), now=50.0)
    rows = [c.row() for c in chrome.cookies]
    assert rows[0][1] == ".amazon.com" and is_cookie_deleted(rows, rule) == 0.0
    chrome.delete_cookies(since=60.0)
    assert [c.host_key for c in chrome.cookies] == [".google.com"]
    assert is_cookie_deleted([c.row() for c in chrome.cookies], rule) == 1.0


def test_is_shortcut_on_desktop_reads_the_name_line() -> None:
    rule = {"type": "name", "name": "Play"}
    assert is_shortcut_on_desktop({"a.desktop": "[Desktop Entry]\nName=Play\n"}, rule) == 1.0
    assert is_shortcut_on_desktop({"a.desktop": "Name=Play 2\n"}, rule) == 0.0
    with pytest.raises(TypeError):
        is_shortcut_on_desktop({}, {"type": "url"})


def test_check_enabled_experiments_and_font_size() -> None:
    rule = {"type": "names", "names": ["a", "b"]}
    assert check_enabled_experiments(["a@2", "b@1"], rule) == 1.0
    assert check_enabled_experiments(["b@2", "a@2"], rule) == 0.0  # in order, as OSWorld
    assert check_font_size({"default_font_size": 24}, {"type": "range", "min": 16, "max": 99}) == 1
    assert check_font_size({"default_font_size": 16}, {"type": "range", "min": 16, "max": 99}) == 0
    assert check_font_size({"default_font_size": 20}, {"type": "value", "value": 20}) == 1.0


# ------------------------------------------------------------------------------ browser
def test_profile_outlives_the_browser_and_shortcut_dialog_cancels() -> None:
    env = MiniDeskEnv(now=FIXED_NOW)
    env.reset(options={"task": TASKS["35253b65-1c19-4304-8aa4-6884b8218fc0"]})
    browser = env.desk.find_app("browser").app
    browser._menu("shortcut")
    assert browser.shortcut.text == "Play Puzzle Game 2048"
    env.step("pyautogui.press('escape')")
    assert browser.shortcut is None and G["shortcuts_on_desktop"](env.desk, {}) == {}
    browser._menu("bookmark")
    run_steps(env.desk, [{"type": "launch", "parameters": {"command": ["pkill", "chrome"]}}])
    assert env.desk.find_app("browser") is None
    assert [b["name"] for b in env.desk.chrome.bookmark_bar()] == ["Play Puzzle Game 2048"]
