"""The pyautogui interpreter is a security boundary: accepted forms, normalization, hostile input."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.minidesk.interpreter import MAX_CODE_CHARS, ActionRejected, Command, interpret

LEAD_FORMS = [
    "pyautogui.click(x=120, y=45)",
    "pyautogui.doubleClick(x=120, y=45)",
    "pyautogui.rightClick(x=120, y=45)",
    "pyautogui.moveTo(x=120, y=45)",
    "pyautogui.moveTo(x=1, y=2)\npyautogui.dragTo(x=30, y=40, duration=0.5, button='left')",
    "pyautogui.hotkey('ctrl', 'c')",
    "pyautogui.press('enter')",
    "pyautogui.keyDown('shift')",
    "pyautogui.keyUp('shift')",
    "pyautogui.write('any text with \\'quotes\\' and \\\\ and unicode é')",
    "pyautogui.scroll(-5, x=100, y=200)",
    "pyautogui.hscroll(5, x=100, y=200)",
    "pyautogui.click(x=1, y=2)\npyautogui.write('a')\npyautogui.press('enter')",
    "WAIT",
    "DONE",
    "FAIL",
]
OSWORLD_FORMS = [
    "pyautogui.click(100, 200)",
    "pyautogui.click(100, 200, button='right')",
    "pyautogui.click(x=5, y=6, clicks=2, interval=0.1)",
    "pyautogui.moveTo(10, 20, duration=0.3)",
    "time.sleep(0.5)",
    "import pyautogui; import time; pyautogui.hotkey('alt', 'f10'); time.sleep(0.5);",
    "import pyautogui; import time; pyautogui.FAILSAFE = False; pyautogui.typewrite('hi', interval=0.05)",
    "pyautogui.press(['tab', 'tab'])",
    "pyautogui.press('down', presses=3)",
    "pyautogui.mouseDown(10, 10); pyautogui.mouseUp(20, 20)",
    "pyautogui.scroll(3)",
]


@pytest.mark.parametrize("code", LEAD_FORMS + OSWORLD_FORMS)
def test_accepts_action_language_and_osworld_forms(code: str) -> None:
    commands = interpret(code)
    assert commands and all(isinstance(c, Command) for c in commands)


def test_normalized_arguments() -> None:
    assert interpret("pyautogui.click(x=120, y=45)") == [
        Command("click", {"x": 120, "y": 45, "button": "left", "clicks": 1})
    ]
    assert interpret("pyautogui.click(100, 200, button='right')")[0].kwargs["button"] == "right"
    assert interpret("pyautogui.doubleClick(x=1, y=2)")[0].kwargs["clicks"] == 2
    assert interpret("pyautogui.write('é\\'\\\\')")[0] == Command("write", {"text": "é'\\"})
    assert interpret("pyautogui.press('enter')")[0] == Command(
        "press", {"keys": ["enter"], "presses": 1}
    )
    assert interpret("pyautogui.hotkey('ctrl', 'c')")[0] == Command(
        "hotkey", {"keys": ["ctrl", "c"]}
    )
    assert interpret("pyautogui.scroll(-5, x=100, y=200)")[0] == Command(
        "scroll", {"clicks": -5, "x": 100, "y": 200}
    )
    assert interpret("time.sleep(0.5)")[0] == Command("sleep", {"seconds": 0.5})
    assert [
        c.name for c in interpret("import pyautogui; import time; pyautogui.hotkey('alt', 'f10')")
    ] == ["hotkey"]
    assert interpret("  DONE \n") == [Command("DONE", {})]


def _canary() -> str:
    return f"/tmp/minidesk_pwned_{uuid.uuid4().hex}"


def hostile_inputs(canary: str) -> list[str]:
    return [
        f"__import__('os').system('touch {canary}')",
        f"import os; os.system('touch {canary}')",
        f"open('{canary}', 'w').write('x')",
        "open('/etc/passwd').read()",
        f"exec(\"open('{canary}', 'w')\")",
        f"eval(\"__import__('os').system('touch {canary}')\")",
        f"pyautogui.write(open('{canary}', 'w'))",
        "pyautogui.__class__.__bases__",
        "pyautogui.__class__.__bases__[0].__subclasses__()",
        "pyautogui.click.__globals__['os'].system('id')",
        "pyautogui.os.system('id')",
        f'pyautogui.write(f\'{{__import__("os").system("touch {canary}")}}\')',
        "pyautogui.write(f'{x}')",
        f"(lambda: __import__('os').system('touch {canary}'))()",
        "pyautogui.click(*[1, 2])",
        "pyautogui.click(**{'x': 1, 'y': 2})",
        "[pyautogui.click(x=i, y=i) for i in range(3)]",
        "pyautogui.write(x)",
        "x = 1",
        "pyautogui.FAILSAFE = __import__('os')",
        "import subprocess",
        "from os import system",
        "import pyautogui as os",
        "for i in range(3): pyautogui.click(x=1, y=1)",
        "while True: pass",
        "def f(): pass",
        "pyautogui.write('a' + 'b')",
        "pyautogui.click(x=1 + 1, y=2)",
        "pyautogui.click(x=(1, (2, 3)), y=2)",
        "pyautogui.write('x'); os.system('id')",
        "pyautogui.screenshot('/tmp/x.png')",
        "pyautogui.alert('hi')",
        "time.time()",
        "print('hi')",
        "pyautogui.write(b'bytes')",
        "pyautogui.write('\\x00')\x00",
        "pyautogui.click(x=1e308 * 10, y=2)",
        "pyautogui.click(x=1, y=2, button='evil')",
        "pyautogui.write('" + "a" * (MAX_CODE_CHARS + 1) + "')",
        "x" * (1 << 20),
        "(" * 1000 + ")" * 1000,
        "pyautogui.write(" + "[" * 1000 + "]" * 1000 + ")",
        "-" * 60_000 + "1",
        "pyautogui.click(x=" + "-" * 1000 + "1, y=2)",
        "",
        "   ",
        "pyautogui.click(x=1, y=2) if True else None",
        "assert False",
        "raise SystemExit",
        "del pyautogui",
        "global x",
        "pyautogui.click(x=1, y=2).real",
        "getattr(pyautogui, 'click')(x=1, y=2)",
        "pyautogui.press('enter', presses=10**9)",
        "time.sleep(10**9)",
        "\n".join(["pyautogui.click(x=1, y=1, clicks=100)"] * 10),
        "pyautogui.press('a', presses=-1)",
    ]


def test_hostile_inputs_are_rejected_without_side_effects() -> None:
    canary = _canary()
    for code in hostile_inputs(canary):
        with pytest.raises(ActionRejected) as err:
            interpret(code)
        assert str(err.value), f"empty reason for {code[:60]!r}"
    assert not os.path.exists(canary)


def test_env_step_turns_hostile_input_into_an_invalid_step(env) -> None:
    canary = _canary()
    obs0, _ = env.reset(options={"task": "minidesk/click_button/easy/0"})
    for code in hostile_inputs(canary):
        obs, reward, terminated, truncated, info = env.step(code)
        assert info["action_error"], code[:60]
        assert info["commands"] == []
        assert reward == 0.0
        assert (obs["screenshot"] == obs0["screenshot"]).all(), (
            "a rejected action changed the screen"
        )
        if terminated or truncated:
            env.reset(options={"task": "minidesk/click_button/easy/0"})
    assert not os.path.exists(canary)


def test_rejected_statement_rejects_the_whole_string(env) -> None:
    env.reset(options={"task": "minidesk/click_button/easy/0"})
    button = env.desk.find(next(w.wid for w in env.desk.widgets if w.kind == "button"))
    x, y = (button.rect[0] + button.rect[2]) // 2, (button.rect[1] + button.rect[3]) // 2
    _, _, _, _, info = env.step(f"pyautogui.click(x={x}, y={y})\nos.system('id')")
    assert info["action_error"] and env.desk.find_app("form").app.doc.clicks == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_ever_raises_action_rejected(text: str) -> None:
    try:
        interpret(text)
    except ActionRejected:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_typed_text_round_trips_through_write(text: str) -> None:
    assert interpret(f"pyautogui.write({text!r})") == [Command("write", {"text": text})]


@pytest.mark.parametrize(
    "task, prelude",
    [
        ("minidesk/type_field/easy/0", []),
        ("minidesk/edit_text/easy/0", []),
        ("f3b19d1e-2d48-44e9-b4e1-defcae1a0197", ["pyautogui.hotkey('ctrl', 'l')"]),
    ],
)
def test_longest_accepted_text_is_handled_quickly(env, task, prelude) -> None:
    import time

    env.reset(options={"task": task})
    for code in prelude:
        env.step(code)
    text = "x" * 30_000 + "\n" + "é" * 30_000
    t0 = time.perf_counter()
    _, _, _, _, info = env.step(f"pyautogui.write({text!r})")
    env.step(
        "pyautogui.click(x=200, y=100)\npyautogui.hotkey('ctrl', 'a')\npyautogui.hotkey('ctrl', 'c')"
    )
    env.step("pyautogui.hotkey('ctrl', 'v')")
    assert info["action_error"] is None and "env_error" not in info
    assert time.perf_counter() - t0 < 3.0


HUGE = "9" * 400
HEX = "0x" + "f" * 400
HEX_HUGE = "0x" + "f" * 5000
"""Past Python's 4,300-digit limit on printing ints: the reason must not print it in decimal."""
EXTREME_NUMBERS = [
    f"pyautogui.click(x={HUGE}, y=1)",
    f"pyautogui.click(x=1, y=-{HUGE})",
    f"pyautogui.click(({HUGE}, 1))",
    f"pyautogui.doubleClick({HEX}, 1)",
    f"pyautogui.click(x={HEX_HUGE}, y=1)",
    f"pyautogui.scroll({HUGE})",
    f"pyautogui.scroll(-{HUGE}, x=1, y=1)",
    f"pyautogui.hscroll(1, x={HUGE}, y=1)",
    f"pyautogui.moveRel({HUGE}, 1)",
    f"pyautogui.moveRel(1, {HEX})",
    f"pyautogui.dragRel(-{HEX}, 1)",
    f"pyautogui.dragTo({HUGE}, 1)",
    "pyautogui.dragTo(x=-1e308, y=1)",
    "pyautogui.moveTo(1e309, 1)",
    "pyautogui.moveTo(100001, 1)",
    f"pyautogui.mouseDown(x=-{HUGE}, y=1)",
    "pyautogui.mouseUp(1, -1e309)",
    f"pyautogui.press('a', presses={HUGE})",
    "pyautogui.press('a', presses=1e309)",
    f"pyautogui.press('a', interval={HUGE})",
    f"pyautogui.write('a', interval={HEX_HUGE})",
    f"pyautogui.hotkey('ctrl', 'c', interval={HUGE})",
    "pyautogui.click(1, 1, duration=1e309)",
    f"pyautogui.click(x=1, y=1, clicks={HUGE})",
    "time.sleep(1e308)",
    f"time.sleep({HUGE})",
    "time.sleep(1e309)",
    "pyautogui.PAUSE = 1e309",
    f"pyautogui.FAILSAFE = {HUGE}",
]


