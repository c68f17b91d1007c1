"""Documents: the element model shared by browser pages and the procedural form app.

A document is a list of ``Element``s with rectangles in document coordinates (page builders place
them with ``Flow``; procedural families place them on a free or 28-px grid) plus a ``DocState``
(values of inputs, focus, open drop-down, scroll offsets, click log, submission). ``build``
turns it into ``Widget``s for a viewport; the widgets' handlers mutate the state and call the
``DocHost`` (the browser tab or the form app) for navigation, submission and page scripts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from envs.minidesk.widgets import (
    GRID,
    PALETTE,
    Rect,
    TextBuffer,
    Theme,
    Widget,
    caret_index,
    text_width,
)

ELEMENT_KINDS = (
    "heading",
    "text",
    "link",
    "button",
    "input",
    "checkbox",
    "radio",
    "select",
    "slider",
    "tabs",
    "list",
    "date",
    "counter",
    "dialog",
    "image",
    "hr",
)
"""Element kinds a document may hold."""

SCROLL_PX = 24
"""Page pixels per wheel click."""
INPUT_MAX_CHARS = 2048
"""An input field's maxlength."""
BUTTON_FILL = (225, 228, 235)
"""Fill of buttons without a colour of their own."""


@dataclass
class Element:
    """One element of a document (JSON-serializable through ``asdict``/``Element(**d)``).

    Attributes:
        kind: One of ``ELEMENT_KINDS``.
        id: Unique id within the document (widget ids derive from it).
        text: Visible label (button, link, checkbox label, heading, dialog message).
        rect: [x0, y0, x1, y1] in document pixels.
        name: State key (inputs, checkboxes, radio groups, selects, sliders, tabs, lists, dates).
        value: Initial state, or a radio button's own value.
        options: Choices of select/tabs/list/dialog buttons: ``[value, label]`` pairs.
        href: Link target.
        action: Button/list/Enter action: ``submit``, ``record``, ``close:<name>``,
            ``set:<name>=<value>``, ``inc:<name>``, ``dec:<name>``, or a page script name.
        cls: HTML-like class names (read by ``active_tab_html_parse``).
        color: Fill colour name (``PALETTE``) or ``#rrggbb``.
        show_if: [name, value]: shown only while ``values[name] == value``.
        placeholder: Grey hint in an empty input.
        min: Slider/counter minimum.
        max: Slider/counter maximum.
        rows: Visible rows of a list or an open select.
        on_change: Page script run after a select/radio/checkbox changes.
    """

    kind: str
    id: str = ""
    text: str = ""
    rect: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    name: str = ""
    value: Any = None
    options: list = field(default_factory=list)
    href: str = ""
    action: str = ""
    cls: str = ""
    color: str = ""
    show_if: list | None = None
    placeholder: str = ""
    min: float = 0
    max: float = 100
    rows: int = 0
    on_change: str = ""

    def to_dict(self) -> dict:
        """Fields that differ from their defaults (compact task JSON)."""
        defaults = _ELEMENT_DEFAULTS
        return {
            k: v
            for k, v in asdict(self).items()
            if k == "kind" or type(v) is not type(defaults[k]) or v != defaults[k]
        }


_ELEMENT_DEFAULTS = {k: v for k, v in asdict(Element("text")).items()}


