"""Pictures of what the agent did: actions drawn on screenshots, and a strip per trajectory.

Used for TensorBoard images and the HTML evaluation report. The input is what a trajectory stores
(``core.trajectory.Step``): the screenshot as PNG bytes and ``env_action``, the pyautogui code that
was sent to the environment (or ``WAIT``/``DONE``/``FAIL``). That code is read with ``ast`` only,
never executed: coordinates and texts are taken from literal arguments of ``pyautogui.*`` calls.

How each action is drawn:

- click / double / right / middle / triple click: a ring with a crosshair at the point;
- ``moveTo`` alone (hover): a hollow ring;
- drag (``moveTo`` then ``dragTo``, or ``mouseDown`` ... ``mouseUp``): an arrow from start to end;
- scroll / hscroll: an arrow from the point in the scroll direction;
- typed text, key presses and hotkeys, ``WAIT``/``DONE``/``FAIL``: a caption bar at the bottom.
"""

from __future__ import annotations

import ast
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from rllib_arpo.core.trajectory import Step, Trajectory

CLICK_COLOR = (255, 0, 0)
"""Red: clicks."""
HOVER_COLOR = (255, 160, 0)
"""Orange: pointer moves without a click."""
DRAG_COLOR = (0, 90, 255)
"""Blue: drags, start to end."""
SCROLL_COLOR = (0, 170, 60)
"""Green: scrolls, in the direction the page is scrolled."""
CAPTION_BG = (0, 0, 0, 170)
CAPTION_FG = (255, 255, 255)
TEXT_PANEL_BG = (250, 250, 250)
TEXT_PANEL_FG = (20, 20, 20)
SIGNALS = ("WAIT", "DONE", "FAIL")
"""Env actions that are not code (``core.actions``: wait, finished, call_user)."""

_CLICKS = {
    "click": "click",
    "leftClick": "click",
    "doubleClick": "double click",
    "rightClick": "right click",
    "middleClick": "middle click",
    "tripleClick": "triple click",
}
_TYPING = ("write", "typewrite")
_KEYS = ("press", "keyDown", "keyUp")


@dataclass(frozen=True)
class Mark:
    """One thing to draw, read from an env action.

    Attributes:
        kind: "click", "hover", "drag", "scroll", "text" (typing, keys, signals, unreadable code).
        start: Screen point of a click/hover/scroll, or a drag's start; None for text.
        end: A drag's end, or None.
        label: Short human text: "double click", "type: 'hi'", "hotkey: ctrl+c", "scroll -5".
        amount: Scroll clicks (positive = up/right), 0 otherwise.
        horizontal: True for ``hscroll``.
    """

    kind: str
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None
    label: str = ""
    amount: int = 0
    horizontal: bool = False


