"""The UI-TARS action language: model text -> structured action -> OSWorld pyautogui code.

This module is the only bridge between what a model writes and what an environment executes, so it
is exact, total and safe:

- ``parse_response`` never raises: it returns a ``ParsedResponse`` whose ``error`` names the reason
  when the text is not a valid answer (the algorithm turns that into the format penalty).
- It never evaluates model text: the action part is read by a small hand-written tokenizer that
  only knows call names, keyword names and quoted string literals.
- ``to_pyautogui`` builds code only from parsed, validated values: coordinates are ints formatted by
  us, key names come from a whitelist, typed text is emitted with ``repr``.

The grammar, coordinate rules and the deliberate differences from ByteDance's ``ui-tars`` parser are
documented in docs/action-language.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rllib_arpo.core.coords import CoordinateSpace, coordinate_problem
from rllib_arpo.core.reward import format_reward

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

POINT_ACTIONS = ("click", "left_double", "right_single", "hover")
"""Actions taking one point, ``start_box``."""
KEY_ACTIONS = ("hotkey", "press", "keydown", "keyup")
"""Actions taking ``key``: space-separated key names (``hotkey``) or one key (the others)."""
SPECIAL_ACTIONS = ("wait", "finished", "call_user")
"""Actions that end or pause the turn instead of producing code; each must stand alone."""
ACTION_KINDS = POINT_ACTIONS + ("drag", "scroll", "type") + KEY_ACTIONS + SPECIAL_ACTIONS
"""Canonical action names. Aliases accepted by the parser: see ``ACTION_ALIASES``."""
ACTION_ALIASES = {"left_single": "click", "select": "drag"}
"""Names the reference parser accepts, mapped to our canonical names."""
SCROLL_DIRECTIONS = ("up", "down", "left", "right")
SCROLL_CLICKS = 5
"""Wheel clicks per ``scroll`` action (what the ui-tars converter emits)."""
DRAG_DURATION_S = 0.5
MAX_HOTKEY_KEYS = 4
MAX_ACTIONS_PER_RESPONSE = 8
MAX_CONTENT_CHARS = 4096
"""Longest ``type``/``finished`` content accepted (longer is a parse failure, not truncation)."""
MAX_NAME_CHARS = 32
"""Longest action or keyword name read (the longest valid one, ``start_point``, has 11)."""
SHOWN_TEXT_CHARS = 40
"""Model text quoted in an error is cut to this many characters."""

ENV_WAIT, ENV_DONE, ENV_FAIL = "WAIT", "DONE", "FAIL"
"""OSWorld's special action strings."""

_NAMED_KEYS = [
    "enter",
    "return",
    "tab",
    "space",
    "backspace",
    "delete",
    "del",
    "esc",
    "escape",
    "insert",
    "home",
    "end",
    "pageup",
    "pagedown",
    "pgup",
    "pgdn",
    "up",
    "down",
    "left",
    "right",
    "ctrl",
    "ctrlleft",
    "ctrlright",
    "alt",
    "altleft",
    "altright",
    "shift",
    "shiftleft",
    "shiftright",
    "win",
    "winleft",
    "winright",
    "command",
    "option",
    "fn",
    "capslock",
    "numlock",
    "scrolllock",
    "printscreen",
    "prntscrn",
    "prtsc",
    "prtscr",
    "pause",
    "apps",
    "clear",
    "help",
    "select",
    "execute",
    "volumemute",
    "volumeup",
    "volumedown",
    "playpause",
    "nexttrack",
    "prevtrack",
    "stop",
    "browserback",
    "browserforward",
    "browserrefresh",
    "browserhome",
    "browsersearch",
    "add",
    "subtract",
    "multiply",
    "divide",
    "decimal",
    "separator",
]
PYAUTOGUI_KEYS = frozenset(
    _NAMED_KEYS
    + [f"f{i}" for i in range(1, 25)]
    + [f"num{i}" for i in range(10)]
    + [chr(c) for c in range(0x21, 0x7F) if not chr(c).isupper()]
)
"""Key names pyautogui knows (its KEYBOARD_KEYS, lower case; upper-case letters are lowered)."""
KEY_ALIASES = {
    "control": "ctrl",
    "cmd": "command",
    "super": "win",
    "meta": "win",
    "windows": "win",
    "arrowup": "up",
    "arrowdown": "down",
    "arrowleft": "left",
    "arrowright": "right",
    "page_up": "pageup",
    "page_down": "pagedown",
    "spacebar": "space",
    "caps_lock": "capslock",
}
"""Spellings models use for keys, mapped to pyautogui names."""

# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------

Point = tuple[float, float]


@dataclass(frozen=True)
class Action:
    """One parsed UI-TARS action, in the model's coordinate frame.

    Attributes:
        kind: Canonical action name, one of ``ACTION_KINDS``.
        start: Point of click/left_double/right_single/hover/scroll and the drag start.
        end: Drag end point.
        keys: Key names (pyautogui spelling) for hotkey (1-4 keys) and press/keydown/keyup (1 key).
        content: Text of ``type`` (a trailing newline means press Enter) or ``finished``.
        direction: Scroll direction, one of ``SCROLL_DIRECTIONS``.
    """

    kind: str
    start: Point | None = None
    end: Point | None = None
    keys: tuple[str, ...] = ()
    content: str | None = None
    direction: str | None = None

    def __post_init__(self) -> None:
        problem = _validate_action(self)
        if problem:
            raise ValueError(problem)

    @property
    def is_special(self) -> bool:
        """wait / finished / call_user: no code, they steer the episode."""
        return self.kind in SPECIAL_ACTIONS


@dataclass(frozen=True)
class ParsedResponse:
    """What ``parse_response`` understood of one model answer.

    Attributes:
        thought: The Thought text (may be empty), kept verbatim minus surrounding whitespace.
        actions: The actions in order; empty when ``error`` is set.
        error: None when the answer is valid, else why not (one line, for logs and metrics).
    """

    thought: str
    actions: tuple[Action, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def format_reward(self) -> float:
        """0 for a parseable answer, -1 otherwise (``core.reward``; weighted 0.5 in ARPO)."""
        return format_reward(self.ok)


@dataclass(frozen=True)
class _Call:
    name: str
    kwargs: dict[str, str] = field(default_factory=dict)


def _validate_action(action: Action) -> str | None:
    kind = action.kind
    if kind not in ACTION_KINDS:
        return f"unknown action {kind!r}; expected one of {', '.join(ACTION_KINDS)}"
    needs_start = kind in POINT_ACTIONS or kind in ("drag", "scroll")
    if needs_start != (action.start is not None):
        return f"{kind} {'needs' if needs_start else 'takes no'} start point"
    if (kind == "drag") != (action.end is not None):
        return f"{kind} {'needs' if kind == 'drag' else 'takes no'} end point"
    for point in (action.start, action.end):
        if point is None:
            continue
        if not _is_point(point):
            return f"{kind} point must be a pair of finite numbers, got {point!r}"
        for value in point:
            problem = coordinate_problem(value)
            if problem:
                return f"{kind} point coordinate {problem}"
    if kind in KEY_ACTIONS:
        if not action.keys:
            return f"{kind} needs at least one key"
        limit = MAX_HOTKEY_KEYS if kind == "hotkey" else 1
        if len(action.keys) > limit:
            return f"{kind} takes at most {limit} key(s), got {len(action.keys)}"
        for key in action.keys:
            if key not in PYAUTOGUI_KEYS:
                return f"unknown key {_shown(key)} in {kind}"
    elif action.keys:
        return f"{kind} takes no keys"
    takes_content = kind in ("type", "finished")
    if kind == "type" and action.content is None:
        return "type needs content"
    if not takes_content and action.content is not None:
        return f"{kind} takes no content"
    if action.content is not None:
        if not isinstance(action.content, str):
            return f"{kind} content must be a str"
        if len(action.content) > MAX_CONTENT_CHARS:
            return f"{kind} content longer than {MAX_CONTENT_CHARS} characters"
    if (kind == "scroll") != (action.direction is not None):
        return f"{kind} {'needs' if kind == 'scroll' else 'takes no'} direction"
    if action.direction is not None and action.direction not in SCROLL_DIRECTIONS:
        return (
            f"scroll direction must be one of {SCROLL_DIRECTIONS}, got {_shown(action.direction)}"
        )
    return None


def _is_point(point: object) -> bool:
    """A pair of numbers (their range is ``coordinate_problem``'s to judge)."""
    if not isinstance(point, tuple) or len(point) != 2:
        return False
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)


