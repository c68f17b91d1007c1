"""The pyautogui action interpreter: an ``ast`` whitelist, never ``exec``.

OSWorld runs the agent's action string as Python on the VM (``python -c "import pyautogui;
import time; pyautogui.FAILSAFE = False; <code>"``). MiniDesk accepts the same strings but only
*reads* them: ``interpret`` parses the code with ``ast.parse`` and turns each statement into a
``Command`` when, and only when, the statement is

- a call ``pyautogui.<fn>(...)`` with ``fn`` in ``PYAUTOGUI_FUNCTIONS`` or ``time.sleep(...)``,
  whose arguments are literals (constants, negative numbers, tuples/lists of constants) and whose
  numbers are finite and within ``core.coords.MAX_COORDINATE`` (checked once, in ``_literal``);
- the no-op statements ``import pyautogui``, ``import time`` and ``pyautogui.FAILSAFE = False``.

Everything else (other names, attribute chains, f-strings, lambdas, comprehensions, starred
arguments, variables, other imports, code over ``MAX_CODE_CHARS`` or nested deeper than
``MAX_AST_DEPTH``) raises ``ActionRejected`` before any command is produced, so a rejected string
has no effect at all. This module is a security boundary: it imports nothing that can run code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from envs.spaces import MAX_CODE_CHARS
from rllib_arpo.core.coords import coordinate_problem

MAX_AST_DEPTH = 32
"""Deepest accepted syntax tree (a literal call is about 6 deep)."""
MAX_STATEMENTS = 64
"""Most statements in one action string."""
MAX_SLEEP_S = 60.0
"""Longest ``time.sleep`` accepted (MiniDesk's clock is virtual, the value is only validated)."""
MAX_REPEAT = 100
"""Most ``presses``/``clicks`` repetitions accepted in one call."""
MAX_EVENTS = 400
"""Most input events (clicks, key presses, wheel moves) in one action string."""

SPECIAL_ACTIONS = ("WAIT", "DONE", "FAIL")

PYAUTOGUI_FUNCTIONS: dict[str, tuple[str, ...]] = {
    # name: positional parameter names, in pyautogui's order
    "click": ("x", "y", "clicks", "interval", "button", "duration"),
    "doubleClick": ("x", "y", "interval", "button", "duration"),
    "tripleClick": ("x", "y", "interval", "button", "duration"),
    "rightClick": ("x", "y", "interval", "duration"),
    "middleClick": ("x", "y", "interval", "duration"),
    "moveTo": ("x", "y", "duration"),
    "moveRel": ("xOffset", "yOffset", "duration"),
    "dragTo": ("x", "y", "duration", "button", "mouseDownUp"),
    "dragRel": ("xOffset", "yOffset", "duration", "button", "mouseDownUp"),
    "mouseDown": ("x", "y", "button", "duration"),
    "mouseUp": ("x", "y", "button", "duration"),
    "write": ("message", "interval"),
    "typewrite": ("message", "interval"),
    "press": ("keys", "presses", "interval"),
    "hotkey": (),  # *args keys, interval= keyword
    "keyDown": ("key",),
    "keyUp": ("key",),
    "scroll": ("clicks", "x", "y"),
    "hscroll": ("clicks", "x", "y"),
    "vscroll": ("clicks", "x", "y"),
}
"""Whitelisted ``pyautogui`` functions and their positional parameters."""
_EXTRA_KEYWORDS = {"tween", "logScreenshot", "_pause"}
BUTTONS = ("left", "right", "middle", "primary", "secondary")


class ActionRejected(ValueError):
    """An action string that is not an accepted literal pyautogui program (message = reason)."""


@dataclass(frozen=True)
class Command:
    """One interpreted pyautogui call.

    Attributes:
        name: pyautogui function name (``click``, ``write``, ...) or ``sleep``, ``WAIT``, ``DONE``,
            ``FAIL``.
        kwargs: Normalized arguments (see ``interpret``).
    """

    name: str
    kwargs: dict = field(default_factory=dict)


def interpret(code: str) -> list[Command]:
    """Parse an OSWorld pyautogui action string into commands, without running anything.

    Normalized kwargs: click-like -> ``{"x", "y", "button", "clicks"}`` (x/y int or None);
    moveTo/dragTo/mouseDown/mouseUp -> ``{"x", "y", "button"}``; moveRel/dragRel are turned into
    moveTo/dragTo with ``{"dx", "dy"}``; write/typewrite -> ``{"text"}``; press ->
    ``{"keys": list, "presses"}``; hotkey -> ``{"keys": list}``; keyDown/keyUp -> ``{"key"}``;
    scroll/hscroll -> ``{"clicks", "x", "y"}``; sleep -> ``{"seconds"}``.

    Raises:
        ActionRejected: with the reason, for anything outside the whitelist.
    """
    if not isinstance(code, str):
        raise ActionRejected(f"action must be a str, got {type(code).__name__}")
    if len(code) > MAX_CODE_CHARS:
        raise ActionRejected(f"action is {len(code)} characters, limit {MAX_CODE_CHARS}")
    stripped = code.strip()
    if stripped in SPECIAL_ACTIONS:
        return [Command(stripped, {})]
    if not stripped:
        raise ActionRejected("empty action")
    if "\x00" in code:
        raise ActionRejected("action contains a NUL character")
    try:
        tree = ast.parse(code, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ActionRejected(f"not valid Python: {type(exc).__name__}: {exc}") from None
    _check_depth(tree)
    if len(tree.body) > MAX_STATEMENTS:
        raise ActionRejected(f"{len(tree.body)} statements, limit {MAX_STATEMENTS}")
    commands: list[Command] = []
    for stmt in tree.body:
        command = _statement(stmt)
        if command is not None:
            commands.append(command)
    events = sum(_events(c) for c in commands)
    if events > MAX_EVENTS:
        raise ActionRejected(f"{events} input events in one action, limit {MAX_EVENTS}")
    return commands


def read_action(
    action: str,
    info: dict[str, Any],
    check: Callable[[list[Command]], None] | None = None,
) -> list[Command]:
    """The commands of an agent's action string, as an env's ``step`` records them in ``info``:
    ``action_error`` (None, or why the string was rejected), ``action_valid`` and ``commands``
    (name, kwargs pairs). A string that ``interpret`` (or ``check``, e.g. screen bounds) rejects
    gives no commands: the step does nothing but still counts."""
    try:
        commands = interpret(action)
        if check is not None:
            check(commands)
        info["action_error"] = None
    except ActionRejected as exc:
        commands = []
        info["action_error"] = str(exc)
    info["action_valid"] = info["action_error"] is None
    info["commands"] = [(c.name, dict(c.kwargs)) for c in commands]
    return commands


def _events(command: Command) -> int:
    kw = command.kwargs
    if command.name == "press":
        return kw["presses"] * len(kw["keys"])
    if "clicks" in kw and command.name not in ("scroll", "hscroll"):  # a wheel move is one event
        return kw["clicks"]
    if command.name == "hotkey":
        return len(kw["keys"])
    return 1


def _check_depth(tree: ast.AST) -> None:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_AST_DEPTH:
            raise ActionRejected(f"syntax tree deeper than {MAX_AST_DEPTH}")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _statement(stmt: ast.stmt) -> Command | None:
    line = f"line {getattr(stmt, 'lineno', '?')}"
    if isinstance(stmt, ast.Import):
        names = [alias.name for alias in stmt.names]
        if all(
            alias.name in ("pyautogui", "time") and alias.asname is None for alias in stmt.names
        ):
            return None
        raise ActionRejected(f"{line}: import of {', '.join(names)} is not allowed")
    if isinstance(stmt, ast.Assign):
        target = stmt.targets[0] if len(stmt.targets) == 1 else None
        if (
            isinstance(target, ast.Attribute)
            and _is_name(target.value, "pyautogui")
            and target.attr in ("FAILSAFE", "PAUSE")
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, (bool, int, float))
        ):
            _literal(stmt.value, line)  # the value is ignored, but its number is still checked
            return None
        raise ActionRejected(f"{line}: assignments are not allowed")
    if isinstance(stmt, ast.Pass):
        return None
    if not isinstance(stmt, ast.Expr):
        raise ActionRejected(f"{line}: {type(stmt).__name__} statements are not allowed")
    call = stmt.value
    if isinstance(call, ast.Constant) and isinstance(call.value, str):
        if call.value.strip() in SPECIAL_ACTIONS:
            return Command(call.value.strip(), {})
        raise ActionRejected(f"{line}: a bare string is not an action")
    if isinstance(call, ast.Name) and call.id in SPECIAL_ACTIONS:
        return Command(call.id, {})
    if not isinstance(call, ast.Call):
        raise ActionRejected(f"{line}: only calls of pyautogui functions are allowed")
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        raise ActionRejected(f"{line}: only pyautogui.<function>(...) and time.sleep(...) calls")
    module, name = func.value.id, func.attr
    args = [_literal(a, line) for a in call.args]
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise ActionRejected(f"{line}: **kwargs are not allowed")
        kwargs[kw.arg] = _literal(kw.value, line)
    if module == "time" and name == "sleep":
        return _sleep(args, kwargs, line)
    if module != "pyautogui":
        raise ActionRejected(f"{line}: {module}.{name} is not allowed")
    if name not in PYAUTOGUI_FUNCTIONS:
        raise ActionRejected(f"{line}: pyautogui.{name} is not an allowed function")
    return _normalize(name, args, kwargs, line)


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _literal(node: ast.AST, line: str) -> Any:
    """The value of a literal argument; the one place numbers are read, so they are bounded here.

    A number must be finite and within ``MAX_COORDINATE`` (the largest any pyautogui argument
    needs): ``1e309`` (inf), ``0x`` + 400 digits or a 400-digit int is rejected with the value
    named, before any ``round``/``int``/``float`` could overflow.
    """
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _bounded(value, line)
        if isinstance(value, (str, bool)) or value is None:
            return value
        raise ActionRejected(f"{line}: constant of type {type(value).__name__} not allowed")
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return _bounded(-value if isinstance(node.op, ast.USub) else value, line)
    if isinstance(node, (ast.Tuple, ast.List)):
        values = []
        for elt in node.elts:
            if isinstance(elt, (ast.Tuple, ast.List)):
                raise ActionRejected(f"{line}: nested sequences are not allowed")
            values.append(_literal(elt, line))
        return tuple(values)
    if isinstance(node, ast.JoinedStr):
        raise ActionRejected(f"{line}: f-strings are not allowed")
    if isinstance(node, ast.Name):
        raise ActionRejected(f"{line}: name {node.id!r} is not a literal argument")
    raise ActionRejected(f"{line}: argument {type(node).__name__} is not a literal")


def _bounded(value: float, line: str) -> float:
    problem = coordinate_problem(value)
    if problem:
        raise ActionRejected(f"{line}: number {problem}")
    return value


def _bind(name: str, args: list, kwargs: dict, line: str) -> dict[str, Any]:
    params = PYAUTOGUI_FUNCTIONS[name]
    if len(args) > len(params):
        raise ActionRejected(
            f"{line}: pyautogui.{name} takes at most {len(params)} positional args"
        )
    bound = dict(zip(params, args))
    for key, value in kwargs.items():
        if key in bound:
            raise ActionRejected(f"{line}: pyautogui.{name} got {key!r} twice")
        if key not in params and key not in _EXTRA_KEYWORDS:
            raise ActionRejected(f"{line}: pyautogui.{name} has no argument {key!r}")
        bound[key] = value
    return bound


def _coord(value: Any, what: str, line: str, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, tuple) and what == "x":
        raise ActionRejected(f"{line}: pass x and y separately")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ActionRejected(f"{line}: {what} must be a number, got {value!r}")
    return round(value)  # finite and bounded: ``_literal`` read it


def _number(value: Any, what: str, line: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ActionRejected(f"{line}: {what} must be a number in [{lo}, {hi}], got {value!r}")
    return value


def _button(value: Any, line: str) -> str:
    if value is None:
        return "left"
    if value not in BUTTONS:
        raise ActionRejected(f"{line}: button must be one of {BUTTONS}, got {value!r}")
    return {"primary": "left", "secondary": "right"}.get(value, value)


def _key(value: Any, line: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 32:
        raise ActionRejected(f"{line}: a key must be a short non-empty str, got {value!r}")
    return value if len(value) == 1 else value.lower()


def _xy(bound: dict, line: str) -> tuple[int | None, int | None]:
    x, y = bound.get("x"), bound.get("y")
    if isinstance(x, tuple):  # pyautogui accepts click((x, y))
        if len(x) != 2 or y is not None:
            raise ActionRejected(f"{line}: a point tuple must be (x, y)")
        x, y = x
    x, y = _coord(x, "x", line), _coord(y, "y", line)
    if (x is None) != (y is None):
        raise ActionRejected(f"{line}: give both x and y, or neither")
    return x, y


def _timing(bound: dict, line: str) -> None:
    for key in ("duration", "interval"):
        if bound.get(key) is not None:
            _number(bound[key], key, line, 0, MAX_SLEEP_S)


def _normalize(name: str, args: list, kwargs: dict, line: str) -> Command:
    if name == "hotkey":
        for key in kwargs:
            if key not in ("interval",) and key not in _EXTRA_KEYWORDS:
                raise ActionRejected(f"{line}: pyautogui.hotkey has no argument {key!r}")
        keys = list(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else list(args)
        if not 1 <= len(keys) <= 6:
            raise ActionRejected(f"{line}: hotkey needs 1 to 6 keys")
        _timing(kwargs, line)
        return Command("hotkey", {"keys": [_key(k, line) for k in keys]})
    bound = _bind(name, args, kwargs, line)
    _timing(bound, line)
    if name in ("click", "doubleClick", "tripleClick", "rightClick", "middleClick"):
        x, y = _xy(bound, line)
        clicks = {"doubleClick": 2, "tripleClick": 3}.get(name, bound.get("clicks", 1))
        clicks = int(_number(clicks, "clicks", line, 0, MAX_REPEAT))
        button = {"rightClick": "right", "middleClick": "middle"}.get(name)
        button = button or _button(bound.get("button"), line)
        return Command(name, {"x": x, "y": y, "button": button, "clicks": clicks})
    if name in ("moveTo", "dragTo", "mouseDown", "mouseUp"):
        x, y = _xy(bound, line)
        out: dict[str, Any] = {"x": x, "y": y}
        if name != "moveTo":
            out["button"] = _button(bound.get("button"), line)
        return Command(name, out)
    if name in ("moveRel", "dragRel"):
        dx = _coord(bound.get("xOffset", 0) or 0, "xOffset", line)
        dy = _coord(bound.get("yOffset", 0) or 0, "yOffset", line)
        out = {"x": None, "y": None, "dx": dx, "dy": dy}
        if name == "dragRel":
            out["button"] = _button(bound.get("button"), line)
        return Command("moveTo" if name == "moveRel" else "dragTo", out)
    if name in ("write", "typewrite"):
        message = bound.get("message")
        if isinstance(message, tuple) and all(isinstance(k, str) for k in message):
            return Command("press", {"keys": [_key(k, line) for k in message], "presses": 1})
        if not isinstance(message, str):
            raise ActionRejected(f"{line}: {name} needs a str message, got {message!r}")
        return Command(name, {"text": message})
    if name == "press":
        keys = bound.get("keys")
        keys = list(keys) if isinstance(keys, tuple) else [keys]
        if not keys or len(keys) > MAX_REPEAT:
            raise ActionRejected(f"{line}: press needs 1 to {MAX_REPEAT} keys")
        presses = int(_number(bound.get("presses", 1), "presses", line, 0, MAX_REPEAT))
        return Command("press", {"keys": [_key(k, line) for k in keys], "presses": presses})
    if name in ("keyDown", "keyUp"):
        return Command(name, {"key": _key(bound.get("key"), line)})
    # scroll / hscroll / vscroll
    clicks = _coord(bound.get("clicks"), "clicks", line, allow_none=False)
    x, y = _xy(bound, line)
    return Command("scroll" if name == "vscroll" else name, {"clicks": clicks, "x": x, "y": y})


def _sleep(args: list, kwargs: dict, line: str) -> Command:
    if kwargs or len(args) != 1:
        raise ActionRejected(f"{line}: time.sleep takes exactly one positional number")
    return Command("sleep", {"seconds": float(_number(args[0], "seconds", line, 0, MAX_SLEEP_S))})
