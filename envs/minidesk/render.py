"""Pillow renderer: draws a display list (``Widget``s) into an RGB uint8 array.

Kept apart from the dynamics: nothing here changes state. Speed comes from two caches: text is
rasterized once per (string, size) into an "L" mask and then pasted (about 10 us instead of
150 us per string), and a frame whose paint keys did not change is reused as is; the mouse
cursor is composited onto a copy of the cached frame with numpy.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from envs.minidesk.widgets import CACHE_TEXT_CHARS, Rect, Widget, font, intersect

WHITE, BLACK = (255, 255, 255), (20, 20, 20)
BORDER = (150, 155, 165)
ACCENT = (40, 110, 220)
MUTED = (120, 120, 120)
SELECT_BG = (190, 215, 250)
LINK = (20, 80, 200)

_CURSOR = [
    "X...........",
    "XX..........",
    "XOX.........",
    "XOOX........",
    "XOOOX.......",
    "XOOOOX......",
    "XOOOOOX.....",
    "XOOOOOOX....",
    "XOOOOOOOX...",
    "XOOOOOOOOX..",
    "XOOOOOXXXXX.",
    "XOOXOOX.....",
    "XOX.XOOX....",
    "XX..XOOX....",
    "X....XOOX...",
    ".....XOOX...",
    "......XX....",
]


def _mask(text: str, size: int) -> Image.Image:
    if len(text) <= CACHE_TEXT_CHARS:
        return _cached_mask(text, size)
    return _draw_mask(text[:4000], size)  # nothing wider than a 4K screen is ever visible


@lru_cache(maxsize=4096)
def _cached_mask(text: str, size: int) -> Image.Image:
    return _draw_mask(text, size)


def _draw_mask(text: str, size: int) -> Image.Image:
    f = font(size)
    x1 = f.getbbox(text)[2]
    m = Image.new("L", (max(1, x1), max(1, size + size // 2)))
    ImageDraw.Draw(m).text((0, 0), text, font=f, fill=255)
    return m


PAINT_MARGIN = 4
"""Pixels a widget may paint outside its rect (shadows, knobs); dirty regions include them."""
FULL_REDRAW_FRACTION = 0.5
"""Dirty area above this fraction of the screen: redraw the whole frame instead."""


def _paint_rect(rect: Rect, clip: Rect | None) -> Rect:
    r = rect if clip is None else (intersect(rect, clip) or (rect[0], rect[1], rect[0], rect[1]))
    m = PAINT_MARGIN
    return (r[0] - m, r[1] - m, r[2] + m, r[3] + m)


class Renderer:
    """Draws frames for one screen size; keeps the last frame for reuse."""

    def __init__(self, width: int, height: int, font_size: int):
        self.width, self.height = width, height
        self.size = font_size
        self._img = Image.new("RGB", (width, height))
        self._draw = ImageDraw.Draw(self._img)
        self._keys: list[tuple] | None = None
        self._frame: np.ndarray | None = None
        self.full_renders = 0
        self.partial_renders = 0
        rows = [r for r in _CURSOR]
        scale = max(1, height // 540)
        self._cursor = np.array([[c for c in r] for r in rows]).repeat(scale, 0).repeat(scale, 1)

    def render(self, widgets: list[Widget], mouse: tuple[int, int] | None) -> np.ndarray:
        """The frame as (H, W, 3) uint8, with the cursor at ``mouse``.

        Only the regions whose widgets changed are redrawn (onto a scratch copy, then pasted
        back), so a toggled checkbox costs one small region, not a frame.
        """
        keys = [w.paint_key() for w in widgets]
        if self._keys is None or self._frame is None:
            self._full(widgets)
        elif keys != self._keys:
            boxes = self._dirty_boxes(self._keys, keys)
            area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes or ())
            if boxes is None or area > FULL_REDRAW_FRACTION * self.width * self.height:
                self._full(widgets)
            else:
                for box in boxes:
                    self._partial(widgets, box)
        self._keys = keys
        frame = self._frame.copy()
        if mouse is not None:
            self._composite_cursor(frame, mouse)
        return frame

    def _full(self, widgets: list[Widget]) -> None:
        self._img.paste((0, 0, 0), (0, 0, self.width, self.height))
        for w in widgets:
            self._widget(w)
        self._frame = np.asarray(self._img).copy()
        self.full_renders += 1

    def _partial(self, widgets: list[Widget], box: Rect) -> None:
        main_img, main_draw = self._img, self._draw
        scratch = main_img.copy()
        self._img, self._draw = scratch, ImageDraw.Draw(scratch)
        try:
            scratch.paste((0, 0, 0), box)
            for w in widgets:
                if intersect(_paint_rect(w.rect, w.clip), box) is not None:
                    self._widget(w)
        finally:
            self._img, self._draw = main_img, main_draw
        region = scratch.crop(box)
        main_img.paste(region, box[:2])
        self._frame[box[1] : box[3], box[0] : box[2]] = np.asarray(region)
        self.partial_renders += 1

    def _dirty_boxes(self, old: list[tuple], new: list[tuple]) -> list[Rect] | None:
        """Screen regions covering every widget that appeared, vanished or changed looks;
        None when only the stacking order changed (then everything is redrawn)."""
        before, after = Counter(old), Counter(new)
        changed = list((before - after).elements()) + list((after - before).elements())
        if not changed:
            return None
        screen = (0, 0, self.width, self.height)
        boxes: list[Rect] = []
        for key in changed:
            box = intersect(_paint_rect(key[1], key[4]), screen)
            if box is None:
                continue
            merged = True
            while merged:  # fold overlapping boxes into one
                merged = False
                for other in boxes:
                    if intersect(other, box) is not None:
                        boxes.remove(other)
                        box = (
                            min(box[0], other[0]),
                            min(box[1], other[1]),
                            max(box[2], other[2]),
                            max(box[3], other[3]),
                        )
                        merged = True
                        break
            boxes.append(box)
        return boxes

    def image(self, widgets: list[Widget], mouse: tuple[int, int] | None) -> Image.Image:
        return Image.fromarray(self.render(widgets, mouse))

    # ------------------------------------------------------------------ primitives
    def _composite_cursor(self, frame: np.ndarray, mouse: tuple[int, int]) -> None:
        x, y = mouse
        c = self._cursor
        h = min(c.shape[0], self.height - y)
        w = min(c.shape[1], self.width - x)
        if h <= 0 or w <= 0:
            return
        sub = c[:h, :w]
        region = frame[y : y + h, x : x + w]
        region[sub == "X"] = (0, 0, 0)
        region[sub == "O"] = (255, 255, 255)

    def _rect(self, r: Rect, fill=None, outline=None, clip: Rect | None = None, width: int = 1):
        if clip is not None:
            r2 = intersect(r, clip)
            if r2 is None:
                return
            r = r2
        if r[2] - r[0] <= 0 or r[3] - r[1] <= 0:
            return
        self._draw.rectangle(
            (r[0], r[1], r[2] - 1, r[3] - 1), fill=fill, outline=outline, width=width
        )

    def _text(
        self,
        x: int,
        y: int,
        text: str,
        color,
        clip: Rect | None,
        size: int | None = None,
        bold: bool = False,
    ) -> None:
        if not text:
            return
        size = size or self.size
        m = _mask(text, size)
        box = (x, y, x + m.width, y + m.height)
        region = (
            intersect(box, clip)
            if clip is not None
            else intersect(box, (0, 0, self.width, self.height))
        )
        if region is None:
            return
        if region != box:
            m = m.crop((region[0] - x, region[1] - y, region[2] - x, region[3] - y))
        self._img.paste(color, region, m)
        if bold and region[2] + 1 <= self.width:
            self._img.paste(color, (region[0] + 1, region[1], region[2] + 1, region[3]), m)

    def _text_in(
        self,
        r: Rect,
        text: str,
        color,
        clip: Rect | None,
        center: bool = False,
        size: int | None = None,
        bold: bool = False,
        pad: int = 4,
    ) -> None:
        size = size or self.size
        from envs.minidesk.widgets import fit_text, text_width

        text = fit_text(text, size, max(4, r[2] - r[0] - 2 * pad))
        ty = r[1] + (r[3] - r[1] - size) // 2 - max(1, size // 6)
        tx = r[0] + pad
        if center:
            tx = r[0] + (r[2] - r[0] - text_width(text, size)) // 2
        inner = intersect(r, clip) if clip is not None else r
        if inner is not None:
            self._text(tx, ty, text, color, inner, size, bold)

    # ------------------------------------------------------------------ widgets
    def _widget(self, w: Widget) -> None:
        k, r, clip, look = w.kind, w.rect, w.clip, w.look
        if clip is not None and intersect(r, clip) is None:
            return
        d = self._draw
        if k in ("desktop", "panel"):
            self._rect(r, fill=look.get("fill", WHITE), clip=clip)
        elif k == "window":
            self._rect(r, fill=WHITE, outline=ACCENT if look.get("active") else BORDER)
        elif k == "titlebar":
            fill = (45, 62, 90) if look.get("active") else (120, 128, 140)
            self._rect(r, fill=fill)
            self._text_in(r, w.text, WHITE, None, bold=True)
        elif k == "taskbar":
            self._rect(r, fill=(30, 32, 38))
        elif k == "taskbutton":
            self._rect(r, fill=(80, 88, 104) if look.get("active") else (52, 56, 66))
            self._text_in(r, w.text, WHITE, None)
        elif k == "label":
            color = look.get("fg") or (MUTED if look.get("muted") else BLACK)
            self._text_in(r, w.text, color, clip, center=bool(look.get("center")), pad=1)
        elif k == "heading":
            color = look.get("fill") or BLACK
            self._text_in(r, w.text, color, clip, size=self.size + 3, bold=True, pad=0)
        elif k == "text":
            color = look.get("fill") or BLACK
            self._text_in(r, w.text, color, clip, pad=0)
        elif k == "value":
            self._rect(r, fill=WHITE, outline=BORDER, clip=clip)
            self._text_in(r, w.text, BLACK, clip, center=True)
        elif k == "link":
            self._text_in(r, w.text, LINK, clip, pad=0)
            from envs.minidesk.widgets import fit_text, text_width

            tw = min(r[2] - r[0], text_width(fit_text(w.text, self.size, r[2] - r[0]), self.size))
            y = r[1] + (r[3] - r[1] + self.size) // 2
            self._rect((r[0], y, r[0] + tw, y + 1), fill=LINK, clip=clip)
        elif k == "button":
            fill = look.get("fill") or (225, 228, 235)
            self._rect(r, fill=fill, outline=BORDER, clip=clip)
            dark = sum(fill) < 400
            self._text_in(r, w.text, WHITE if dark else BLACK, clip, center=True, pad=2)
        elif k == "input":
            self._rect(
                r,
                fill=WHITE,
                outline=ACCENT if look.get("focused") else BORDER,
                clip=clip,
                width=2 if look.get("focused") else 1,
            )
            self._input_text(w, r, clip)
        elif k in ("checkbox", "radio"):
            s = min(r[3] - r[1] - 4, self.size + 2)
            by = r[1] + (r[3] - r[1] - s) // 2
            box = (r[0] + 2, by, r[0] + 2 + s, by + s)
            if k == "checkbox":
                self._rect(
                    box, fill=ACCENT if look.get("checked") else WHITE, outline=MUTED, clip=clip
                )
                if look.get("checked"):
                    d.line(
                        (
                            box[0] + 2,
                            box[1] + s // 2,
                            box[0] + s // 2 - 1,
                            box[3] - 3,
                            box[2] - 3,
                            box[1] + 2,
                        ),
                        fill=WHITE,
                        width=2,
                    )
            else:
                d.ellipse((box[0], box[1], box[2] - 1, box[3] - 1), fill=WHITE, outline=MUTED)
                if look.get("checked"):
                    q = max(2, s // 4)
                    d.ellipse((box[0] + q, box[1] + q, box[2] - 1 - q, box[3] - 1 - q), fill=ACCENT)
            self._text_in((box[2] + 2, r[1], r[2], r[3]), w.text, BLACK, clip, pad=2)
        elif k == "select":
            self._rect(r, fill=WHITE, outline=ACCENT if look.get("open") else BORDER, clip=clip)
            self._text_in((r[0], r[1], r[2] - 12, r[3]), w.text, BLACK, clip)
            cx, cy = r[2] - 9, (r[1] + r[3]) // 2
            d.polygon([(cx - 4, cy - 2), (cx + 4, cy - 2), (cx, cy + 3)], fill=MUTED)
        elif k == "popup":
            self._rect((r[0] + 2, r[1] + 2, r[2] + 2, r[3] + 2), fill=(120, 120, 120))
            self._rect(r, fill=WHITE, outline=BORDER)
        elif k in ("option", "item", "menuitem"):
            if look.get("selected"):
                self._rect(r, fill=SELECT_BG, clip=clip)
            self._text_in(r, w.text, BLACK, clip)
        elif k == "day":
            if look.get("selected"):
                self._rect(r, fill=SELECT_BG)
            self._text_in(r, w.text, BLACK, None, center=True, pad=0)
        elif k == "slider":
            self._slider(w)
        elif k == "tab":
            active = look.get("active")
            self._rect(r, fill=WHITE if active else (218, 222, 230), outline=BORDER, clip=clip)
            if active:
                self._rect((r[0], r[3] - 3, r[2], r[3]), fill=ACCENT, clip=clip)
            self._text_in(r, w.text, BLACK, clip, center=True, bold=bool(active), pad=2)
        elif k == "listbox":
            self._rect(r, fill=WHITE, outline=BORDER, clip=clip)
            total, rows, scroll = look["total"], look["rows"], look["scroll"]
            if total > rows:
                track = (r[2] - 7, r[1] + 1, r[2] - 1, r[3] - 1)
                self._rect(track, fill=(235, 235, 235), clip=clip)
                th = track[3] - track[1]
                y0 = track[1] + th * scroll // total
                y1 = track[1] + th * (scroll + rows) // total
                self._rect((track[0] + 1, y0, track[2] - 1, max(y0 + 4, y1)), fill=MUTED, clip=clip)
        elif k in ("dialog", "sysdialog"):
            self._rect((r[0] + 3, r[1] + 3, r[2] + 3, r[3] + 3), fill=(90, 90, 90))
            self._rect(r, fill=(250, 250, 252), outline=(90, 90, 90))
            y = r[1] + 4
            if k == "sysdialog":
                bar = (r[0], r[1], r[2], r[1] + self.size + 8)
                self._rect(bar, fill=(45, 62, 90))
                self._text_in(bar, look.get("title", ""), WHITE, None, bold=True)
                y = bar[3] + 4
            self._wrapped(r[0] + 6, y, r[2] - 6, w.text)
        elif k == "image":
            self._rect(r, fill=look.get("fill") or (200, 200, 200), clip=clip)
            self._text_in(r, w.text, WHITE, clip, center=True)
        elif k == "hr":
            self._rect(
                (r[0], r[1] + (r[3] - r[1]) // 2, r[2], r[1] + (r[3] - r[1]) // 2 + 1),
                fill=BORDER,
                clip=clip,
            )
        elif k == "icon":
            self._icon(w)
        elif k == "browser_tab":
            active = look.get("active")
            self._rect(r, fill=WHITE if active else (205, 210, 220), outline=BORDER)
            self._text_in((r[0], r[1], r[2] - 14, r[3]), w.text, BLACK, None, pad=4)
        elif k == "toolbar":
            self._rect(r, fill=look.get("fill", (242, 243, 246)))
        elif k == "text_area":
            self._text_area(w)
        elif k == "file":
            if look.get("selected"):
                self._rect(r, fill=SELECT_BG, clip=clip)
            s = r[3] - r[1] - 6
            icon = (r[0] + 3, r[1] + 3, r[0] + 3 + s * 3 // 4, r[3] - 3)
            self._rect(icon, fill=WHITE, outline=MUTED, clip=clip)
            self._text_in((icon[2] + 2, r[1], r[2], r[3]), w.text, BLACK, clip)

    def _input_text(self, w: Widget, r: Rect, clip: Rect | None) -> None:
        from envs.minidesk.widgets import text_width

        look = w.look
        inner = (r[0] + 3, r[1], r[2] - 3, r[3])
        inner_clip = intersect(inner, clip) if clip is not None else inner
        if inner_clip is None:
            return
        text = w.text
        ty = r[1] + (r[3] - r[1] - self.size) // 2 - max(1, self.size // 6)
        if not text and look.get("placeholder") and not look.get("focused"):
            self._text(inner[0] + 1, ty, look["placeholder"], MUTED, inner_clip)
            return
        caret = look.get("caret", len(text))
        # Scroll the text so that the caret stays visible.
        shift = max(0, text_width(text[:caret], self.size) - (inner[2] - inner[0] - 4))
        x = inner[0] + 1 - shift
        sel = look.get("sel")
        if sel and look.get("focused"):
            a = x + text_width(text[: sel[0]], self.size)
            b = x + text_width(text[: sel[1]], self.size)
            self._rect((a, r[1] + 3, b, r[3] - 3), fill=SELECT_BG, clip=inner_clip)
        self._text(x, ty, text, BLACK, inner_clip)
        if look.get("focused"):
            cx = x + text_width(text[:caret], self.size)
            self._rect((cx, r[1] + 3, cx + 1, r[3] - 3), fill=BLACK, clip=inner_clip)

    def _slider(self, w: Widget) -> None:
        r, look, clip = w.rect, w.look, w.clip
        lo, hi, value = look["min"], look["max"], look["value"] or 0
        h = r[3] - r[1]
        ty = r[1] + h * 2 // 3
        x0, x1 = r[0] + 6, r[2] - 6
        self._rect((x0, ty - 2, x1, ty + 2), fill=(200, 204, 212), clip=clip)
        frac = 0 if hi == lo else (value - lo) / (hi - lo)
        kx = int(x0 + frac * (x1 - x0))
        self._rect((x0, ty - 2, kx, ty + 2), fill=ACCENT, clip=clip)
        kr = max(3, min(7, h // 4))
        self._draw.ellipse(
            (kx - kr, ty - kr, kx + kr, ty + kr), fill=WHITE, outline=ACCENT, width=2
        )
        label = str(int(value))
        from envs.minidesk.widgets import text_width

        lx = min(
            max(r[0], kx - text_width(label, self.size) // 2), r[2] - text_width(label, self.size)
        )
        self._text(lx, r[1], label, BLACK, clip)

    def _wrapped(self, x0: int, y: int, x1: int, text: str) -> None:
        from envs.minidesk.widgets import text_width

        line = ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if text_width(trial, self.size) > x1 - x0 and line:
                self._text(x0, y, line, BLACK, None)
                y += self.size + 4
                line = word
            else:
                line = trial
        self._text(x0, y, line, BLACK, None)

    def _icon(self, w: Widget) -> None:
        r, d = w.rect, self._draw
        cx, cy = (r[0] + r[2]) // 2, (r[1] + r[3]) // 2
        s = max(3, min(r[2] - r[0], r[3] - r[1]) // 4)
        name = w.text
        dark = w.look.get("dark", False)
        color = (235, 235, 235) if name in ("maximize", "close") and not dark else (60, 60, 60)
        if w.look.get("disabled"):
            color = (170, 170, 170)
        if name == "close":
            d.line((cx - s, cy - s, cx + s, cy + s), fill=color, width=2)
            d.line((cx - s, cy + s, cx + s, cy - s), fill=color, width=2)
        elif name == "maximize":
            d.rectangle((cx - s, cy - s, cx + s, cy + s), outline=color, width=1)
        elif name == "back":
            d.line((cx - s, cy, cx + s, cy), fill=color, width=2)
            d.line((cx - s, cy, cx, cy - s), fill=color, width=2)
            d.line((cx - s, cy, cx, cy + s), fill=color, width=2)
        elif name == "forward":
            d.line((cx - s, cy, cx + s, cy), fill=color, width=2)
            d.line((cx + s, cy, cx, cy - s), fill=color, width=2)
            d.line((cx + s, cy, cx, cy + s), fill=color, width=2)
        elif name == "reload":
            d.arc((cx - s, cy - s, cx + s, cy + s), 40, 330, fill=color, width=2)
        elif name == "menu":
            for dy in (-s, 0, s):
                d.ellipse((cx - 1, cy + dy - 1, cx + 1, cy + dy + 1), fill=color)
        elif name == "plus":
            d.line((cx - s, cy, cx + s, cy), fill=color, width=2)
            d.line((cx, cy - s, cx, cy + s), fill=color, width=2)
        elif name == "save":
            self._rect(r, fill=(225, 228, 235), outline=BORDER)
            self._text_in(r, "Save", BLACK, None, center=True, pad=1)

    def _text_area(self, w: Widget) -> None:
        from envs.minidesk.widgets import text_width

        r, look = w.rect, w.look
        self._rect(r, fill=WHITE)
        lh = look["line_h"]
        text, caret, sel, top = w.text, look["caret"], look["sel"], look["top"]
        pos = 0
        y = r[1] + 2
        for i, line in enumerate(text.split("\n")):
            start, end = pos, pos + len(line)
            pos = end + 1
            if i < top:
                continue
            if y + lh > r[3]:
                break
            x = r[0] + 4
            if sel and sel[0] <= end and sel[1] >= start:
                a, b = max(sel[0], start), min(sel[1], end)
                ax = x + text_width(line[: a - start], self.size)
                bx = x + text_width(line[: b - start], self.size) + (4 if sel[1] > end else 0)
                self._rect((ax, y, bx, y + lh), fill=SELECT_BG, clip=r)
            self._text(x, y + 1, line, BLACK, r)
            if look.get("focused") and start <= caret <= end:
                cx = x + text_width(line[: caret - start], self.size)
                self._rect((cx, y + 1, cx + 1, y + lh - 1), fill=BLACK, clip=r)
            y += lh