def _shown(text: str) -> str:
    """Model text quoted in an error, cut to ``SHOWN_TEXT_CHARS``."""
    if len(text) <= SHOWN_TEXT_CHARS:
        return repr(text)
    return f"{text[:SHOWN_TEXT_CHARS]!r}... ({len(text)} characters)"


# --------------------------------------------------------------------------------------------
# Action -> text (the canonical form a model is taught and that round-trips through the parser)
# --------------------------------------------------------------------------------------------


def _format_number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _format_point(point: Point) -> str:
    return f"({_format_number(point[0])},{_format_number(point[1])})"


def _quote(text: str) -> str:
    """Single-quoted literal in UI-TARS's escape convention (\\\\, \\', \\n, \\r, \\t)."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f"'{escaped}'"


def format_action(action: Action) -> str:
    """One action as UI-TARS writes it, e.g. ``click(start_box='(120,45)')``."""
    kind = action.kind
    args: list[str] = []
    if action.start is not None:
        args.append(f"start_box='{_format_point(action.start)}'")
    if action.end is not None:
        args.append(f"end_box='{_format_point(action.end)}'")
    if action.keys:
        args.append(f"key={_quote(' '.join(action.keys))}")
    if action.content is not None:
        args.append(f"content={_quote(action.content)}")
    if action.direction is not None:
        args.append(f"direction='{action.direction}'")
    return f"{kind}({', '.join(args)})"


def format_response(actions: Action | Sequence[Action], thought: str = "") -> str:
    """A full answer: ``Thought: <thought>\\nAction: <call>`` (calls separated by blank lines).

    The thought is written as given; a thought that itself contains a line starting with
    ``Action:`` cannot round-trip and is rejected.
    """
    if isinstance(actions, Action):
        actions = (actions,)
    if not actions:
        raise ValueError("format_response needs at least one action")
    if _ACTION_HEADER.search("\n" + thought):
        raise ValueError("a thought may not contain a line starting with 'Action:'")
    calls = "\n\n".join(format_action(a) for a in actions)
    return f"Thought: {thought.strip()}\nAction: {calls}"


_ACTION_HEADER = re.compile(r"(?m)^[ \t]*Action[ \t]*:")


# --------------------------------------------------------------------------------------------
# Text -> actions (total: never raises, never evaluates)
# --------------------------------------------------------------------------------------------

MAX_RESPONSE_CHARS = 32_768
"""Longer answers are rejected outright (the tokenizer below is linear, this only bounds work)."""

_BOX_TOKENS = re.compile(r"<\|box_start\|>|<\|box_end\|>|</?point>|</?bbox>")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_POINT_FILLER = re.compile(r"[\s()\[\],]*")
_TRAILING_SPECIALS = re.compile(r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>))+\s*$")
_THOUGHT_LABEL = re.compile(r"^\s*Thought[ \t]*:")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACES = re.compile(r"\s*")
_INTEGER = re.compile(r"[-+]?\d+")
_STRING_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
# The common answer, well-formed calls of at most two arguments (every action's most), one
# regex match a call (``_plain_calls``). Names longer than ``MAX_NAME_CHARS`` do not match.
# Every ``\s*`` is followed by a required non-space character and a string's pieces start with
# different characters, so a failed match backtracks linearly, whatever the input.
_PLAIN_NAME = rf"([A-Za-z_][A-Za-z0-9_]{{0,{MAX_NAME_CHARS - 1}}})"
_PLAIN_ARG = (
    rf"{_PLAIN_NAME}\s*=\s*(?:'([^'\\]*(?:\\.[^'\\]*)*)'|\"([^\"\\]*(?:\\.[^\"\\]*)*)\")\s*"
)
_PLAIN_CALL = re.compile(
    rf"{_PLAIN_NAME}\s*\(\s*(?:{_PLAIN_ARG}(?:,\s*{_PLAIN_ARG})?(?:,\s*)?)?\)\s*", re.DOTALL
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_PLAIN_POINT = re.compile(rf"[\s(\[]*({_NUMBER.pattern})[\s,]+({_NUMBER.pattern})[\s)\]]*")
"""The common point, ``(x,y)``: what ``_parse_point`` reads without its three substitutions."""

_POINT_KWARGS = {"start_box": "start_box", "point": "start_box", "start_point": "start_box"}
_END_KWARGS = {"end_box": "end_box", "end_point": "end_box"}
_ALLOWED_KWARGS: dict[str, dict[str, str]] = {
    **{kind: dict(_POINT_KWARGS) for kind in POINT_ACTIONS},
    "drag": {**_POINT_KWARGS, **_END_KWARGS},
    "scroll": {**_POINT_KWARGS, "direction": "direction"},
    "type": {"content": "content"},
    "hotkey": {"key": "key", "hotkey": "key"},
    "press": {"key": "key", "press": "key"},
    "keydown": {"key": "key", "press": "key"},
    "keyup": {"key": "key", "press": "key"},
    "wait": {},
    "finished": {"content": "content"},
    "call_user": {},
}
"""Keyword names each action accepts, mapped to the canonical keyword."""


class _ParseError(Exception):
    """Internal: carries the one-line reason out of the recursive descent."""


def parse_response(text: str, space: CoordinateSpace | None = None) -> ParsedResponse:
    """Parse one model answer (``Thought: ...\\nAction: ...``) into actions.

    Never raises and never evaluates the text. Points are kept in the model's frame; with
    ``space`` given, a point further outside the image than the tolerance is a parse failure.

    Args:
        text: The model's decoded answer.
        space: The coordinate space of the screenshot the model saw, for range checks.

    Returns:
        A ``ParsedResponse``; ``error`` is None exactly when the answer is valid.
    """
    if not isinstance(text, str):
        return ParsedResponse(thought="", error=f"response is {type(text).__name__}, not text")
    if len(text) > MAX_RESPONSE_CHARS:
        return ParsedResponse(
            thought="", error=f"response longer than {MAX_RESPONSE_CHARS} characters"
        )
    header = _ACTION_HEADER.search(text)
    if header is None:
        thought = _THOUGHT_LABEL.sub("", text, count=1).strip()
        return ParsedResponse(thought=thought, error="no line starting with 'Action:'")
    thought = _THOUGHT_LABEL.sub("", text[: header.start()], count=1).strip()
    body = text[header.end() :]
    if "<|" in body:
        body = _TRAILING_SPECIALS.sub("", body)
    try:
        calls = _plain_calls(body)
        if calls is None:
            calls = _CallReader(body).read_calls()
        actions = tuple(_call_to_action(call, space) for call in calls)
        if len(actions) > 1 and any(a.is_special for a in actions):
            raise _ParseError("wait/finished/call_user must be the only action of an answer")
    except _ParseError as reason:
        return ParsedResponse(thought=thought, error=str(reason))
    return ParsedResponse(thought=thought, actions=actions)


class _CallReader:
    """Reads ``name(key='value', ...)`` calls; knows identifiers and string literals, no more."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0

    def read_calls(self) -> list[_Call]:
        calls: list[_Call] = []
        self._skip_space()
        if self.pos >= len(self.source):
            raise _ParseError("empty Action section")
        while self.pos < len(self.source):
            if len(calls) == MAX_ACTIONS_PER_RESPONSE:
                raise _ParseError(f"more than {MAX_ACTIONS_PER_RESPONSE} actions in one answer")
            calls.append(self._read_call())
            self._skip_space()
        return calls

    def _skip_space(self) -> None:
        self.pos = _SPACES.match(self.source, self.pos).end()  # type: ignore[union-attr]

    def _context(self) -> str:
        return repr(self.source[self.pos : self.pos + 20])

    def _read_identifier(self, what: str) -> str:
        """An identifier at the cursor (the cursor moves past it and any space after it)."""
        match = _IDENT.match(self.source, self.pos)
        if match is None:
            raise _ParseError(f"expected {what} at {self._context()}")
        if len(match.group()) > MAX_NAME_CHARS:
            raise _ParseError(f"{what} {_shown(match.group())} is too long")
        self.pos = match.end()
        self._skip_space()
        return match.group()

    def _read_call(self) -> _Call:
        name = self._read_identifier("an action name")
        self._expect("(", f"'(' after {name!r}")
        kwargs: dict[str, str] = {}
        self._skip_space()
        while not self._peek(")"):
            key = self._read_identifier(f"a keyword argument in {name}()")
            self._expect("=", f"'=' after {key!r} in {name}()")
            self._skip_space()
            if key in kwargs:
                raise _ParseError(f"argument {key!r} given twice in {name}()")
            kwargs[key] = self._read_string(f"{name}({key}=...)")
            self._skip_space()
            if self._peek(","):
                self.pos += 1
                self._skip_space()
            elif not self._peek(")"):
                raise _ParseError(f"expected ',' or ')' in {name}() at {self._context()}")
        self.pos += 1
        return _Call(name, kwargs)

    def _peek(self, char: str) -> bool:
        return self.source.startswith(char, self.pos)

    def _expect(self, char: str, what: str) -> None:
        if not self._peek(char):
            raise _ParseError(f"expected {what} at {self._context()}")
        self.pos += 1

    def _read_string(self, where: str) -> str:
        quote = self.source[self.pos : self.pos + 1]
        if quote not in ("'", '"'):
            raise _ParseError(f"{where} must be a quoted string, got {self._context()}")
        self.pos += 1
        pieces: list[str] = []
        start = self.pos
        source = self.source
        while True:
            next_quote = source.find(quote, self.pos)
            next_escape = source.find("\\", self.pos)
            if next_quote < 0:
                raise _ParseError(f"unterminated string in {where}")
            if 0 <= next_escape < next_quote:
                pieces.append(source[start:next_escape])
                escaped = source[next_escape + 1 : next_escape + 2]
                # Known escapes decode; any other backslash is kept literally.
                pieces.append(_STRING_ESCAPES.get(escaped, "\\" + escaped))
                self.pos = start = next_escape + 2
                continue
            pieces.append(source[start:next_quote])
            self.pos = next_quote + 1
            return "".join(pieces)


