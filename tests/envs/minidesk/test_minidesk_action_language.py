"""The action language's code, read back by MiniDesk's interpreter: typed text arrives literally."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from envs.minidesk.interpreter import interpret
from rllib_arpo.core.actions import Action, format_response, parse_response, to_pyautogui
from rllib_arpo.core.coords import CoordinateSpace

SPACE = CoordinateSpace(448, 336, 448, 336)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_typed_content_reaches_the_interpreter_as_that_text(content: str) -> None:
    text = format_response(Action("type", content=content), thought="type it")
    commands = interpret(to_pyautogui(parse_response(text, SPACE), SPACE))
    typed = ""
    for command in commands:
        if command.name in ("write", "typewrite"):
            typed += command.kwargs["text"]
        else:
            assert command.name == "press" and command.kwargs["keys"] == ["enter"]
            typed += "\n"
    assert typed == content


def test_every_code_form_the_action_language_emits_is_accepted() -> None:
    answers = [
        "click(start_box='(10,20)')",
        "left_double(start_box='(10,20)')",
        "right_single(start_box='(10,20)')",
        "hover(start_box='(10,20)')",
        "drag(start_box='(1,2)', end_box='(30,40)')",
        "hotkey(key='ctrl shift t')",
        "press(key='enter')",
        "keydown(key='shift')",
        "keyup(key='shift')",
        "type(content='it\\'s\\n')",
        "scroll(start_box='(5,6)', direction='down')",
        "scroll(start_box='(5,6)', direction='right')",
    ]
    for answer in answers:
        code = to_pyautogui(parse_response("Action: " + answer, SPACE), SPACE)
        assert interpret(code), answer
