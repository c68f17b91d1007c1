"""The UI-TARS action language: grammar, coordinates, pyautogui code, totality and safety."""

from __future__ import annotations

import ast
import pathlib

import pytest

from rllib_arpo.core import actions as actions_module
from rllib_arpo.core.actions import (
    ENV_DONE,
    ENV_FAIL,
    ENV_WAIT,
    MAX_RESPONSE_CHARS,
    Action,
    format_action,
    format_response,
    parse_response,
    to_pyautogui,
)
from rllib_arpo.core.coords import CoordinateSpace, smart_resize

SCREEN = CoordinateSpace.for_screen(1920, 1080)  # model frame 1932x1092
SAME = CoordinateSpace(448, 336, 448, 336)  # model frame == screen


def parse_one(text: str, space: CoordinateSpace | None = SAME) -> Action:
    parsed = parse_response(text, space)
    assert parsed.ok, parsed.error
    assert len(parsed.actions) == 1
    return parsed.actions[0]


# ---------------------------------------------------------------- grammar


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Action: click(start_box='(10,20)')", Action("click", start=(10, 20))),
        ("Action: left_single(start_box='(10,20)')", Action("click", start=(10, 20))),
        ("Action: left_double(start_box='(10,20)')", Action("left_double", start=(10, 20))),
        ("Action: right_single(start_box='(10,20)')", Action("right_single", start=(10, 20))),
        ("Action: hover(start_box='(10,20)')", Action("hover", start=(10, 20))),
        (
            "Action: drag(start_box='(1,2)', end_box='(30,40)')",
            Action("drag", start=(1, 2), end=(30, 40)),
        ),
        (
            "Action: select(start_box='(1,2)', end_box='(30,40)')",
            Action("drag", start=(1, 2), end=(30, 40)),
        ),
        ("Action: hotkey(key='ctrl c')", Action("hotkey", keys=("ctrl", "c"))),
        ("Action: hotkey(key='Ctrl+Shift+T')", Action("hotkey", keys=("ctrl", "shift", "t"))),
        ("Action: press(key='Enter')", Action("press", keys=("enter",))),
        ("Action: keydown(key='shift')", Action("keydown", keys=("shift",))),
        ("Action: keyup(key='shift')", Action("keyup", keys=("shift",))),
        ("Action: press(key='arrowdown')", Action("press", keys=("down",))),
        ("Action: type(content='hello')", Action("type", content="hello")),
        ("Action: type(content='')", Action("type", content="")),
        (
            "Action: scroll(start_box='(5,6)', direction='down')",
            Action("scroll", start=(5, 6), direction="down"),
        ),
        (
            "Action: scroll(start_box='(5,6)', direction='Left')",
            Action("scroll", start=(5, 6), direction="left"),
        ),
        ("Action: wait()", Action("wait")),
        ("Action: finished(content='done')", Action("finished", content="done")),
        ("Action: finished()", Action("finished")),
        ("Action: call_user()", Action("call_user")),
    ],
)
def test_every_action_of_the_grammar_parses(text: str, expected: Action) -> None:
    assert parse_one("Thought: t\n" + text) == expected


@pytest.mark.parametrize(
    "box",
    [
        "(100,200)",
        "( 100 , 200 )",
        "<|box_start|>(100,200)<|box_end|>",
        "[90,190,110,210]",
        "<|box_start|>[90,190,110,210]<|box_end|>",
        "(90,190,110,210)",
        "<point>100 200</point>",
        "(100.0,200.0)",
    ],
)
def test_point_forms_all_mean_the_same_point(box: str) -> None:
    action = parse_one(f"Action: click(start_box='{box}')")
    assert action.start == (100, 200)


def test_point_keyword_aliases() -> None:
    assert parse_one("Action: click(point='<point>7 8</point>')").start == (7, 8)
    drag = parse_one("Action: drag(start_point='(1,2)', end_point='(3,4)')")
    assert drag == Action("drag", start=(1, 2), end=(3, 4))


def test_double_quotes_and_escapes_in_content() -> None:
    assert parse_one('Action: type(content="say \\"hi\\"")').content == 'say "hi"'
    assert parse_one("Action: type(content='it\\'s')").content == "it's"
    assert parse_one("Action: type(content='a\\\\b')").content == "a\\b"
    assert parse_one("Action: type(content='line1\\nline2\\n')").content == "line1\nline2\n"
    # an unknown escape keeps its backslash (Windows paths survive)
    assert parse_one("Action: type(content='C:\\Users\\x')").content == "C:\\Users\\x"