def _plain_calls(source: str) -> list[_Call] | None:
    """The calls of a body that needs none of ``_CallReader``'s care (well-formed, at most two
    arguments a call, no argument given twice, names within ``MAX_NAME_CHARS``, at most
    ``MAX_ACTIONS_PER_RESPONSE`` calls): what the reader would return, about 3x faster. None
    for anything else, which the reader then reads, or names what is wrong with."""
    pos = _SPACES.match(source).end()  # type: ignore[union-attr]
    end = len(source)
    if pos == end:
        return None
    calls: list[_Call] = []
    while pos < end:
        match = _PLAIN_CALL.match(source, pos)
        if match is None or len(calls) == MAX_ACTIONS_PER_RESPONSE:
            return None
        name, key, single, double, key2, single2, double2 = match.groups()
        kwargs: dict[str, str] = {}
        if key is not None:
            kwargs[key] = _plain_string(single, double)
            if key2 is not None:
                if key2 == key:
                    return None
                kwargs[key2] = _plain_string(single2, double2)
        calls.append(_Call(name, kwargs))
        pos = match.end()
    return calls


def _plain_string(single: str | None, double: str | None) -> str:
    """A string literal's text (single- or double-quoted), escapes decoded."""
    value = single if single is not None else double
    assert value is not None
    return _ESCAPE.sub(_unescape, value) if "\\" in value else value


