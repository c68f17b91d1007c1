"""Fuzzing the parser with extreme numbers: a clear error or a valid action, never an exception.

Model output is untrusted. Whatever the text, ``parse_response`` returns a ``ParsedResponse``
(``error`` one line, naming the bad value) and ``to_pyautogui`` turns every valid answer into code.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rllib_arpo.core.actions import (
    ACTION_ALIASES,
    ACTION_KINDS,
    SCROLL_DIRECTIONS,
    ParsedResponse,
    parse_response,
    to_pyautogui,
)
from rllib_arpo.core.coords import CoordinateSpace

SPACES = [
    CoordinateSpace(448, 336, 448, 336),
    CoordinateSpace.for_screen(1920, 1080),
    CoordinateSpace.for_screen(1920, 1080, convention="relative1000"),
    CoordinateSpace(1, 1, 28, 28),
]
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None)
HUGE = "9" * 400


def rarely(strategy: st.SearchStrategy, otherwise: object) -> st.SearchStrategy:
    """``strategy`` one time in ten, else ``otherwise`` (so most answers reach the numbers)."""
    return st.integers(0, 9).flatmap(lambda n: strategy if n == 9 else st.just(otherwise))


digits = st.text("0123456789", min_size=1, max_size=600)
numbers = st.one_of(
    st.integers(-(10**450), 10**450).map(str),
    st.integers(10**20, 10**450).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.builds(
        lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
        st.sampled_from(["", "-", "+"]),
        digits,
        st.sampled_from(["", "."]) | digits.map(lambda d: "." + d),
        st.sampled_from(["", "e309", "E-400", "e99999999999999999999"])
        | st.integers(-400, 400).map(lambda e: f"e{e}"),
    ),
    rarely(st.sampled_from(["nan", "inf", "-inf", "0x1f", "1_000", "1e", ""]), "-0"),
    st.sampled_from(["-0", "+0.0", ".5", "1.", "1e309", "1e308", "100000", "-100001"]),
    st.integers(-1200, 1200).map(str),
)


@st.composite
def boxes(draw: st.DrawFn) -> str:
    count = draw(rarely(st.sampled_from([1, 3, 5]), 2)) if draw(st.booleans()) else 4
    values = [draw(numbers) for _ in range(count)]
    form = draw(
        st.sampled_from(["({})", "[{}]", "<|box_start|>({})<|box_end|>", "<point>{}</point>"])
    )
    separator = " " if form.startswith("<point>") else draw(st.sampled_from([",", ", "]))
    return form.format(separator.join(values))


KWARGS = {
    **{kind: ("start_box",) for kind in ("click", "left_single", "left_double", "right_single")},
    "hover": ("point",),
    "drag": ("start_box", "end_box"),
    "select": ("start_point", "end_point"),
    "scroll": ("start_box", "direction"),
    **{kind: ("key",) for kind in ("hotkey", "press", "keydown", "keyup")},
    "type": ("content",),
    "finished": ("content",),
    "wait": (),
    "call_user": (),
}
"""The arguments each action takes (some under their aliases): most answers are well formed."""
assert set(KWARGS) == set(ACTION_KINDS) | set(ACTION_ALIASES)
texts = st.sampled_from(["ctrl c", "Enter", "f" + HUGE, "9" * 50, *SCROLL_DIRECTIONS])


def quoted(value: str) -> str:
    """A single-quoted argument in UI-TARS's escapes (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def answers(draw: st.DrawFn) -> str:
    """UI-TARS-shaped answers: ``Thought: ...\\nAction: name(k='v', ...)``, extreme points."""
    calls = []
    for _ in range(draw(st.integers(1, 2))):
        name = draw(rarely(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), None))
        name = name or draw(st.sampled_from(sorted(KWARGS)))
        extra = draw(rarely(st.sampled_from(["end_box", "direction", "key", "button"]), None))
        kwargs = []
        for key in dict.fromkeys(KWARGS.get(name, ()) + ((extra,) if extra else ())):
            is_point = key.endswith(("box", "point"))
            value = draw(boxes() if is_point else texts | st.text(max_size=12))
            kwargs.append(f"{key}={quoted(value)}")
        calls.append(f"{name}({', '.join(kwargs)})")
    thought = draw(st.text(max_size=20)).replace("Action", "")
    return f"Thought: {thought}\nAction: " + "\n\n".join(calls)


def check_total(text: str) -> None:
    for space in (None, *SPACES):
        parsed = parse_response(text, space)
        assert isinstance(parsed, ParsedResponse)
        if parsed.ok:
            assert parsed.actions
            for target in SPACES:
                assert isinstance(to_pyautogui(parsed, target), str)
        else:
            assert parsed.actions == () and parsed.format_reward == -1.0
            assert isinstance(parsed.error, str) and parsed.error and "\n" not in parsed.error
            assert len(parsed.error) < 500, parsed.error[:200]


@FUZZ
@given(st.text(max_size=300))
@example("Thought: x\nAction: click(start_box='(" + HUGE + ",1)')")
@example("Action: click(start_box='(nan,1)')")
@example("Action: click(start_box='(inf,1)')")
@example("Action: click(start_box='(1e309,1)')")
@example("Action: click(start_box='(-0,-0.0)')")
@example("Action: click(start_box='(1e2,2E1)')")
@example("Action: click(start_box='(1" + "0" * 5000 + ",1)')")
def test_parse_response_of_arbitrary_text_never_raises(text: str) -> None:
    check_total(text)


@FUZZ
@given(answers())
@example("Action: click(start_box='<|box_start|>(" + HUGE + ",1)<|box_end|>')")
@example("Action: click(start_box='<point>" + HUGE + " 1</point>')")
@example("Action: click(start_box='[" + HUGE + ",1,2,3]')")
@example("Action: click(start_box='(1e308,1e308,1e308,1e308)')")
@example("Action: drag(start_box='(1,1)', end_box='(-" + HUGE + ",1)')")
@example("Action: scroll(start_box='(" + HUGE + "e2,1)', direction='down')")
@example("Action: hotkey(key='" + "f" + HUGE + "')")
@example("Action: press(key='" + HUGE + "')")
@example("Action: " + "k" * 5000 + "()")
def test_parse_response_of_ui_tars_shaped_answers_never_raises(text: str) -> None:
    check_total(text)