def test_thought_is_kept_and_trailing_special_tokens_are_ignored() -> None:
    parsed = parse_response(
        "Thought: The OK button is at the bottom.\nIt is blue.\n"
        "Action: click(start_box='(3,4)')<|im_end|>",
        SAME,
    )
    assert parsed.ok
    assert parsed.thought == "The OK button is at the bottom.\nIt is blue."


def test_several_actions_in_one_answer_run_in_order() -> None:
    parsed = parse_response(
        "Thought: select all then copy\nAction: hotkey(key='ctrl a')\n\nhotkey(key='ctrl c')", SAME
    )
    assert parsed.ok
    assert [a.keys for a in parsed.actions] == [("ctrl", "a"), ("ctrl", "c")]
    assert (
        to_pyautogui(parsed, SAME) == "pyautogui.hotkey('ctrl', 'a')\npyautogui.hotkey('ctrl', 'c')"
    )


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "no line starting with 'Action:'"),
        ("Thought: I am thinking", "no line starting with 'Action:'"),
        ("Action:", "empty Action section"),
        ("Action: teleport(start_box='(1,2)')", "unknown action 'teleport'"),
        ("Action: click()", "click needs start point"),
        ("Action: click(start_box=(1,2))", "must be a quoted string"),
        ("Action: click(start_box='(1,2)'", "expected ',' or ')'"),
        ("Action: click(start_box='(1,2)", "unterminated string"),
        ("Action: click(start_box='(1,2,3)')", "point must be"),
        ("Action: click(start_box='(a,b)')", "point must be"),
        ("Action: click(start_box='(1,2)', start_box='(3,4)')", "given twice"),
        ("Action: click(start_box='(1,2)', point='(3,4)')", "twice (under two names)"),
        ("Action: click(start_box='(1,2)', button='left')", "unexpected argument 'button'"),
        ("Action: hotkey(key='ctrl banana')", "unknown key 'banana'"),
        ("Action: hotkey(key='')", "needs a key"),
        ("Action: press(key='ctrl c')", "at most 1 key"),
        ("Action: hotkey(key='ctrl shift alt win c')", "at most 4 key"),
        ("Action: scroll(start_box='(1,2)', direction='sideways')", "direction must be one of"),
        ("Action: scroll(direction='down')", "scroll() needs start_box"),
        ("Action: type()", "type needs content"),
        ("Action: wait()\n\nclick(start_box='(1,2)')", "must be the only action"),
        ("Action: click(start_box='(1,2)') and more", "expected '(' after 'and'"),
        ("Action: click(start_box='(99999,2)')", "outside the 448x336 image"),
        ("Action: click(start_box='(-50,2)')", "outside the 448x336 image"),
    ],
)
def test_malformed_answers_fail_with_a_reason(text: str, reason: str) -> None:
    parsed = parse_response(text, SAME)
    assert not parsed.ok
    assert parsed.actions == ()
    assert reason in parsed.error
    assert parsed.format_reward == -1.0


def test_parser_is_total_on_non_text_and_huge_input() -> None:
    assert not parse_response(None).ok  # type: ignore[arg-type]
    assert not parse_response(b"Action: wait()").ok  # type: ignore[arg-type]
    huge = "Action: type(content='" + "a" * MAX_RESPONSE_CHARS + "')"
    assert "longer than" in parse_response(huge).error


# ---------------------------------------------------------------- extreme numbers

HUGE = "9" * 400
"""Too large for a float: ``float(int(HUGE))`` raises OverflowError."""
HUGE_SHOWN = "9" * 20 + "... (400 digits)"
RELATIVE = CoordinateSpace.for_screen(1920, 1080, convention="relative1000")
POINT_CALLS = [
    "click(start_box='{box}')",
    "left_single(start_box='{box}')",
    "left_double(point='{box}')",
    "right_single(start_point='{box}')",
    "hover(start_box='{box}')",
    "drag(start_box='{box}', end_box='(1,2)')",
    "select(start_box='(1,2)', end_box='{box}')",
    "scroll(start_box='{box}', direction='down')",
]