def _unescape(escape: re.Match[str]) -> str:
    """Known escapes decode; any other backslash is kept literally (as ``_CallReader``)."""
    return _STRING_ESCAPES.get(escape.group(1), escape.group())


def _call_to_action(call: _Call, space: CoordinateSpace | None) -> Action:
    kind = ACTION_ALIASES.get(call.name, call.name)
    if kind not in _ALLOWED_KWARGS:
        raise _ParseError(f"unknown action {call.name!r}")
    allowed = _ALLOWED_KWARGS[kind]
    args: dict[str, str] = {}
    for key, value in call.kwargs.items():
        if key not in allowed:
            raise _ParseError(f"{call.name}() got an unexpected argument {key!r}")
        canonical = allowed[key]
        if canonical in args:
            raise _ParseError(f"{call.name}() got {canonical!r} twice (under two names)")
        args[canonical] = value

    fields: dict[str, object] = {}
    if "start_box" in args:
        fields["start"] = _parse_point(args["start_box"], call.name, space)
    if "end_box" in args:
        fields["end"] = _parse_point(args["end_box"], call.name, space)
    if "key" in args:
        fields["keys"] = _parse_keys(args["key"], call.name)
    if "direction" in args:
        fields["direction"] = args["direction"].strip().lower()
    if "content" in args:
        fields["content"] = args["content"]
    if kind == "scroll" and "direction" not in fields:
        raise _ParseError("scroll() needs direction")
    if kind == "scroll" and "start" not in fields:
        raise _ParseError("scroll() needs start_box")
    try:
        return Action(kind, **fields)  # type: ignore[arg-type]
    except ValueError as problem:
        raise _ParseError(str(problem)) from None


