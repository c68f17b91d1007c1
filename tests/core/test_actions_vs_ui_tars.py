"""Differential test against ByteDance's own ``ui-tars`` parser (a test-only dependency).

Only benign strings go to ``ui-tars``: it calls ``eval()`` on parts of the model text in this
process. On the benign corpus both parsers must agree wherever theirs is right; the cases where
ours deliberately differs are listed one by one below (docs/action-language.md has the table).
"""

from __future__ import annotations

import ast
import random
import re

import pytest

from rllib_arpo.core.actions import parse_response, to_pyautogui
from rllib_arpo.core.coords import MAX_PIXELS, MIN_PIXELS, CoordinateSpace

ui_tars = pytest.importorskip("ui_tars.action_parser")

SCREEN_W, SCREEN_H = 1920, 1080
SPACE = CoordinateSpace.for_screen(SCREEN_W, SCREEN_H)  # model frame 1932x1092
BENIGN_WORDS = [
    "the",
    "OK",
    "button",
    "search",
    "box",
    "menu",
    "file",
    "save",
    "open",
    "blue",
    "red",
    "next",
    "page",
    "tab",
]
BENIGN_KEYS = ["ctrl c", "ctrl v", "ctrl a", "alt f4", "enter", "tab", "ctrl shift t", "esc"]


def theirs(text: str) -> tuple[list[dict], str]:
    structured = ui_tars.parse_action_to_structure_output(
        text,
        factor=1000,
        origin_resized_height=SCREEN_H,
        origin_resized_width=SCREEN_W,
        model_type="qwen25vl",
        max_pixels=MAX_PIXELS,
        min_pixels=MIN_PIXELS,
    )
    code = ui_tars.parsing_response_to_pyautogui_code(
        structured, image_height=SCREEN_H, image_width=SCREEN_W, input_swap=False, scale_factor=1
    )
    return structured, code


def benign_corpus(n: int = 240, seed: int = 0) -> list[str]:
    rng = random.Random(seed)

    def point() -> str:
        return f"({rng.randint(0, 1931)},{rng.randint(0, 1091)})"

    def thought() -> str:
        return " ".join(rng.choice(BENIGN_WORDS) for _ in range(rng.randint(1, 12))) + "."

    makers = [
        lambda: f"click(start_box='{point()}')",
        lambda: f"left_single(start_box='{point()}')",
        lambda: f"left_double(start_box='{point()}')",
        lambda: f"right_single(start_box='{point()}')",
        lambda: f"hover(start_box='{point()}')",
        lambda: f"drag(start_box='{point()}', end_box='{point()}')",
        lambda: f"select(start_box='{point()}', end_box='{point()}')",
        lambda: f"hotkey(key='{rng.choice(BENIGN_KEYS)}')",
        lambda: f"type(content='{thought()}')",
        lambda: f"scroll(start_box='{point()}', direction='{rng.choice(['up', 'down'])}')",
        lambda: f"finished(content='{thought()}')",
    ]
    return [f"Thought: {thought()}\nAction: {makers[i % len(makers)]()}" for i in range(n)]


CODE_POINT = re.compile(r"pyautogui\.(click|doubleClick|rightClick|moveTo|dragTo)\(([^)]*)\)")


def points_in_code(code: str) -> list[tuple[str, float, float]]:
    found = []
    for name, args in CODE_POINT.findall(code):
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", args.split("duration")[0])]
        found.append((name, numbers[0], numbers[1]))
    return found


CANONICAL_THEIR_NAME = {"left_single": "click", "select": "drag"}


@pytest.mark.parametrize("text", benign_corpus())
def test_both_parsers_agree_on_benign_text(text: str) -> None:
    ours = parse_response(text, SPACE)
    assert ours.ok, ours.error
    structured, their_code = theirs(text)
    assert len(structured) == len(ours.actions) == 1
    their, our = structured[0], ours.actions[0]
    assert CANONICAL_THEIR_NAME.get(their["action_type"], their["action_type"]) == our.kind
    assert their["thought"] == ours.thought
    our_code = to_pyautogui(ours, SPACE)
    inputs = their["action_inputs"]
    if our.kind in ("click", "left_double", "right_single", "hover", "drag"):
        their_points = [(x, y) for _, x, y in points_in_code(their_code)]
        our_points = [(x, y) for _, x, y in points_in_code(our_code)]
        assert len(their_points) == len(our_points) >= 1
        for (tx, ty), (ox, oy) in zip(their_points, our_points):
            # theirs keeps 3 decimals, ours rounds to the pixel: they agree within half a pixel
            assert abs(tx - ox) <= 0.5 + 1e-6 and abs(ty - oy) <= 0.5 + 1e-6
        if our.kind == "right_single":
            assert "button='right'" in their_code and "rightClick" in our_code
    elif our.kind == "hotkey":
        assert inputs["key"].split() == list(our.keys)
        assert f"pyautogui.hotkey({', '.join(repr(k) for k in our.keys)})" in their_code
        assert our_code == f"pyautogui.hotkey({', '.join(repr(k) for k in our.keys)})"
    elif our.kind == "type":
        assert inputs["content"] == our.content
        their_typed = re.search(r"pyautogui\.write\((.*), interval", their_code).group(1)
        assert ast.literal_eval(their_typed) == our.content
        assert our_code == f"pyautogui.write({our.content!r})"
    elif our.kind == "scroll":
        assert inputs["direction"] == our.direction
        sign = "-" if our.direction == "down" else ""
        assert f"pyautogui.scroll({sign}5" in their_code and f"pyautogui.scroll({sign}5" in our_code
    elif our.kind == "finished":
        assert their_code == our_code == "DONE"
        assert inputs["content"] == our.content