@pytest.mark.parametrize("code", EXTREME_NUMBERS, ids=range(len(EXTREME_NUMBERS)))
def test_numbers_beyond_the_bound_are_rejected_naming_the_value(code: str) -> None:
    with pytest.raises(ActionRejected) as err:
        interpret(code)
    reason = str(err.value)
    assert reason.startswith("line 1: ") and len(reason) < 300, reason[:300]
    assert "digits)" in reason or "inf" in reason or "e+308" in reason or "100001" in reason


def test_env_step_returns_normally_on_extreme_numbers(env) -> None:
    obs0, _ = env.reset(options={"task": "minidesk/click_button/easy/0"})
    for code in EXTREME_NUMBERS + [
        "pyautogui.click(x=" + "-" * 5000 + "1, y=1)",
        "pyautogui.click(x=" + "(" * 500 + "1" + ")" * 500 + ", y=1)",
        "pyautogui.click(x=" + "1+" * 3000 + "1, y=1)",
        "pyautogui.write('" + "a" * 70_000 + "')",
        f"pyautogui.click(x={'1' * 5000}, y=1)",
    ]:
        obs, reward, terminated, truncated, info = env.step(code)
        assert info["action_valid"] is False and info["action_error"], code[:60]
        assert info["commands"] == [] and reward == 0.0
        assert (obs["screenshot"] == obs0["screenshot"]).all()
        if terminated or truncated:
            obs0, _ = env.reset(options={"task": "minidesk/click_button/easy/0"})


def test_numbers_at_the_bound_and_negative_zero_are_accepted() -> None:
    assert interpret("pyautogui.moveTo(-0.0, -0)") == [Command("moveTo", {"x": 0, "y": 0})]
    assert interpret("pyautogui.click(x=100000, y=-100000)")[0].kwargs["x"] == 100_000
    assert interpret("pyautogui.moveRel(0x10, -1e2)") == [
        Command("moveTo", {"x": None, "y": None, "dx": 16, "dy": -100})
    ]
    assert interpret("pyautogui.PAUSE = 0.5; time.sleep(60)") == [
        Command("sleep", {"seconds": 60.0})
    ]