def _parse_number(token: str, action_name: str) -> float:
    """One coordinate as written: an int for integer digits, else a float; within the bound.

    ``float`` reads any token ``_NUMBER`` matches (no digit limit; too large becomes inf), so the
    range is checked before an ``int`` is built: a huge integer is a named parse failure, never
    an ``OverflowError`` or Python's int digit limit.
    """
    value = float(token)
    problem = coordinate_problem(value, text=token)
    if problem:
        raise _ParseError(f"{action_name}() coordinate {problem}")
    if _INTEGER.fullmatch(token):
        return int(value)  # exact: |value| <= MAX_COORDINATE
    return value


def _parse_point(value: str, action_name: str, space: CoordinateSpace | None) -> Point:
    plain = _PLAIN_POINT.fullmatch(value)
    if plain is not None:
        numbers = list(plain.groups())
        leftover = ""
    else:
        cleaned = _BOX_TOKENS.sub(" ", value)
        numbers = _NUMBER.findall(cleaned)
        leftover = _POINT_FILLER.sub("", _NUMBER.sub(" ", cleaned))
    if leftover or len(numbers) not in (2, 4):
        raise _ParseError(
            f"{action_name}() point must be '(x,y)' or '[x1,y1,x2,y2]', got {value[:40]!r}"
        )
    coords = [_parse_number(n, action_name) for n in numbers]
    if len(coords) == 4:
        x1, y1, x2, y2 = coords
        point: Point = ((x1 + x2) / 2, (y1 + y2) / 2)
    else:
        point = (coords[0], coords[1])
    if space is not None and not space.is_near_image(*point):
        width, height = space.model_extent
        raise _ParseError(
            f"{action_name}() point ({point[0]}, {point[1]}) lies outside the {width}x{height} "
            f"image the model saw"
        )
    return point


def normalize_key(name: str) -> str:
    """A model's key spelling -> pyautogui's name (may still be unknown; callers check)."""
    key = name.strip()
    if len(key) > 1 or key.isupper():
        key = key.lower()
    return KEY_ALIASES.get(key, key)


def _parse_keys(value: str, action_name: str) -> tuple[str, ...]:
    tokens = value.split()
    if len(tokens) == 1 and len(tokens[0]) > 1 and "+" in tokens[0]:
        tokens = tokens[0].split("+")
        if not all(tokens):
            raise _ParseError(f"{action_name}() key {value[:40]!r} has an empty key name")
    if not tokens:
        raise _ParseError(f"{action_name}() needs a key")
    return tuple(normalize_key(token) for token in tokens)


