"""Actions drawn on screenshots: the right pixels change, code is parsed and never run."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from rllib_arpo.core.images import encode_png
from rllib_arpo.core.trajectory import Step
from rllib_arpo.outputs.drawing import (
    CLICK_COLOR,
    DRAG_COLOR,
    SCROLL_COLOR,
    Mark,
    draw_action,
    draw_step,
    parse_env_action,
    to_hwc_uint8,
    trajectory_strip,
)

W, H = 200, 150


def _png(color: tuple[int, int, int] = (255, 255, 255), size: tuple[int, int] = (W, H)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _step(env_action: str, text: str = "Thought: go.\nAction: click(start_box='(1,2)')") -> Step:
    return Step(
        screenshot_png=_png(),
        response_token_ids=[1, 2],
        response_logprobs=[-0.1, -0.2],
        response_text=text,
        action="click(start_box='(1,2)')",
        parse_error=None,
        env_action=env_action,
    )


def _changed(image: Image.Image) -> np.ndarray:
    """Mask (H, W) of pixels that are no longer white."""
    return np.any(np.asarray(image) != 255, axis=-1)


def _near(mask: np.ndarray, x: int, y: int, radius: int) -> bool:
    return bool(
        mask[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1].any()
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("pyautogui.click(x=10, y=20)", [Mark("click", start=(10, 20), label="click")]),
        ("pyautogui.click(10, 20)", [Mark("click", start=(10, 20), label="click")]),
        ("pyautogui.doubleClick(x=3, y=4)", [Mark("click", start=(3, 4), label="double click")]),
        (
            "pyautogui.moveTo(x=1, y=2)\npyautogui.dragTo(x=30, y=40, duration=0.5, button='left')",
            [Mark("drag", start=(1, 2), end=(30, 40), label="drag")],
        ),
        (
            "pyautogui.scroll(-5, x=5, y=6)",
            [Mark("scroll", start=(5, 6), label="scroll -5", amount=-5)],
        ),
        ("pyautogui.write('hi')", [Mark("text", label="type: 'hi'")]),
        ("pyautogui.hotkey('ctrl', 'c')", [Mark("text", label="hotkey: ctrl+c")]),
        ("pyautogui.press('enter')", [Mark("text", label="press: enter")]),
        ("DONE", [Mark("text", label="DONE")]),
        ("pyautogui.moveTo(x=7, y=8)", [Mark("hover", start=(7, 8), label="move")]),
        (
            "pyautogui.mouseDown(x=1, y=1)\npyautogui.moveTo(x=9, y=9)\npyautogui.mouseUp()",
            [Mark("drag", start=(1, 1), end=(9, 9), label="drag")],
        ),
    ],
)
def test_parse_env_action(code: str, expected: list[Mark]) -> None:
    assert parse_env_action(code) == expected


def test_parse_never_executes_code(tmp_path) -> None:
    target = tmp_path / "pwned"
    code = (
        f"open({str(target)!r}, 'w').write('x')\npyautogui.click(x=__import__('os').getpid(), y=1)"
    )
    marks = parse_env_action(code)
    assert not target.exists()
    assert all(m.kind == "text" for m in marks)  # no literal point: nothing placed on the image


def test_unreadable_code_is_a_caption_not_an_error() -> None:
    (mark,) = parse_env_action("pyautogui.click(x=1,")
    assert mark.kind == "text" and mark.label.startswith("unreadable")
    assert parse_env_action("") == [Mark("text", label="(no action)")]


def test_click_changes_pixels_at_the_point_only() -> None:
    image = draw_action(_png(), "pyautogui.click(x=50, y=40)", caption=False)
    assert image.size == (W, H)
    mask = _changed(image)
    assert _near(mask, 50, 40, 2)
    assert tuple(np.asarray(image)[40, 50]) == CLICK_COLOR  # crosshair centre
    assert not _near(mask, 170, 120, 10)  # far corner untouched


def test_drag_draws_an_arrow_from_start_to_end() -> None:
    code = (
        "pyautogui.moveTo(x=20, y=20)\npyautogui.dragTo(x=160, y=100, duration=0.5, button='left')"
    )
    image = draw_action(_png(), code, caption=False)
    pixels = np.asarray(image)
    mask = _changed(image)
    assert _near(mask, 20, 20, 3) and _near(mask, 160, 100, 3)
    mid = (90, 60)  # on the line between start and end
    assert _near(mask, *mid, 2)
    assert any(tuple(p) == DRAG_COLOR for p in pixels[58:63, 88:93].reshape(-1, 3))


def test_scroll_arrow_points_the_scroll_direction() -> None:
    down = _changed(draw_action(_png(), "pyautogui.scroll(-5, x=100, y=75)", caption=False))
    up = _changed(draw_action(_png(), "pyautogui.scroll(5, x=100, y=75)", caption=False))
    assert down[96:, 95:106].any() and not down[:55, 95:106].any()
    assert up[:55, 95:106].any() and not up[96:, 95:106].any()
    pixels = np.asarray(draw_action(_png(), "pyautogui.scroll(-5, x=100, y=75)", caption=False))
    assert (pixels.reshape(-1, 3) == SCROLL_COLOR).all(axis=1).any()


def test_typed_text_and_hotkeys_become_a_caption() -> None:
    for code in ("pyautogui.write('hello')", "pyautogui.hotkey('ctrl', 'c')", "DONE"):
        mask = _changed(draw_action(_png(), code))
        assert mask[-10:, :].any(), code  # caption bar at the bottom
        assert not mask[:40, :].any(), code  # nothing drawn on the top of the screen
    assert not _changed(draw_action(_png(), "pyautogui.write('hello')", caption=False)).any()


def test_out_of_screen_points_do_not_crash() -> None:
    image = draw_action(_png(), "pyautogui.click(x=5000, y=-30)")
    assert image.size == (W, H)


def test_draw_step_and_png_round_trip() -> None:
    image = draw_step(_step("pyautogui.click(x=10, y=20)"), index=3)
    decoded = Image.open(io.BytesIO(encode_png(image)))
    assert decoded.size == (W, H)
    assert to_hwc_uint8(image).shape == (H, W, 3)


def test_trajectory_strip_one_tile_per_kept_step() -> None:
    steps = [_step(f"pyautogui.click(x={10 + i}, y=20)") for i in range(5)]
    strip = trajectory_strip(steps, thumb_width=100, max_steps=3, text_lines=4)
    assert strip.width == 300
    assert strip.height > 75  # picture (100 x 75) plus the text panel
    text_panel = _changed(strip)[80:, :100]
    assert text_panel.any()  # the Thought/Action text is drawn
    assert trajectory_strip([], thumb_width=64).size[0] == 64
    no_text = trajectory_strip(steps[:2], thumb_width=100, show_text=False)
    assert no_text.size == (200, 75)