@pytest.mark.parametrize("call", POINT_CALLS)
@pytest.mark.parametrize(
    "box, shown",
    [
        (f"({HUGE},1)", HUGE_SHOWN),
        (f"(1,-{HUGE})", "-" + "9" * 19 + "... (400 digits)"),
        (f"<|box_start|>({HUGE},1)<|box_end|>", HUGE_SHOWN),
        (f"<point>{HUGE} 1</point>", HUGE_SHOWN),
        (f"[{HUGE},1,2,3]", HUGE_SHOWN),
        (f"(1,2,3,{HUGE})", HUGE_SHOWN),
        (f"({HUGE}.5,1)", "9" * 20 + "... (401 digits)"),
        (f"({HUGE}e2,1)", "9" * 20 + "... (401 digits)"),
        ("(1" + "0" * 5000 + ",1)", "1" + "0" * 19 + "... (5001 digits)"),
    ],
)
def test_number_too_large_for_a_float_is_a_parse_failure_naming_it(
    call: str, box: str, shown: str
) -> None:
    for space in (SAME, RELATIVE, None):
        parsed = parse_response("Thought: x\nAction: " + call.format(box=box), space)
        assert not parsed.ok and parsed.actions == ()
        assert shown in parsed.error and "\n" not in parsed.error
        assert len(parsed.error) < 300
        assert parsed.format_reward == -1.0


@pytest.mark.parametrize(
    "box, shown",
    [
        ("(nan,1)", "nan"),
        ("(inf,1)", "inf"),
        ("(1,-inf)", "-inf"),
        ("(1e309,1)", "1e309"),
        ("(1e99999999999999999999,1)", "1e99999999999999999999"),
        ("(1e308,1e308,1e308,1e308)", "1e308"),
        ("(100001,1)", "100001"),
        ("(1e5,-1e6)", "-1e6"),
        ("<|box_start|>(100000.5,1)<|box_end|>", "100000.5"),
    ],
)
def test_non_finite_or_out_of_range_numbers_are_parse_failures(box: str, shown: str) -> None:
    for space in (SAME, RELATIVE, None):
        parsed = parse_response(f"Action: click(start_box='{box}')", space)
        assert not parsed.ok and shown in parsed.error, (space, parsed.error)


@pytest.mark.parametrize(
    "box, point",
    [
        ("(-0,1)", (0, 1)),
        ("(-0.0,-0.0)", (0.0, 0.0)),
        ("(1e2,2E1)", (100.0, 20.0)),
        ("(+5,.5)", (5, 0.5)),
        ("(1e-400,1)", (0.0, 1)),
        ("(0." + "9" * 400 + ",1)", (1.0, 1)),
        ("(" + "0" * 5000 + "7,1)", (7, 1)),
    ],
)
def test_unusual_but_valid_number_forms_still_parse(box: str, point: tuple[float, float]) -> None:
    action = parse_one(f"Action: click(start_box='{box}')")
    assert action.start == point
    assert to_pyautogui(parse_response(f"Action: click(start_box='{box}')", SAME), SAME)


def test_the_coordinate_bound_is_inclusive_without_a_space() -> None:
    parsed = parse_response("Action: drag(start_box='(100000,-100000)', end_box='(0,0)')")
    assert parsed.ok and parsed.actions[0].start == (100000, -100000)
    assert to_pyautogui(parsed, SCREEN).startswith("pyautogui.moveTo(x=1919, y=0)")


def test_actions_with_points_beyond_the_bound_cannot_be_constructed() -> None:
    with pytest.raises(ValueError, match="1e\\+308"):
        Action("click", start=(1e308, 1.0))
    with pytest.raises(ValueError, match="digits"):
        Action("drag", start=(1, 1), end=(1, 10**400))
    with pytest.raises(ValueError, match="inf"):
        Action("scroll", start=(float("-inf"), 1), direction="up")


@pytest.mark.parametrize("name", ["k" * 5000, "ctrl " + "x" * 5000])
def test_huge_names_are_shortened_in_the_reason(name: str) -> None:
    for text in (
        f"Action: hotkey(key='{name}')",
        f"Action: {name.replace(' ', '_')}()",
        f"Action: click({name.replace(' ', '_')}='(1,2)')",
        f"Action: scroll(start_box='(1,2)', direction='{name}')",
    ):
        parsed = parse_response(text, SAME)
        assert not parsed.ok and len(parsed.error) < 300, parsed.error[:100]