# --------------------------------------------------------------------------------------------
# Actions -> OSWorld pyautogui code
# --------------------------------------------------------------------------------------------


def to_pyautogui(
    actions: ParsedResponse | Action | Sequence[Action], space: CoordinateSpace
) -> str:
    """OSWorld's action string for valid actions: pyautogui code, or WAIT / DONE / FAIL.

    Code is built only from validated values: ints we format, whitelisted key names and
    ``repr`` of typed text, so model text never becomes code. A ``type`` content ending in a
    newline types the rest and presses Enter.

    Args:
        actions: A valid ``ParsedResponse`` or the actions themselves.
        space: Maps the model's points onto the screen.

    Raises:
        ValueError: For a ``ParsedResponse`` with an error, or no actions (callers check ``ok``).
    """
    if isinstance(actions, ParsedResponse):
        if not actions.ok:
            raise ValueError(f"cannot convert an invalid response: {actions.error}")
        actions = actions.actions
    elif isinstance(actions, Action):
        actions = (actions,)
    if not actions:
        raise ValueError("to_pyautogui needs at least one action")
    if len(actions) == 1 and actions[0].is_special:
        return {"wait": ENV_WAIT, "finished": ENV_DONE, "call_user": ENV_FAIL}[actions[0].kind]
    lines: list[str] = []
    for action in actions:
        if action.is_special:
            raise ValueError("wait/finished/call_user must be the only action")
        lines.extend(_action_code(action, space))
    return "\n".join(lines)


def _xy(point: Point | None, space: CoordinateSpace) -> str:
    assert point is not None
    x, y = space.to_screen(*point)
    return f"x={x}, y={y}"


def _action_code(action: Action, space: CoordinateSpace) -> list[str]:
    kind = action.kind
    if kind == "click":
        return [f"pyautogui.click({_xy(action.start, space)})"]
    if kind == "left_double":
        return [f"pyautogui.doubleClick({_xy(action.start, space)})"]
    if kind == "right_single":
        return [f"pyautogui.rightClick({_xy(action.start, space)})"]
    if kind == "hover":
        return [f"pyautogui.moveTo({_xy(action.start, space)})"]
    if kind == "drag":
        return [
            f"pyautogui.moveTo({_xy(action.start, space)})",
            (
                f"pyautogui.dragTo({_xy(action.end, space)}, duration={DRAG_DURATION_S}, "
                "button='left')"
            ),
        ]
    if kind == "scroll":
        vertical = action.direction in ("up", "down")
        sign = 1 if action.direction in ("up", "right") else -1
        function = "scroll" if vertical else "hscroll"
        return [f"pyautogui.{function}({sign * SCROLL_CLICKS}, {_xy(action.start, space)})"]
    if kind == "hotkey":
        return [f"pyautogui.hotkey({', '.join(repr(k) for k in action.keys)})"]
    if kind in ("press", "keydown", "keyup"):
        function = {"press": "press", "keydown": "keyDown", "keyup": "keyUp"}[kind]
        return [f"pyautogui.{function}({action.keys[0]!r})"]
    if kind == "type":
        content = action.content or ""
        submit = content.endswith("\n")
        text = content[:-1] if submit else content
        lines = [f"pyautogui.write({text!r})"] if text or not submit else []
        if submit:
            lines.append("pyautogui.press('enter')")
        return lines
    raise ValueError(f"no pyautogui form for {kind!r}")  # unreachable: kinds are validated


def action_to_dict(action: Action) -> dict[str, object]:
    """JSON-ready view of an action (None fields left out)."""
    out: dict[str, object] = {"kind": action.kind}
    if action.start is not None:
        out["start"] = list(action.start)
    if action.end is not None:
        out["end"] = list(action.end)
    if action.keys:
        out["keys"] = list(action.keys)
    if action.content is not None:
        out["content"] = action.content
    if action.direction is not None:
        out["direction"] = action.direction
    return out
