"""Fuzzing MiniDesk's action interpreter: a rejection or a recorded step, never an exception.

An action string is untrusted model output. ``interpret`` either returns commands or raises
``ActionRejected`` (a one-line reason); ``MiniDeskEnv.step`` turns a rejection into an invalid
step (``info["action_error"]``) and always returns the 5-tuple.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from minidesk_helpers import FIXED_NOW

from envs.minidesk import MiniDeskEnv
from envs.minidesk.interpreter import PYAUTOGUI_FUNCTIONS, ActionRejected, interpret

TASK = "minidesk/click_button/easy/0"
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None)
HUGE = "9" * 400
HEX = "0x" + "f" * 400

literals = st.one_of(
    st.integers(-(10**450), 10**450).map(str),
    st.integers(-2000, 2000).map(str),
    st.floats(allow_nan=False).map(repr).filter(lambda r: r not in ("inf", "-inf")),
    st.text("0123456789", min_size=1, max_size=600).map(lambda d: "1" + d),
    st.text("0123456789abcdef", min_size=1, max_size=600).map(lambda d: "0x" + d),
    st.integers(-400, 400).map(lambda e: f"1e{e}"),
    st.sampled_from(["1e309", "-1e309", "1e308", "-0", "-0.0", "1_000", "0b101", "0o17", "1j"]),
    st.sampled_from(["'left'", "'right'", "'enter'", "True", "None", "(1, 2)", "[3, 'a']"]),
    st.text(max_size=20).map(repr),
)
arguments = st.builds(
    lambda sign, value: sign + value, st.sampled_from(["", "", "-", "+"]), literals
)
KEYWORDS = sorted(
    {p for params in PYAUTOGUI_FUNCTIONS.values() for p in params} | {"tween", "bogus"}
)


@st.composite
def calls(draw: st.DrawFn) -> str:
    """``pyautogui.<fn>(...)`` / ``time.sleep(...)`` statements with extreme numeric literals."""
    statements = []
    for _ in range(draw(st.integers(1, 3))):
        function = draw(
            st.sampled_from([f"pyautogui.{name}" for name in PYAUTOGUI_FUNCTIONS] + ["time.sleep"])
        )
        args = draw(st.lists(arguments, max_size=3))
        names = draw(st.lists(st.sampled_from(KEYWORDS), max_size=3, unique=True))
        kwargs = [f"{name}={draw(arguments)}" for name in names]
        statements.append(f"{function}({', '.join(args + kwargs)})")
    return draw(st.sampled_from(["\n", "; "])).join(statements)


@pytest.fixture(scope="module")
def desk() -> MiniDeskEnv:
    env = MiniDeskEnv(now=FIXED_NOW, max_steps=1_000_000)
    env.reset(options={"task": TASK})
    return env


def check_interpret(code: str) -> None:
    try:
        commands = interpret(code)
    except ActionRejected as rejected:
        reason = str(rejected)
        assert reason and len(reason) < 500, reason[:200]
    else:
        assert isinstance(commands, list)


def check_step(env: MiniDeskEnv, code: str) -> None:
    obs, reward, terminated, truncated, info = env.step(code)
    assert isinstance(reward, float) and obs["screenshot"].shape == (336, 448, 3)
    assert isinstance(info["action_valid"], bool)
    if not info["action_valid"]:
        assert info["action_error"] and info["commands"] == []
    if terminated or truncated:
        env.reset(options={"task": TASK})


EXAMPLES = [
    f"pyautogui.click(x={HUGE}, y=1)",
    f"pyautogui.scroll({HUGE})",
    f"pyautogui.moveRel({HUGE}, 1)",
    f"pyautogui.click(x={HEX}, y=1)",
    f"pyautogui.click(x=0x{'f' * 5000}, y=1)",
    f"pyautogui.dragTo(-{HUGE}, 1)",
    "pyautogui.moveTo(1e309, -1e309)",
    f"pyautogui.mouseDown(x={HUGE}, y=1.5)",
    f"pyautogui.press('a', presses={HUGE}, interval=1e308)",
    "time.sleep(1e308)",
    "pyautogui.click(x=" + "-" * 5000 + "1, y=1)",
    "pyautogui.write('" + "a" * 70_000 + "')",
]


def with_examples(test):
    for code in EXAMPLES:
        test = example(code)(test)
    return test


@FUZZ
@given(st.text(max_size=300))
@with_examples
def test_interpret_of_arbitrary_text_only_rejects(code: str) -> None:
    check_interpret(code)


@FUZZ
@given(calls())
@with_examples
def test_interpret_of_pyautogui_calls_with_extreme_numbers_only_rejects(code: str) -> None:
    check_interpret(code)


@settings(FUZZ, max_examples=60)
@given(st.text(max_size=200) | calls())
@with_examples
def test_env_step_always_returns(desk: MiniDeskEnv, code: str) -> None:
    check_step(desk, code)