# ---------------------------------------------------------------- coordinates


@pytest.mark.parametrize(
    "height, width, expected",
    [
        (1080, 1920, (1092, 1932)),
        (336, 448, (336, 448)),
        (112, 112, (112, 112)),
        (450, 800, (448, 812)),
        (10, 10, (56, 56)),  # grown to min_pixels
        (4000, 8000, (1008, 2044)),  # shrunk under max_pixels
    ],
)
def test_smart_resize(height: int, width: int, expected: tuple[int, int]) -> None:
    resized = smart_resize(height, width)
    assert resized == expected
    assert resized[0] % 28 == 0 and resized[1] % 28 == 0


def test_smart_resize_matches_ui_tars_reference() -> None:
    ui_tars = pytest.importorskip("ui_tars.action_parser")
    for height in range(20, 2200, 97):
        for width in range(20, 2600, 131):
            if max(height, width) / min(height, width) > 200:
                continue
            assert smart_resize(height, width) == ui_tars.smart_resize(
                height, width, min_pixels=56 * 56, max_pixels=2_116_800
            )


def test_absolute_coordinates_map_back_to_the_screen() -> None:
    # 1920x1080 is seen as 1932x1092: x_screen = x * 1920 / 1932
    assert SCREEN.to_screen(966, 546) == (960, 540)
    assert SCREEN.to_screen(0, 0) == (0, 0)
    assert SCREEN.to_screen(1932, 1092) == (1919, 1079)  # the far edge clamps onto the screen
    assert SCREEN.to_model(960, 540) == (966, 546)


def test_relative1000_convention() -> None:
    space = CoordinateSpace.for_screen(1920, 1080, convention="relative1000")
    assert space.to_screen(500, 500) == (960, 540)
    assert space.to_model(960, 540) == (500, 500)
    parsed = parse_response("Action: click(start_box='(1000,1000)')", space)
    assert to_pyautogui(parsed, space) == "pyautogui.click(x=1919, y=1079)"


def test_points_slightly_outside_are_clamped_far_outside_rejected() -> None:
    near = parse_response("Action: click(start_box='(460,340)')", SAME)  # within 5%
    assert to_pyautogui(near, SAME) == "pyautogui.click(x=447, y=335)"
    far = parse_response("Action: click(start_box='(500,340)')", SAME)
    assert not far.ok


def test_bad_coordinate_space_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="screen_width"):
        CoordinateSpace(0, 10, 10, 10)
    with pytest.raises(ValueError, match="convention"):
        CoordinateSpace(10, 10, 10, 10, "percent")  # type: ignore[arg-type]


# ---------------------------------------------------------------- pyautogui code


@pytest.mark.parametrize(
    "text, code",
    [
        ("Action: click(start_box='(10,20)')", "pyautogui.click(x=10, y=20)"),
        ("Action: left_double(start_box='(10,20)')", "pyautogui.doubleClick(x=10, y=20)"),
        ("Action: right_single(start_box='(10,20)')", "pyautogui.rightClick(x=10, y=20)"),
        ("Action: hover(start_box='(10,20)')", "pyautogui.moveTo(x=10, y=20)"),
        (
            "Action: drag(start_box='(1,2)', end_box='(30,40)')",
            (
                "pyautogui.moveTo(x=1, y=2)\n"
                "pyautogui.dragTo(x=30, y=40, duration=0.5, button='left')"
            ),
        ),
        ("Action: hotkey(key='ctrl c')", "pyautogui.hotkey('ctrl', 'c')"),
        ("Action: press(key='enter')", "pyautogui.press('enter')"),
        ("Action: keydown(key='shift')", "pyautogui.keyDown('shift')"),
        ("Action: keyup(key='shift')", "pyautogui.keyUp('shift')"),
        ("Action: type(content='hi')", "pyautogui.write('hi')"),
        ("Action: type(content='hi\\n')", "pyautogui.write('hi')\npyautogui.press('enter')"),
        ("Action: type(content='\\n')", "pyautogui.press('enter')"),
        ("Action: type(content='')", "pyautogui.write('')"),
        ("Action: scroll(start_box='(5,6)', direction='down')", "pyautogui.scroll(-5, x=5, y=6)"),
        ("Action: scroll(start_box='(5,6)', direction='up')", "pyautogui.scroll(5, x=5, y=6)"),
        ("Action: scroll(start_box='(5,6)', direction='left')", "pyautogui.hscroll(-5, x=5, y=6)"),
        ("Action: scroll(start_box='(5,6)', direction='right')", "pyautogui.hscroll(5, x=5, y=6)"),
        ("Action: wait()", ENV_WAIT),
        ("Action: finished(content='ok')", ENV_DONE),
        ("Action: call_user()", ENV_FAIL),
    ],
)
def test_pyautogui_code(text: str, code: str) -> None:
    assert to_pyautogui(parse_response(text, SAME), SAME) == code


