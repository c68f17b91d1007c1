"""Property-based tests of the action language: totality, round trip, literal typed text."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from rllib_arpo.core.actions import (
    ACTION_KINDS,
    PYAUTOGUI_KEYS,
    SCROLL_DIRECTIONS,
    Action,
    ParsedResponse,
    format_response,
    parse_response,
    to_pyautogui,
)
from rllib_arpo.core.coords import CoordinateSpace

SPACE = CoordinateSpace(448, 336, 448, 336)
KEYS = sorted(PYAUTOGUI_KEYS)

coordinate_x = st.one_of(st.integers(0, 447), st.floats(0, 447).map(lambda v: round(v, 1)))
coordinate_y = st.one_of(st.integers(0, 335), st.floats(0, 335).map(lambda v: round(v, 1)))
points = st.tuples(coordinate_x, coordinate_y)
contents = st.text(max_size=120)


@st.composite
def actions(draw: st.DrawFn) -> Action:
    kind = draw(st.sampled_from(ACTION_KINDS))
    if kind in ("click", "left_double", "right_single", "hover"):
        return Action(kind, start=draw(points))
    if kind == "drag":
        return Action(kind, start=draw(points), end=draw(points))
    if kind == "scroll":
        return Action(kind, start=draw(points), direction=draw(st.sampled_from(SCROLL_DIRECTIONS)))
    if kind == "hotkey":
        return Action(
            kind, keys=tuple(draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4)))
        )
    if kind in ("press", "keydown", "keyup"):
        return Action(kind, keys=(draw(st.sampled_from(KEYS)),))
    if kind == "type":
        return Action(kind, content=draw(contents))
    if kind == "finished":
        return Action(kind, content=draw(st.none() | contents))
    return Action(kind)


thoughts = st.text(max_size=80).filter(
    lambda t: not any(line.lstrip(" \t").startswith("Action") for line in ("\n" + t).split("\n"))
)

FRAGMENTS = [
    "Thought:",
    "Action:",
    "click(",
    "start_box=",
    "'(1,2)'",
    ")",
    "(",
    "'",
    '"',
    "\\",
    "\n",
    "<|box_start|>",
    "<|box_end|>",
    "<point>",
    "type(content=",
    "hotkey(key='ctrl c')",
    ",",
    "finished()",
    "wait()",
    "=",
    "[1,2,3,4]",
    "drag(",
    "end_box=",
    "scroll(",
    "direction='up'",
    "__import__('os')",
    "\x00",
    "é",
    "9" * 400,
    "-",
    ".",
    "e9",
    "<|im_end|>",
]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises_on_random_text(text: str) -> None:
    result = parse_response(text, SPACE)
    assert isinstance(result, ParsedResponse)
    assert result.ok == (result.error is None)
    assert result.ok == bool(result.actions)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join))
def test_parser_never_raises_on_adversarial_fragments(text: str) -> None:
    result = parse_response("Action: " + text, SPACE)
    assert isinstance(result, ParsedResponse)
    if result.ok:
        code = to_pyautogui(result, SPACE)
        assert isinstance(code, str) and code


@settings(max_examples=300, deadline=None)
@given(actions(), thoughts)
def test_round_trip_action_text_action_is_identity(action: Action, thought: str) -> None:
    parsed = parse_response(format_response(action, thought), SPACE)
    assert parsed.ok, parsed.error
    assert parsed.actions == (action,)
    assert parsed.thought == thought.strip()


@settings(max_examples=300, deadline=None)
@given(contents)
def test_any_typed_content_reaches_the_environment_literally(content: str) -> None:
    code = to_pyautogui(
        parse_response(format_response(Action("type", content=content)), SPACE), SPACE
    )
    typed = ""
    for statement in ast.parse(code).body:
        call = statement.value  # type: ignore[attr-defined]
        assert isinstance(call, ast.Call) and not call.keywords and len(call.args) == 1
        assert isinstance(call.args[0], ast.Constant)
        assert ast.unparse(call.func) in ("pyautogui.write", "pyautogui.press")
        typed += call.args[0].value if call.func.attr == "write" else "\n"
    assert typed == content


@settings(max_examples=200, deadline=None)
@given(st.lists(actions().filter(lambda a: not a.is_special), min_size=1, max_size=4))
def test_code_is_only_whitelisted_calls_with_literal_arguments(action_list: list[Action]) -> None:
    code = to_pyautogui(action_list, SPACE)
    for statement in ast.parse(code).body:
        assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
        call = statement.value
        assert ast.unparse(call.func).startswith("pyautogui.")
        for value in list(call.args) + [k.value for k in call.keywords]:
            assert isinstance(value, ast.Constant) or (
                isinstance(value, ast.UnaryOp) and isinstance(value.operand, ast.Constant)
            )