def parse_env_action(env_action: str) -> list[Mark]:
    """Reads pyautogui code (or a signal) into marks, with ``ast`` only: nothing is executed.

    Args:
        env_action: ``Step.env_action``, e.g. ``"pyautogui.click(x=10, y=20)"``, several lines of
            calls, ``"DONE"``, or ``""`` (an unparsable model answer sent nothing).

    Returns:
        The marks in order; code that does not parse becomes one "text" mark quoting it.
    """
    code = env_action.strip()
    if not code:
        return [Mark("text", label="(no action)")]
    if code in SIGNALS:
        return [Mark("text", label=code)]
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError:
        return [Mark("text", label=f"unreadable: {_shorten(code, 60)}")]

    marks: list[Mark] = []
    cursor: tuple[int, int] | None = None
    pending_hover: tuple[int, int] | None = None
    button_down_at: tuple[int, int] | None = None

    def flush_hover() -> None:
        nonlocal pending_hover
        if pending_hover is not None:
            marks.append(Mark("hover", start=pending_hover, label="move"))
            pending_hover = None

    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not isinstance(call, ast.Call):
            continue
        name = _call_name(call)
        if name is None or name == "sleep":
            continue
        args = [_literal(a) for a in call.args]
        kwargs = {k.arg: _literal(k.value) for k in call.keywords if k.arg}

        if name in ("moveTo", "moveRel", "move"):
            point = _point(args, kwargs, relative_to=cursor if name != "moveTo" else None)
            if button_down_at is None:
                flush_hover()
                pending_hover = point
            cursor = point or cursor
        elif name in ("dragTo", "dragRel", "drag"):
            end = _point(args, kwargs, relative_to=cursor if name != "dragTo" else None)
            start = pending_hover or cursor
            pending_hover = None
            if end is not None and start is not None:
                marks.append(Mark("drag", start=start, end=end, label="drag"))
            elif end is not None:
                marks.append(Mark("click", start=end, label="drag to"))
            cursor = end or cursor
        elif name == "mouseDown":
            point = _point(args, kwargs) or pending_hover or cursor
            pending_hover = None
            button_down_at = point
            cursor = point or cursor
        elif name == "mouseUp":
            point = _point(args, kwargs) or pending_hover or cursor
            pending_hover = None
            if button_down_at is not None and point is not None and point != button_down_at:
                marks.append(Mark("drag", start=button_down_at, end=point, label="drag"))
            elif point is not None:
                marks.append(Mark("click", start=point, label="click"))
            button_down_at = None
            cursor = point or cursor
        elif name in _CLICKS:
            point = _point(args, kwargs) or pending_hover or cursor
            pending_hover = None
            label = _CLICKS[name]
            if name == "click" and kwargs.get("button") in ("right", "middle"):
                label = f"{kwargs['button']} click"
            if point is not None:
                marks.append(Mark("click", start=point, label=label))
            else:
                marks.append(Mark("text", label=label))
            cursor = point or cursor
        elif name in ("scroll", "hscroll", "vscroll"):
            flush_hover()
            amount = _int(args[0] if args else kwargs.get("clicks"))
            point = _point(args[1:], kwargs) or cursor
            horizontal = name == "hscroll"
            label = f"{name} {amount:+d}" if amount is not None else name
            marks.append(
                Mark("scroll", start=point, label=label, amount=amount or 0, horizontal=horizontal)
            )
        elif name in _TYPING:
            flush_hover()
            text = args[0] if args else kwargs.get("message")
            marks.append(Mark("text", label=f"type: {_shorten(repr(text), 60)}"))
        elif name == "hotkey":
            flush_hover()
            keys = [str(a) for a in args if a is not None]
            marks.append(Mark("text", label=f"hotkey: {'+'.join(keys)}"))
        elif name in _KEYS:
            flush_hover()
            key = args[0] if args else kwargs.get("keys", kwargs.get("key"))
            if isinstance(key, (list, tuple)):
                key = "+".join(str(k) for k in key)
            verb = {"press": "press", "keyDown": "key down", "keyUp": "key up"}[name]
            marks.append(Mark("text", label=f"{verb}: {key}"))
        else:
            flush_hover()
            marks.append(Mark("text", label=f"{name}(...)"))
    flush_hover()
    return marks or [Mark("text", label=f"unreadable: {_shorten(code, 60)}")]