def test_invalid_response_cannot_become_code() -> None:
    with pytest.raises(ValueError, match="invalid response"):
        to_pyautogui(parse_response("nonsense", SAME), SAME)


def test_invalid_actions_cannot_be_constructed() -> None:
    with pytest.raises(ValueError, match="unknown key"):
        Action("press", keys=("os.system",))
    with pytest.raises(ValueError, match="needs start point"):
        Action("click")
    with pytest.raises(ValueError, match="finite"):
        Action("click", start=(float("nan"), 1.0))


# ---------------------------------------------------------------- safety


HOSTILE_CONTENT = [
    "'); import os; os.system('touch /tmp/pwned'); ('",
    "''' + __import__('os').system('x') + '''",
    '""" ; exec("print(1)") ; """',
    "\\'); os.system('x') #",
    "\\\\\\'\n__import__('os')",
    "\n\nimport os\nos.system('x')\n",
    "é ünïcödé 漢字 \U0001f600 \u202e reversed",
    "\x00\x07\x1b[31m",
]


@pytest.mark.parametrize("content", HOSTILE_CONTENT)
def test_injection_attempts_stay_inside_the_literal(content: str) -> None:
    text = format_response(Action("type", content=content), thought="x")
    code = to_pyautogui(parse_response(text, SAME), SAME)
    module = ast.parse(code)
    typed = ""
    for statement in module.body:
        assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
        call = statement.value
        assert isinstance(call.func, ast.Attribute) and call.func.attr in ("write", "press")
        assert isinstance(call.func.value, ast.Name) and call.func.value.id == "pyautogui"
        assert len(call.args) == 1 and isinstance(call.args[0], ast.Constant)
        typed += call.args[0].value if call.func.attr == "write" else "\n"
    assert typed == content


@pytest.mark.parametrize(
    "box",
    [
        "__import__('os').system('touch /tmp/pwned')",
        "<point>__import__('os')</point>",
        "(1,2); import os",
        "(1,2)) or exec('x'",
        "[1,2,3,4][0]",
    ],
)
def test_hostile_points_are_parse_failures(box: str) -> None:
    escaped = box.replace("\\", "\\\\").replace("'", "\\'")
    parsed = parse_response(f"Action: click(start_box='{escaped}')", SAME)
    assert not parsed.ok


def test_the_action_module_never_evaluates_text() -> None:
    source = pathlib.Path(actions_module.__file__).read_text()
    tree = ast.parse(source)
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {"eval", "exec", "compile", "__import__"}
    assert "literal_eval" not in source


def test_thought_never_reaches_the_code() -> None:
    text = format_response(Action("click", start=(1, 2)), thought="''' ; os.system('x') ; '''")
    assert to_pyautogui(parse_response(text, SAME), SAME) == "pyautogui.click(x=1, y=2)"


# ---------------------------------------------------------------- formatting


def test_format_action_canonical_form() -> None:
    assert format_action(Action("click", start=(1, 2))) == "click(start_box='(1,2)')"
    assert format_action(Action("type", content="it's\n")) == "type(content='it\\'s\\n')"
    assert (
        format_action(Action("scroll", start=(1.5, 2), direction="up"))
        == "scroll(start_box='(1.5,2)', direction='up')"
    )
    assert format_response(Action("wait"), "hm") == "Thought: hm\nAction: wait()"


def test_format_response_refuses_what_cannot_round_trip() -> None:
    with pytest.raises(ValueError, match="Action:"):
        format_response(Action("wait"), thought="a\nAction: click()")
    with pytest.raises(ValueError, match="at least one"):
        format_response([], thought="a")