def colour(name: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if not name:
        return default
    if name.startswith("#") and len(name) == 7:
        return tuple(int(name[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    return PALETTE.get(name, default)


def option_pairs(options: list) -> list[tuple[str, str]]:
    return [(o[0], o[1]) if isinstance(o, (list, tuple)) else (o, o) for o in options]


class DocHost(Protocol):
    def navigate(self, url: str) -> None: ...
    def submit(self, doc: DocState, element: Element) -> None: ...
    def script(self, name: str, doc: DocState, element: Element) -> None: ...
    def today(self) -> dt.date: ...


class DocState:
    """A live document: elements plus everything the user changed."""

    def __init__(
        self,
        elements: list[Element],
        title: str = "",
        url: str = "",
        bg: str = "",
        initial: dict[str, Any] | None = None,
    ):
        self.elements = elements
        self.title = title
        self.url = url
        self.bg = bg
        self.values: dict[str, Any] = {}
        self.buffers: dict[str, TextBuffer] = {}
        self.focus: str | None = None
        self.open: str | None = None
        self.open_scroll = 0
        self.cal_month: dict[str, tuple[int, int]] = {}
        self.scroll = 0
        self.list_scroll: dict[str, int] = {}
        self.clicks: list[str] = []
        self.submitted: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}
        for el in elements:
            if not el.name:
                continue
            if el.kind == "input":
                self.buffers[el.name] = TextBuffer(str(el.value or ""), max_chars=INPUT_MAX_CHARS)
                self.values[el.name] = str(el.value or "")
            elif el.kind == "radio":
                self.values.setdefault(el.name, None)
            elif el.kind == "checkbox":
                self.values[el.name] = bool(el.value)
            elif el.kind == "dialog":
                self.values[el.name] = True if el.value is None else bool(el.value)
            elif el.kind in ("slider", "counter"):
                self.values[el.name] = el.value if el.value is not None else el.min
            elif el.name not in self.values or el.value is not None:
                self.values[el.name] = el.value
        for name, value in (initial or {}).items():
            self.values[name] = value
            if name in self.buffers:
                self.buffers[name] = TextBuffer(str(value), max_chars=INPUT_MAX_CHARS)

    def relayout(self, elements: list[Element]) -> None:
        """Replace the elements (new width or refreshed content), keeping the user's state."""
        fresh = DocState(elements)
        for name, value in fresh.values.items():
            self.values.setdefault(name, value)
        for name, buf in fresh.buffers.items():
            self.buffers.setdefault(name, buf)
        self.elements = elements

    # -- queries ---------------------------------------------------------------------------
    def shown(self, el: Element) -> bool:
        return el.show_if is None or self.values.get(el.show_if[0]) == el.show_if[1]

    def element(self, eid: str) -> Element | None:
        for el in self.elements:
            if el.id == eid:
                return el
        return None

    def by_name(self, name: str) -> Element | None:
        for el in self.elements:
            if el.name == name and el.kind != "radio":
                return el
        return None

    def content_height(self) -> int:
        return max((el.rect[3] for el in self.elements if self.shown(el)), default=0) + 8

    def modal_dialog(self) -> Element | None:
        for el in self.elements:
            if el.kind == "dialog" and self.values.get(el.name) and self.shown(el):
                return el
        return None

    def inner_text(self, el: Element) -> str:
        if el.kind == "input":
            return self.values.get(el.name, "")
        if el.kind == "select":
            return dict(option_pairs(el.options)).get(self.values.get(el.name), "")
        return el.text

    def form_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if not k.startswith("_")}


@dataclass
class _Ctx:
    doc: DocState
    host: DocHost
    theme: Theme
    ox: int
    oy: int
    view: Rect
    prefix: str
    out: list[Widget]
    overlays: list[Widget]
    changed: list[bool]


def build(doc: DocState, host: DocHost, theme: Theme, view: Rect, prefix: str) -> list[Widget]:
    """Widgets of ``doc`` scrolled by ``doc.scroll`` inside ``view`` (screen rect)."""
    max_scroll = max(0, doc.content_height() - (view[3] - view[1]))
    doc.scroll = min(max(0, doc.scroll), max_scroll)
    ctx = _Ctx(doc, host, theme, view[0], view[1] - doc.scroll, view, prefix, [], [], [False])

    def page_click(x: int, y: int, button: str, count: int) -> None:
        doc.open = None
        doc.focus = None

    def page_scroll(clicks: int) -> None:
        doc.open = None
        doc.scroll = min(max(0, doc.scroll - clicks * SCROLL_PX), max_scroll)

    bg = colour(doc.bg, (255, 255, 255))
    ctx.out.append(
        Widget(
            "panel",
            view,
            wid=f"{prefix}page",
            look={"fill": bg},
            on_click=page_click,
            on_scroll=page_scroll,
        )
    )
    dialog = doc.modal_dialog()
    for el in doc.elements:
        if el.kind == "dialog" or not doc.shown(el):
            continue
        _element(ctx, el)
    ctx.out.extend(ctx.overlays)
    if dialog is not None:
        _dialog(ctx, dialog)
    return ctx.out


def _rect(ctx: _Ctx, r: list[int]) -> Rect:
    return (r[0] + ctx.ox, r[1] + ctx.oy, r[2] + ctx.ox, r[3] + ctx.oy)


def _element(ctx: _Ctx, el: Element) -> None:
    doc, host, theme = ctx.doc, ctx.host, ctx.theme
    rect = _rect(ctx, el.rect)
    if rect[3] <= ctx.view[1] or rect[1] >= ctx.view[3]:
        return
    wid = f"{ctx.prefix}{el.id}"
    add = ctx.out.append
    clip = ctx.view
    kind = el.kind
    if kind in ("heading", "text", "hr", "image"):
        look = {"fill": colour(el.color, (0, 0, 0)) if el.color else None, "cls": el.cls}
        add(Widget(kind, rect, el.text, wid, look, clip))
    elif kind == "link":
        add(
            Widget("link", rect, el.text, wid, {}, clip, on_click=lambda *a: host.navigate(el.href))
        )
    elif kind == "button":

        def press(*_: Any) -> None:
            _run_action(doc, host, el, el.action)

        look = {"fill": colour(el.color, BUTTON_FILL)}
        add(Widget("button", rect, el.text, wid, look, clip, on_click=press))
    elif kind == "input":
        buf = doc.buffers[el.name]

        def focus(x: int, y: int, button: str, count: int) -> None:
            doc.focus, doc.open = el.name, None
            buf.anchor = None
            buf.caret = _caret_at(buf.text, x - rect[0] - 4, theme.font_size)
            if count >= 2:
                buf.select_all()

        look = {"focused": doc.focus == el.name, "placeholder": el.placeholder, **buf.look()}
        add(Widget("input", rect, buf.text, wid, look, clip, on_click=focus))
    elif kind in ("checkbox", "radio"):
        box = kind == "checkbox"  # a checkbox toggles; a radio button sets its group's value
        checked = bool(doc.values.get(el.name)) if box else doc.values.get(el.name) == el.value

        def choose(*_: Any) -> None:
            if box:
                doc.focus = None
            _set_value(doc, host, el, not doc.values.get(el.name) if box else el.value)

        add(Widget(kind, rect, el.text, wid, {"checked": checked}, clip, on_click=choose))
    elif kind == "select":
        _select(ctx, el, rect, wid)
    elif kind == "slider":

        def set_from_x(x: int) -> None:
            frac = (x - rect[0] - 6) / max(1, rect[2] - rect[0] - 12)
            frac = min(1.0, max(0.0, frac))
            doc.values[el.name] = round(el.min + frac * (el.max - el.min))

        add(
            Widget(
                "slider",
                rect,
                "",
                wid,
                {"value": doc.values.get(el.name), "min": el.min, "max": el.max},
                clip,
                on_click=lambda x, y, b, c: set_from_x(x),
                on_drag=lambda x0, y0, x1, y1: set_from_x(x1),
            )
        )
    elif kind == "tabs":
        pairs = option_pairs(el.options)
        n = max(1, len(pairs))
        w = (rect[2] - rect[0]) // n
        for i, (value, label) in enumerate(pairs):
            r = (rect[0] + i * w, rect[1], rect[0] + (i + 1) * w, rect[3])

            def pick(*_: Any, value: str = value) -> None:
                _set_value(doc, host, el, value)

            active = doc.values.get(el.name) == value
            add(
                Widget(
                    "tab",
                    r,
                    label,
                    f"{wid}.{value}",
                    {"active": active, "cls": el.cls},
                    clip,
                    on_click=pick,
                )
            )
    elif kind == "list":
        _list(ctx, el, rect, wid)
    elif kind == "date":
        _date(ctx, el, rect, wid)
    elif kind == "counter":
        bw = rect[3] - rect[1]
        value = doc.values.get(el.name)
        dec = (rect[0], rect[1], rect[0] + bw, rect[3])
        inc = (rect[2] - bw, rect[1], rect[2], rect[3])
        mid = (dec[2], rect[1], inc[0], rect[3])
        add(Widget("label", (rect[0] - 0, rect[1], rect[0], rect[3]), "", wid + ".frame", {}, clip))

        def step_button(r: Rect, label: str, op: str) -> Widget:
            def press(*_: Any) -> None:
                _run_action(doc, host, el, f"{op}:{el.name}")

            return Widget(
                "button", r, label, f"{wid}.{op}", {"fill": BUTTON_FILL}, clip, on_click=press
            )

        add(step_button(dec, "-", "dec"))
        add(Widget("value", mid, str(value), wid, {}, clip))
        add(step_button(inc, "+", "inc"))


def _set_value(doc: DocState, host: DocHost, el: Element, value: Any) -> None:
    """Store ``value`` under ``el.name``, then run the element's ``on_change`` page script."""
    doc.values[el.name] = value
    if el.on_change:
        host.script(el.on_change, doc, el)


def _run_action(doc: DocState, host: DocHost, el: Element, action: str) -> None:
    doc.open = None
    if action == "submit":
        host.submit(doc, el)
    elif action == "record":
        doc.clicks.append(el.text or str(el.value))  # unlabelled (colour) buttons log their value
    elif action.startswith("close:"):
        doc.values[action[6:]] = False
    elif action.startswith("set:"):
        name, _, value = action[4:].partition("=")
        doc.values[name] = value
    elif action.startswith(("inc:", "dec:")):
        name = action[4:]
        target = doc.by_name(name) or el
        step = 1 if action.startswith("inc:") else -1
        current = doc.values.get(name) or 0
        doc.values[name] = int(min(target.max, max(target.min, current + step)))
    elif action:
        host.script(action, doc, el)


def _caret_at(text: str, x: int, size: int) -> int:
    return caret_index(text, x, size)


def _select(ctx: _Ctx, el: Element, rect: Rect, wid: str) -> None:
    doc = ctx.doc
    pairs = option_pairs(el.options)
    label = dict(pairs).get(doc.values.get(el.name), el.placeholder or "Select…")

    def toggle(*_: Any) -> None:
        doc.focus = None
        if doc.open == el.name:
            doc.open = None
        else:
            doc.open, doc.open_scroll = el.name, 0

    is_open = doc.open == el.name
    ctx.out.append(Widget("select", rect, label, wid, {"open": is_open}, ctx.view, on_click=toggle))
    if not is_open:
        return
    row = rect[3] - rect[1]
    rows = min(len(pairs), el.rows or 8)
    top = rect[3]
    screen_bottom = ctx.view[3]
    if top + rows * row > screen_bottom and rect[1] - rows * row >= ctx.view[1]:
        top = rect[1] - rows * row
    max_scroll = max(0, len(pairs) - rows)
    doc.open_scroll = min(max(0, doc.open_scroll), max_scroll)

    def wheel(clicks: int) -> None:
        doc.open_scroll = min(max(0, doc.open_scroll - clicks), max_scroll)

    box = (rect[0], top, rect[2], top + rows * row)
    ctx.overlays.append(
        Widget("popup", box, "", wid + ".menu", {}, None, on_scroll=wheel, on_click=lambda *a: None)
    )

    def picked(text: str) -> None:
        doc.open = None
        if el.on_change:
            ctx.host.script(el.on_change, doc, el)

    shown = pairs[doc.open_scroll : doc.open_scroll + rows]
    rows_box = (rect[0], top, rect[2], top + rows * row)
    ctx.overlays.extend(
        _option_rows(doc, el, shown, rows_box, row, ("option", f"{wid}.opt"), None, picked, wheel)
    )


def _list(ctx: _Ctx, el: Element, rect: Rect, wid: str) -> None:
    doc = ctx.doc
    pairs = option_pairs(el.options)
    rows = max(1, el.rows or 5)
    row = (rect[3] - rect[1]) // rows
    max_scroll = max(0, len(pairs) - rows)
    start = min(max(0, doc.list_scroll.get(el.name, 0)), max_scroll)
    doc.list_scroll[el.name] = start

    def wheel(clicks: int) -> None:
        doc.list_scroll[el.name] = min(max(0, doc.list_scroll.get(el.name, 0) - clicks), max_scroll)

    ctx.out.append(
        Widget(
            "listbox",
            rect,
            "",
            wid,
            {"scroll": start, "total": len(pairs), "rows": rows},
            ctx.view,
            on_scroll=wheel,
            on_click=lambda *a: None,
        )
    )

    def picked(text: str) -> None:
        if el.action == "record":
            doc.clicks.append(text)
        elif el.action:
            ctx.host.script(el.action, doc, el)

    box = (rect[0] + 1, rect[1], rect[2] - 7, rect[3])
    shown = pairs[start : start + rows]
    ctx.out.extend(
        _option_rows(doc, el, shown, box, row, ("item", f"{wid}.item"), ctx.view, picked, wheel)
    )


def _option_rows(
    doc: DocState,
    el: Element,
    pairs: list[tuple[str, str]],
    box: Rect,
    row: int,
    kind_and_id: tuple[str, str],
    clip: Rect | None,
    picked: Callable[[str], None],
    wheel: Callable[[int], None],
) -> list[Widget]:
    """One widget per (value, text) pair, ``row`` px each from the top of ``box``: the open
    menu of a select or the visible rows of a list. A click stores the value under ``el.name``,
    then calls ``picked(text)``; the wheel scrolls."""
    kind, id_prefix = kind_and_id
    out = []
    for i, (value, text) in enumerate(pairs):
        r = (box[0], box[1] + i * row, box[2], box[1] + (i + 1) * row)

        def pick(*_: Any, value: str = value, text: str = text) -> None:
            doc.values[el.name] = value
            picked(text)

        selected = doc.values.get(el.name) == value
        out.append(
            Widget(
                kind, r, text, f"{id_prefix}.{value}", {"selected": selected}, clip,
                on_click=pick, on_scroll=wheel,
            )
        )  # fmt: skip
    return out


def _date(ctx: _Ctx, el: Element, rect: Rect, wid: str) -> None:
    doc, host = ctx.doc, ctx.host
    value = doc.values.get(el.name)
    label = value or el.placeholder or "Choose date"
    if value:
        d = dt.date.fromisoformat(value)
        label = f"{calendar.day_abbr[d.weekday()]}, {d.day} {calendar.month_abbr[d.month]}"

    def toggle(*_: Any) -> None:
        doc.focus = None
        if doc.open == el.name:
            doc.open = None
        else:
            doc.open = el.name
            base = dt.date.fromisoformat(value) if value else host.today()
            doc.cal_month[el.name] = (base.year, base.month)

    is_open = doc.open == el.name
    ctx.out.append(Widget("select", rect, label, wid, {"open": is_open}, ctx.view, on_click=toggle))
    if not is_open:
        return
    year, month = doc.cal_month.get(el.name) or (host.today().year, host.today().month)
    cell = max(16, ctx.theme.row - 2)
    width, height = 7 * cell, 8 * cell
    x0 = min(rect[0], ctx.view[2] - width)
    y0 = rect[3] if rect[3] + height <= ctx.view[3] else max(ctx.view[1], rect[1] - height)
    ov = ctx.overlays
    ov.append(
        Widget(
            "popup",
            (x0, y0, x0 + width, y0 + height),
            "",
            wid + ".calendar",
            {},
            None,
            on_click=lambda *a: None,
        )
    )

    def shift(delta: int) -> None:
        m = year * 12 + (month - 1) + delta
        doc.cal_month[el.name] = (m // 12, m % 12 + 1)

    ov.append(
        Widget(
            "button",
            (x0, y0, x0 + cell, y0 + cell),
            "<",
            wid + ".prev",
            {},
            None,
            on_click=lambda *a: shift(-1),
        )
    )
    ov.append(
        Widget(
            "label",
            (x0 + cell, y0, x0 + 6 * cell, y0 + cell),
            f"{calendar.month_name[month]} {year}",
            wid + ".month",
            {"center": True},
        )
    )
    ov.append(
        Widget(
            "button",
            (x0 + 6 * cell, y0, x0 + width, y0 + cell),
            ">",
            wid + ".next",
            {},
            None,
            on_click=lambda *a: shift(1),
        )
    )
    for i, name in enumerate("MTWTFSS"):
        r = (x0 + i * cell, y0 + cell, x0 + (i + 1) * cell, y0 + 2 * cell)
        ov.append(Widget("label", r, name, f"{wid}.dow{i}", {"center": True, "muted": True}))
    first_weekday, days = calendar.monthrange(year, month)
    for day in range(1, days + 1):
        slot = first_weekday + day - 1
        r = (
            x0 + (slot % 7) * cell,
            y0 + (2 + slot // 7) * cell,
            x0 + (slot % 7 + 1) * cell,
            y0 + (3 + slot // 7) * cell,
        )
        iso = dt.date(year, month, day).isoformat()

        def pick(*_: Any, iso: str = iso) -> None:
            doc.values[el.name] = iso
            doc.open = None
            if el.on_change:
                host.script(el.on_change, doc, el)

        ov.append(
            Widget(
                "day",
                r,
                str(day),
                f"{wid}.day.{iso}",
                {"selected": value == iso},
                None,
                on_click=pick,
            )
        )


def _dialog(ctx: _Ctx, el: Element) -> None:
    doc, theme = ctx.doc, ctx.theme
    rect = _rect(ctx, el.rect) if any(el.rect) else ctx.view
    if not any(el.rect):
        vw, vh = ctx.view[2] - ctx.view[0], ctx.view[3] - ctx.view[1]
        w, h = min(vw - 8, max(160, vw * 2 // 3)), min(vh - 8, theme.row * 4)
        x0, y0 = ctx.view[0] + (vw - w) // 2, ctx.view[1] + (vh - h) // 2
        rect = (x0, y0, x0 + w, y0 + h)
    wid = f"{ctx.prefix}{el.id}"
    ctx.out.append(
        Widget("dialog", rect, el.text, wid, {}, None, modal=True, on_click=lambda *a: None)
    )
    pairs = option_pairs(el.options) or [("close", "Close")]
    bw = max(text_width(label, theme.font_size) for _, label in pairs) + 3 * theme.pad
    bh = min(theme.row, (rect[3] - rect[1]) // 2)
    pad = theme.pad
    if theme.row == GRID:  # curriculum screens: buttons fill whole grid cells
        bw, bh, pad = GRID * -(-bw // GRID), GRID, 0
    x = rect[2] - pad
    for value, label in reversed(pairs):
        r = (x - bw, rect[3] - bh - pad, x, rect[3] - pad)
        x -= bw + pad

        def press(*_: Any, value: str = value) -> None:
            doc.values[el.name] = False
            doc.values[f"{el.name}_choice"] = value
            if el.on_change:
                ctx.host.script(el.on_change, doc, el)

        ctx.out.append(
            Widget(
                "button",
                r,
                label,
                f"{wid}.{value}",
                {"fill": BUTTON_FILL},
                None,
                on_click=press,
            )
        )


def handle_key(
    doc: DocState, host: DocHost, key: str, mods: frozenset[str], clip: list[str]
) -> bool:
    """Keyboard input for the focused input; returns False when nothing took the key."""
    if doc.open and key in ("escape", "esc"):
        doc.open = None
        return True
    if doc.focus is None:
        return False
    buf = doc.buffers.get(doc.focus)
    if buf is None:
        return False
    if buf.key(key, mods, clip) == "enter":
        el = doc.by_name(doc.focus)
        if el is not None and el.action:
            _run_action(doc, host, el, el.action)
    doc.values[doc.focus] = buf.text if doc.focus in doc.buffers else doc.values.get(doc.focus)
    return True


def type_text(doc: DocState, host: DocHost, text: str, clip: list[str]) -> None:
    """Typed text: runs between newlines go into the focused input at once, "\n" is Enter."""
    for i, run in enumerate(text.split("\n")):
        if i:
            handle_key(doc, host, "enter", frozenset(), clip)
        if run and doc.focus in doc.buffers:
            doc.buffers[doc.focus].insert(run)
            doc.values[doc.focus] = doc.buffers[doc.focus].text


class Flow:
    """Vertical layout helper for page builders: rows of elements with rects filled in."""

    def __init__(self, width: int, theme: Theme, margin: int | None = None):
        self.width = width
        self.theme = theme
        self.margin = theme.pad * 2 if margin is None else margin
        self.y = self.margin
        self.elements: list[Element] = []
        self._n = 0

    def _id(self, kind: str) -> str:
        self._n += 1
        return f"{kind}{self._n}"

    def gap(self, px: int | None = None) -> None:
        self.y += self.theme.pad if px is None else px

    def add(
        self, kind: str, h: int | None = None, x: int | None = None, w: int | None = None, **kw: Any
    ) -> Element:
        h = h or self.theme.row
        x = self.margin if x is None else x
        w = (self.width - x - self.margin) if w is None else w
        kw.setdefault("id", self._id(kind))
        el = Element(kind, rect=[x, self.y, x + w, self.y + h], **kw)
        self.elements.append(el)
        self.y += h + self.theme.pad
        return el

    def row(self, items: list[tuple[str, int | None, dict]], h: int | None = None) -> list[Element]:
        """Elements side by side: (kind, width or None for a share of the rest, kwargs)."""
        h = h or self.theme.row
        free = self.width - 2 * self.margin - self.theme.pad * (len(items) - 1)
        fixed = sum(w for _, w, _ in items if w)
        flex = max(1, sum(1 for _, w, _ in items if not w))
        share = max(10, (free - fixed) // flex)
        x, out = self.margin, []
        for kind, w, kw in items:
            w = w or share
            kw = dict(kw)
            kw.setdefault("id", self._id(kind))
            el = Element(kind, rect=[x, self.y, x + w, self.y + h], **kw)
            self.elements.append(el)
            out.append(el)
            x += w + self.theme.pad
        self.y += h + self.theme.pad
        return out

    def text_block(self, text: str, **kw: Any) -> None:
        """Wrapped paragraph, one text element per line."""
        size, width = self.theme.font_size, self.width - 2 * self.margin
        line = ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if text_width(trial, size) > width and line:
                self.add("text", h=size + 4, text=line, **kw)
                line = word
            else:
                line = trial
        if line:
            self.add("text", h=size + 4, text=line, **kw)
