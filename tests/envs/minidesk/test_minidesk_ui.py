"""Widgets, apps and renderer: behaviour a person would expect from a desktop."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from minidesk_helpers import FIXED_NOW, to_code

from envs.minidesk import FAMILIES, MiniDeskEnv, expert_action, task_id
from envs.minidesk.apps.browser import Browser, display_url
from envs.minidesk.apps.editor import Editor
from envs.minidesk.apps.files import Files
from envs.minidesk.apps.form import FormApp
from envs.minidesk.desktop import Desktop
from envs.minidesk.render import Renderer
from envs.minidesk.widgets import GRID, TextBuffer, centre


def click(desk: Desktop, wid: str, **kw) -> None:
    w = desk.find(wid)
    assert w is not None, wid
    desk.click(*centre(w.rect), **kw)


def test_text_buffer_editing_and_clipboard() -> None:
    clip = [""]
    buf = TextBuffer("hello world")
    buf.key("a", frozenset({"ctrl"}), clip)
    buf.key("c", frozenset({"ctrl"}), clip)
    assert clip[0] == "hello world"
    buf.insert("bye")
    assert buf.text == "bye"
    buf.key("v", frozenset({"ctrl"}), clip)
    assert buf.text == "byehello world"
    buf.key("z", frozenset({"ctrl"}), clip)
    assert buf.text == "bye"
    buf.key("left", frozenset({"shift"}), clip)
    assert buf.selected_text() == "e"
    buf.key("backspace", frozenset(), clip)
    assert buf.text == "by"
    assert TextBuffer("x").key("enter", frozenset(), clip) == "enter"


def _form_desk(elements, **spec) -> tuple[Desktop, FormApp]:
    desk = Desktop(448, 336, FIXED_NOW, kiosk=True)
    app = FormApp({"title": "t", "elements": elements, **spec}, FIXED_NOW.date())
    desk.open_window(app)
    desk.build()
    return desk, app


def test_form_widgets_respond_to_mouse_and_keyboard() -> None:
    desk, app = _form_desk(
        [
            {
                "kind": "select",
                "id": "s",
                "name": "s",
                "rect": [8, 8, 200, 28],
                "options": ["a", "b", "c"],
            },
            {"kind": "input", "id": "i", "name": "i", "rect": [8, 40, 200, 60], "action": "submit"},
            {
                "kind": "slider",
                "id": "sl",
                "name": "sl",
                "rect": [8, 70, 208, 98],
                "min": 0,
                "max": 10,
            },
            {"kind": "date", "id": "d", "name": "d", "rect": [220, 8, 440, 28]},
            {
                "kind": "list",
                "id": "l",
                "name": "l",
                "rect": [220, 150, 440, 250],
                "rows": 5,
                "options": [str(i) for i in range(30)],
            },
        ]
    )
    click(desk, "w1.s")
    click(desk, "w1.s.opt.b")
    assert app.doc.values["s"] == "b" and app.doc.open is None
    click(desk, "w1.i")
    desk.type("abc")
    desk.hotkey(["ctrl", "a"])
    desk.type("xyz\n")
    assert app.doc.submitted["i"] == "xyz"
    knob_x = 8 + 6 + 200 - 12
    desk.move(14, 84)
    desk.drag(knob_x, 84)
    assert app.doc.values["sl"] == 10
    click(desk, "w1.d")
    click(desk, "w1.d.next")
    click(desk, "w1.d.day.2026-12-24")
    assert app.doc.values["d"] == "2026-12-24"
    assert desk.find("w1.l.item.20") is None
    desk.scroll(-5, 300, 200)
    desk.scroll(-5, 300, 200)
    assert desk.find("w1.l.item.12") is not None
    click(desk, "w1.l.item.12")
    assert app.doc.values["l"] == "12"


def test_modal_dialog_blocks_the_page() -> None:
    desk, app = _form_desk(
        [
            {
                "kind": "button",
                "id": "b",
                "text": "Go",
                "action": "record",
                "rect": [8, 250, 80, 270],
            },
            {
                "kind": "dialog",
                "id": "p",
                "name": "p",
                "text": "Hi",
                "options": [["close", "Close"]],
            },
        ]
    )
    click(desk, "w1.b")
    assert app.doc.clicks == []
    click(desk, "w1.p.close")
    click(desk, "w1.b")
    assert app.doc.clicks == ["Go"]


def test_browser_navigation_history_and_clearing() -> None:
    desk = Desktop(448, 336, FIXED_NOW)
    browser = Browser(desk)
    desk.open_window(browser)
    browser.open_tab("https://seatgeek.com/")
    desk.build()
    help_link = next(w for w in desk.widgets if w.kind == "link" and w.text == "Help")
    desk.click(*centre(help_link.rect))
    assert browser.current.url == "https://support.seatgeek.com/hc/en-us"
    click(desk, "w1.browser.back")
    assert browser.current.url == "https://seatgeek.com/"
    click(desk, "w1.browser.forward")
    assert "support.seatgeek" in browser.current.url
    assert [e.url for e in desk.history][-2:] == [
        "https://seatgeek.com/",
        "https://support.seatgeek.com/hc/en-us",
    ]
    click(desk, "w1.browser.address")
    desk.type("apple.com\n")
    assert (
        browser.current.url == "https://apple.com"
        and display_url("https://www.apple.com/") == "apple.com"
    )
    click(desk, "w1.browser.menu")
    click(desk, "w1.browser.menu.clear")
    assert browser.current.url == "chrome://settings/clearBrowserData"
    time_range = next(w for w in desk.widgets if w.kind == "select")
    desk.click(*centre(time_range.rect))
    click(desk, time_range.wid + ".opt.all")
    clear = next(w for w in desk.widgets if w.kind == "button" and w.text == "Clear data")
    desk.click(*centre(clear.rect))
    assert desk.history == []
    desk.hotkey(["ctrl", "t"])
    assert len(browser.tabs) == 3 and browser.active == 2
    desk.hotkey(["ctrl", "w"])
    assert len(browser.tabs) == 2


def test_editor_and_file_manager() -> None:
    desk = Desktop(448, 336, FIXED_NOW)
    desk.files["/home/user/a.txt"] = "one\ntwo"
    desk.files["/home/user/b.txt"] = "bee"
    files = Files()
    desk.open_window(files)
    desk.build()
    click(desk, "w1.files.file.a.txt", clicks=2)
    editor = desk.active.app
    assert isinstance(editor, Editor) and editor.buf.text == "one\ntwo"
    desk.hotkey(["ctrl", "end"])
    desk.type("\nthree")
    assert editor.modified and editor.title().startswith("*")
    desk.hotkey(["ctrl", "s"])
    assert desk.files["/home/user/a.txt"] == "one\ntwo\nthree" and not editor.modified
    desk.raise_window(desk.windows[0])
    desk.build()
    click(desk, "w1.files.file.b.txt", button="right")
    click(desk, "w1.files.menu.delete")
    assert "/home/user/b.txt" not in desk.files and "/home/user/b.txt" in desk.trash


def test_window_management_keys() -> None:
    desk = Desktop(448, 336, FIXED_NOW)
    win = desk.open_window(Browser(desk))
    win.app.open_tab()
    assert not win.maximized
    desk.hotkey(["alt", "f10"])
    assert win.maximized
    desk.build()
    click(desk, "w1.close")
    assert desk.windows == []


@pytest.mark.parametrize("level, size", [("grid112", 112), ("grid224", 224)])
@pytest.mark.parametrize("family", FAMILIES)
def test_grid_levels_snap_targets_to_28px(family: str, level: str, size: int) -> None:
    env = MiniDeskEnv(screen_size=(size, size), now=FIXED_NOW)
    for seed in range(5):
        env.reset(options={"task": task_id(family, level, seed)})
        targets = [
            w
            for w in env.desk.widgets
            if w.kind
            in ("button", "checkbox", "select", "option", "tab", "item", "link", "slider", "input")
        ]
        if family == "edit_text":
            continue  # typing only: no target to point at
        assert targets, (family, level)
        for w in targets:
            x0, y0, x1, y1 = w.rect
            assert y0 % GRID == 0 and y1 % GRID == 0, (family, w.wid, w.rect)
            if w.kind != "item":  # list rows leave room for the scrollbar on the right
                assert x0 % GRID == 0 and x1 % GRID == 0, (family, w.wid, w.rect)


def _episode_frames_match_fresh_renders(env: MiniDeskEnv, task: str) -> None:
    obs, _ = env.reset(options={"task": task})
    while True:
        fresh = Renderer(*env.screen_size, env.desk.theme.font_size)
        assert np.array_equal(obs["screenshot"], fresh.render(env.desk.widgets, env.desk.mouse)), (
            task,
            env.steps,
        )
        obs, _, terminated, truncated, _ = env.step(to_code(env, expert_action(env)))
        if terminated or truncated:
            break


@pytest.mark.parametrize("family", FAMILIES)
def test_incremental_frames_equal_fresh_renders(env, family: str) -> None:
    for level in ("easy", "medium", "hard"):
        _episode_frames_match_fresh_renders(env, task_id(family, level, 5))


def test_incremental_frames_equal_fresh_renders_on_test_data(env) -> None:
    for key in env.task_set:
        _episode_frames_match_fresh_renders(env, key)
    assert env.renderer.partial_renders > 0


def test_cursor_is_drawn(env) -> None:
    env.reset(options={"task": task_id("click_button", "easy", 0)})
    a, *_ = env.step("pyautogui.moveTo(x=5, y=200)")
    b, *_ = env.step("pyautogui.moveTo(x=300, y=200)")
    assert not np.array_equal(a["screenshot"], b["screenshot"])
    assert (a["screenshot"][201, 6] == 255).all() or (a["screenshot"][203, 6] == 255).all()


def test_clock_comes_from_the_env(env) -> None:
    env.reset(
        options={
            "task": "fc6d8143-9452-4171-9459-7f515143419a",
            "now": dt.datetime(2027, 1, 31, 8, 0),
        }
    )
    assert env.desk.now.year == 2027


_KEYS = [
    "enter",
    "tab",
    "backspace",
    "delete",
    "left",
    "right",
    "home",
    "end",
    "escape",
    "pagedown",
    "a",
]
_HOTKEYS = [("ctrl", "a"), ("ctrl", "c"), ("ctrl", "v"), ("ctrl", "z"), ("ctrl", "s"), ("ctrl", "t"),
            ("ctrl", "w"), ("ctrl", "l"), ("ctrl", "h"), ("ctrl", "tab"), ("alt", "left"), ("alt", "f4"),
            ("alt", "f10"), ("alt", "tab"), ("shift", "end")]  # fmt: skip


def _random_action(rng: np.random.Generator, w: int, h: int) -> str:
    x, y, kind = int(rng.integers(w)), int(rng.integers(h)), int(rng.integers(8))
    if kind < 3:
        return f"pyautogui.click(x={x}, y={y}, clicks={1 + int(rng.integers(2))})"
    if kind == 3:
        return f"pyautogui.rightClick(x={x}, y={y})"
    if kind == 4:
        return f"pyautogui.moveTo(x={x}, y={y})\npyautogui.dragTo(x={int(rng.integers(w))}, y={y})"
    if kind == 5:
        return f"pyautogui.scroll({int(rng.integers(-10, 10))}, x={x}, y={y})"
    if kind == 6:
        return f"pyautogui.write({''.join(rng.choice(list('ab c1é'), 5))!r})"
    if rng.random() < 0.5:
        return f"pyautogui.press({str(rng.choice(_KEYS))!r})"
    return (
        "pyautogui.hotkey(" + ", ".join(map(repr, _HOTKEYS[int(rng.integers(len(_HOTKEYS)))])) + ")"
    )


def test_random_actions_never_break_the_desktop(env) -> None:
    rng = np.random.default_rng(7)
    tasks = [
        task_id(f, lvl, 11) for f in FAMILIES for lvl in ("easy", "hard")
    ] + env.task_set.keys()
    for task in tasks:
        env.reset(options={"task": task})
        for _ in range(12):
            _, _, terminated, truncated, info = env.step(_random_action(rng, 448, 336))
            assert "env_error" not in info and "eval_error" not in info, (task, info)
            if terminated or truncated:
                break