def test_corpus_is_large_and_covers_every_benign_action() -> None:
    corpus = benign_corpus()
    assert len(corpus) >= 200
    names = {re.search(r"Action: (\w+)\(", t).group(1) for t in corpus}
    assert names >= {"click", "left_double", "right_single", "drag", "hotkey", "type", "scroll"}


# ------------------------------------------------------------- deliberate differences


def test_difference_typed_apostrophe_is_not_double_escaped() -> None:
    text = "Thought: type it\nAction: type(content='it\\'s')"
    _, their_code = theirs(text)
    their_typed = ast.literal_eval(
        re.search(r"pyautogui\.write\((.*), interval", their_code).group(1)
    )
    assert their_typed == "it\\'s"  # their bug: a backslash reaches the screen
    assert to_pyautogui(parse_response(text, SPACE), SPACE) == 'pyautogui.write("it\'s")'


def test_difference_thought_is_never_pasted_into_code() -> None:
    text = "Thought: press the blue button\nAction: click(start_box='(10,10)')"
    _, their_code = theirs(text)
    assert "press the blue button" in their_code  # raw, inside a '''...''' block
    assert "blue" not in to_pyautogui(parse_response(text, SPACE), SPACE)


def test_difference_scroll_point_is_scaled_to_the_screen() -> None:
    text = "Thought: s\nAction: scroll(start_box='(966,546)', direction='down')"
    _, their_code = theirs(text)
    assert "x=0.5" in their_code  # their bug: a 0-1 fraction passed as a pixel
    assert to_pyautogui(parse_response(text, SPACE), SPACE) == "pyautogui.scroll(-5, x=960, y=540)"


def test_difference_horizontal_scroll_is_not_dropped() -> None:
    text = "Thought: s\nAction: scroll(start_box='(966,546)', direction='left')"
    _, their_code = theirs(text)
    assert "scroll" not in their_code.replace("import", "")
    assert to_pyautogui(parse_response(text, SPACE), SPACE) == "pyautogui.hscroll(-5, x=960, y=540)"


def test_difference_press_releases_the_key() -> None:
    text = "Thought: p\nAction: press(key='enter')"
    _, their_code = theirs(text)
    assert "keyDown('enter')" in their_code and "keyUp" not in their_code  # key left held down
    assert to_pyautogui(parse_response(text, SPACE), SPACE) == "pyautogui.press('enter')"


def test_difference_wait_and_call_user_are_osworld_specials() -> None:
    for text, special in (("Action: wait()", "WAIT"), ("Action: call_user()", "FAIL")):
        _, their_code = theirs("Thought: w\n" + text)
        assert "Unrecognized action type" in their_code
        assert to_pyautogui(parse_response(text, SPACE), SPACE) == special


@pytest.mark.parametrize(
    "box", ["<|box_start|>(966,546)<|box_end|>", "[956,536,976,556]", "(956,536,976,556)"]
)
def test_difference_box_tokens_and_boxes_are_understood(box: str) -> None:
    text = f"Thought: c\nAction: click(start_box='{box}')"
    assert to_pyautogui(parse_response(text, SPACE), SPACE) == "pyautogui.click(x=960, y=540)"
    if box.startswith("("):
        _, their_code = theirs(text)  # a 4-number tuple: theirs takes the box centre too
        assert points_in_code(their_code)[0][1:] == pytest.approx((960.0, 540.0), abs=0.5)
    else:
        with pytest.raises(ValueError):  # theirs: float('<|box_start|>966') / float('[956')
            theirs(text)


def test_difference_action_header_is_the_first_action_line() -> None:
    # The typed text mentions "Action: "; theirs splits on its last occurrence.
    text = "Thought: t\nAction: type(content='Next Action: go')"
    assert parse_response(text, SPACE).actions[0].content == "Next Action: go"
    with pytest.raises(ValueError):
        theirs(text)


def test_difference_far_off_screen_points_are_rejected() -> None:
    text = "Thought: c\nAction: click(start_box='(5000,5000)')"
    _, their_code = theirs(text)
    assert points_in_code(their_code)[0][1] > SCREEN_W  # passed through off-screen
    assert not parse_response(text, SPACE).ok