def draw_action(
    screenshot: bytes | Image.Image,
    env_action: str,
    *,
    caption: bool = True,
    extra_caption: str | None = None,
) -> Image.Image:
    """The screenshot with its action drawn on it.

    Args:
        screenshot: PNG bytes (``Step.screenshot_png``) or a PIL image (not modified).
        env_action: The pyautogui code sent for this screenshot (``Step.env_action``).
        caption: Draw a bottom caption listing the actions (typed text, keys, signals, labels).
        extra_caption: A line put before the action labels, e.g. ``"step 3 | reward 1.0"``.

    Returns:
        A new RGB image of the screenshot's size.
    """
    image = _open(screenshot)
    marks = parse_env_action(env_action)
    draw = ImageDraw.Draw(image)
    size = max(4, round(min(image.size) / 30))
    width = max(2, size // 3)
    for mark in marks:
        if mark.kind == "click" and mark.start is not None:
            _ring(draw, mark.start, size, CLICK_COLOR, width, crosshair=True)
        elif mark.kind == "hover" and mark.start is not None:
            _ring(draw, mark.start, size, HOVER_COLOR, width, crosshair=False)
        elif mark.kind == "drag" and mark.start is not None and mark.end is not None:
            _ring(draw, mark.start, max(3, size // 2), DRAG_COLOR, width, crosshair=False)
            _arrow(draw, mark.start, mark.end, DRAG_COLOR, width, head=size)
        elif mark.kind == "scroll":
            center = mark.start or (image.width // 2, image.height // 2)
            length = max(3 * size, min(image.size) // 6)
            sign = 1 if mark.amount >= 0 else -1
            # Positive scroll = up (or right): the arrow points where the view moves.
            dx, dy = (sign * length, 0) if mark.horizontal else (0, -sign * length)
            _ring(draw, center, max(3, size // 2), SCROLL_COLOR, width, crosshair=False)
            _arrow(draw, center, (center[0] + dx, center[1] + dy), SCROLL_COLOR, width, head=size)
    if caption:
        lines = [extra_caption] if extra_caption else []
        labels = [m.label for m in marks if m.label]
        if labels:
            lines.append(" | ".join(labels))
        if lines:
            _caption(image, lines)
    return image


def draw_step(step: Step, *, index: int | None = None, caption: bool = True) -> Image.Image:
    """``draw_action`` for a trajectory step (its screenshot and ``env_action``)."""
    extra = f"step {index}" if index is not None else None
    return draw_action(step.screenshot_png, step.env_action, caption=caption, extra_caption=extra)


def trajectory_strip(
    steps: Trajectory | Sequence[Step],
    *,
    thumb_width: int = 320,
    max_steps: int | None = 8,
    text_lines: int = 10,
    show_text: bool = True,
) -> Image.Image:
    """One row of a trajectory's steps, each with its action drawn and the model's text under it.

    Args:
        steps: A ``Trajectory`` or its steps.
        thumb_width: Width in pixels of each step's picture.
        max_steps: Keep the first ``max_steps - 1`` steps and the last one (None: all).
        text_lines: Lines of Thought/Action text kept under each picture (the rest is cut).
        show_text: Put ``Step.response_text`` (Thought/Action) under each picture.

    Returns:
        An RGB image ``len(kept steps) * thumb_width`` wide; a 1-step white image when empty.
    """
    step_list = list(getattr(steps, "steps", steps))
    indices = list(range(len(step_list)))
    if max_steps is not None and len(indices) > max_steps:
        indices = indices[: max_steps - 1] + indices[-1:]
    if not indices:
        return Image.new("RGB", (thumb_width, thumb_width // 2), TEXT_PANEL_BG)
    font = _font(12)
    line_height = _line_height(font)
    chars_per_line = max(10, thumb_width // max(1, _char_width(font)))
    tiles = []
    for i in indices:
        picture = draw_step(step_list[i], index=i)
        height = max(1, round(picture.height * thumb_width / picture.width))
        picture = picture.resize((thumb_width, height), Image.Resampling.LANCZOS)
        text = ""
        if show_text:
            text = step_list[i].response_text or ""
            error = getattr(step_list[i], "parse_error", None)
            if error:
                text += f"\n[parse error: {error}]"
        tiles.append((picture, _wrap(text, chars_per_line, text_lines) if show_text else []))
    text_height = (text_lines * line_height + 8) if show_text else 0
    height = max(p.height for p, _ in tiles) + text_height
    strip = Image.new("RGB", (thumb_width * len(tiles), height), TEXT_PANEL_BG)
    draw = ImageDraw.Draw(strip)
    for column, (picture, lines) in enumerate(tiles):
        x = column * thumb_width
        strip.paste(picture, (x, 0))
        y = picture.height + 4
        for line in lines:
            draw.text((x + 4, y), line, fill=TEXT_PANEL_FG, font=font)
            y += line_height
        if column:
            draw.line([(x, 0), (x, height)], fill=(180, 180, 180), width=1)
    return strip


def to_hwc_uint8(image: Image.Image) -> Any:
    """The image as a ``(H, W, 3)`` uint8 numpy array (TensorBoard's ``add_image`` with HWC)."""
    import numpy as np

    return np.asarray(image.convert("RGB"), dtype=np.uint8)


# ------------------------------------------------------------------------------------ helpers


def _open(screenshot: bytes | Image.Image) -> Image.Image:
    if isinstance(screenshot, Image.Image):
        return screenshot.convert("RGB")
    if not isinstance(screenshot, (bytes, bytearray)):
        raise TypeError(f"screenshot must be PNG bytes or a PIL image, got {type(screenshot)}")
    with Image.open(io.BytesIO(screenshot)) as opened:
        return opened.convert("RGB")


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(value)


def _point(
    args: Sequence[Any], kwargs: dict[str, Any], relative_to: tuple[int, int] | None = None
) -> tuple[int, int] | None:
    """x, y from ``f(x, y)``, ``f(x=.., y=..)``, ``f((x, y))`` or ``moveRel(xOffset=.., ..)``."""
    x = kwargs.get("x", kwargs.get("xOffset", args[0] if args else None))
    y = kwargs.get("y", kwargs.get("yOffset", args[1] if len(args) > 1 else None))
    if isinstance(x, (tuple, list)) and len(x) == 2:
        x, y = x
    xi, yi = _int(x), _int(y)
    if xi is None or yi is None:
        return None
    if relative_to is not None:
        return relative_to[0] + xi, relative_to[1] + yi
    return xi, yi


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ring(
    draw: ImageDraw.ImageDraw,
    center: tuple[int, int],
    radius: int,
    color: tuple[int, int, int],
    width: int,
    *,
    crosshair: bool,
) -> None:
    x, y = center
    draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=color, width=width)
    if crosshair:
        arm = radius + radius // 2
        draw.line([(x - arm, y), (x + arm, y)], fill=color, width=max(1, width // 2))
        draw.line([(x, y - arm), (x, y + arm)], fill=color, width=max(1, width // 2))
        draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=color)


def _arrow(
    draw: ImageDraw.ImageDraw,
    start: tuple[int, int],
    end: tuple[int, int],
    color: tuple[int, int, int],
    width: int,
    *,
    head: int,
) -> None:
    draw.line([start, end], fill=color, width=width)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    spread = math.radians(28)
    left = (end[0] - head * math.cos(angle - spread), end[1] - head * math.sin(angle - spread))
    right = (end[0] - head * math.cos(angle + spread), end[1] - head * math.sin(angle + spread))
    draw.polygon([end, left, right], fill=color)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def _line_height(font: Any) -> int:
    box = font.getbbox("Ag")
    return int(box[3] - box[1]) + 4


def _char_width(font: Any) -> int:
    return max(1, round(font.getlength("abcdefghij") / 10))


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [lines[max_lines - 1][: max(0, width - 1)] + "…"]
    return lines


def _caption(image: Image.Image, lines: list[str]) -> None:
    font = _font(max(10, min(image.size) // 28))
    line_height = _line_height(font)
    chars = max(10, image.width // max(1, _char_width(font)) - 1)
    wrapped: list[str] = []
    for line in lines:
        wrapped.extend(textwrap.wrap(line, chars) or [""])
    wrapped = wrapped[:4]
    height = line_height * len(wrapped) + 6
    overlay = Image.new("RGBA", (image.width, height), CAPTION_BG)
    top = image.height - height
    base = image.crop((0, top, image.width, image.height)).convert("RGBA")
    image.paste(Image.alpha_composite(base, overlay).convert("RGB"), (0, top))
    draw = ImageDraw.Draw(image)
    y = top + 3
    for line in wrapped:
        draw.text((4, y), line, fill=CAPTION_FG, font=font)
        y += line_height
