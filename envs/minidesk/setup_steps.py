"""OSWorld ``config`` setup steps (and evaluator ``postconfig``) applied to a MiniDesk desktop.

Each step type is a function ``_<type>(desk, **parameters)``, as OSWorld's ``SetupController``
calls ``_<type>_setup(**parameters)``. ``STEP_PARAMS`` lists each type's parameters and their
JSON types; ``check_parameters`` checks a step's parameters against it and then their contents
(command items and quoting, history entries, URLs, app states, form elements), so that
``tasks.validate_task`` rejects a bad step at load time with the parameter's path. A step that
still fails while it runs is a ``SetupError`` naming the step. Nothing here runs a process:
``launch`` maps known commands to MiniDesk apps, ``execute`` accepts only
``python -c "<pyautogui code>"`` and runs that code through the same ``interpreter`` as agent
actions.
"""

from __future__ import annotations

import dataclasses
import logging
import shlex
from collections.abc import Callable
from typing import Any

from envs.minidesk.apps.browser import Browser
from envs.minidesk.apps.editor import Editor
from envs.minidesk.apps.files import HOME, Files
from envs.minidesk.apps.form import FormApp
from envs.minidesk.apps.sites.catalogue import simulated
from envs.minidesk.desktop import Desktop, Window
from envs.minidesk.document import ELEMENT_KINDS, Element
from envs.minidesk.interpreter import ActionRejected, interpret

logger = logging.getLogger(__name__)

BROWSER_COMMANDS = ("google-chrome", "chrome", "chromium", "chromium-browser", "minidesk-browser")
EDITOR_COMMANDS = ("gedit", "gnome-text-editor", "minidesk-editor")
FILES_COMMANDS = ("nautilus", "minidesk-files")
NOOP_COMMANDS = ("socat", "xdotool", "sleep", "true")
APP_NAMES = {"browser": BROWSER_COMMANDS, "editor": EDITOR_COMMANDS, "files": FILES_COMMANDS}

STEP_PARAMS: dict[str, dict[str, tuple[type, ...]]] = {
    "launch": {"command": (list, str), "shell": (bool,)},
    "open": {"path": (str,)},
    "execute": {"command": (list, str), "shell": (bool, str), "stdout": (str,), "stderr": (str,)},
    "command": {"command": (list, str), "shell": (bool,)},
    "sleep": {"seconds": (int, float)},
    "activate_window": {"window_name": (str,), "strict": (bool,), "by_class": (bool,)},
    "close_window": {"window_name": (str,), "strict": (bool,), "by_class": (bool,)},
    "chrome_open_tabs": {"urls_to_open": (list,)},
    "chrome_close_tabs": {"urls_to_close": (list,)},
    "update_browse_history": {"history": (list,)},
    "minidesk_app_state": {"app": (str,), "state": (dict,), "fullscreen": (bool,)},
    "minidesk_files": {"files": (dict,)},
    "minidesk_dialog": {"title": (str,), "text": (str,), "buttons": (list,)},
}
"""Step type -> {parameter: allowed JSON types}."""
REQUIRED_PARAMS = {
    "launch": ("command",),
    "open": ("path",),
    "execute": ("command",),
    "command": ("command",),
    "sleep": ("seconds",),
    "activate_window": ("window_name",),
    "close_window": ("window_name",),
    "chrome_open_tabs": ("urls_to_open",),
    "chrome_close_tabs": ("urls_to_close",),
    "update_browse_history": ("history",),
    "minidesk_app_state": ("app", "state"),
    "minidesk_files": ("files",),
    "minidesk_dialog": ("text",),
}


APP_STATE_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "form": {
        "title": (str,),
        "elements": (list,),
        "initial": (dict, type(None)),
        "bg": (str,),
        "focus": (str, type(None)),
        "open": (str, type(None)),
    },
    "editor": {"path": (str,), "text": (str,)},
    "files": {"folder": (str,)},
    "browser": {"tabs": (list,), "active": (int,)},
}
"""``minidesk_app_state``: app -> {key of its ``state``: allowed JSON types}."""
HISTORY_ENTRY_KEYS = {
    "url": (str,),
    "title": (str,),
    "visit_time_from_now_in_seconds": (int, float),
}
"""An ``update_browse_history`` entry: key -> allowed JSON types (``url`` is required)."""
MAX_SECONDS = 100 * 365 * 86_400
"""Largest magnitude of a time in seconds (sleeps, visit times): a century."""
MAX_DOC_PX = 1_000_000
"""Largest magnitude of a form element's coordinate, in document pixels."""
_ANNOTATION_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "list": (list,),
    "list[int]": (list,),
    "list | None": (list, type(None)),
}
ELEMENT_FIELDS: dict[str, tuple[type, ...] | None] = {
    f.name: _ANNOTATION_TYPES.get(str(f.type)) for f in dataclasses.fields(Element)
}
"""A form element's keys -> allowed JSON types (None: any), read off ``document.Element``."""


class SetupError(ValueError):
    """A setup step that cannot be applied (the message names the step): a bad task."""


class StepParamError(ValueError):
    """A step parameter that is missing, unknown, of the wrong type or with bad contents.

    Attributes:
        where: The parameter's path below ``parameters``, e.g. ``command[1]`` or
            ``history[0].url``.
        problem: What is wrong with it.
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def run_steps(
    desk: Desktop, steps: list[dict[str, Any]], warnings: list[str] | None = None
) -> None:
    """Apply ``steps`` in order; unsupported-but-harmless commands are recorded in ``warnings``.

    Raises:
        SetupError: a step failed; the message names the step (index and type) and the cause.
    """
    for i, step in enumerate(steps):
        kind = step["type"]
        fn = _STEPS.get(kind)
        if fn is None:
            raise SetupError(f"step {i}: unknown type {kind!r}")
        try:
            note = fn(desk, **step.get("parameters", {}))
        except SetupError as exc:
            raise SetupError(f"step {i} ({kind}): {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a step of an untrusted task fails as the task's error
            raise SetupError(f"step {i} ({kind}): {type(exc).__name__}: {exc}") from exc
        if note and warnings is not None:
            warnings.append(f"step {i} ({kind}): {note}")
    try:
        desk.build()
    except Exception as exc:  # noqa: BLE001 - the desktop the steps left cannot be laid out
        raise SetupError(f"after the setup steps: {type(exc).__name__}: {exc}") from exc


def check_parameters(kind: str, params: dict[str, Any]) -> None:
    """Check a ``kind`` step's ``params``: required, known, of their JSON types, sound contents.

    Args:
        kind: A step type (a key of ``STEP_PARAMS``).
        params: The step's ``parameters`` object.

    Raises:
        StepParamError: naming the parameter's path (``command[0]``) and the problem.
    """
    for name in REQUIRED_PARAMS.get(kind, ()):
        if name not in params:
            raise StepParamError(name, f"missing (required by {kind})")
    for name, value in params.items():
        allowed = STEP_PARAMS[kind].get(name)
        if allowed is None:
            raise StepParamError(str(name), f"unknown parameter of {kind}")
        _need(value, allowed, str(name))
    check = _CHECKS.get(kind)
    if check is not None:
        check(params)


def _typename(value: Any) -> str:
    return type(value).__name__


def _need(value: Any, allowed: tuple[type, ...], where: str) -> None:
    """``value`` is one of the JSON types ``allowed`` (a bool is no int or float)."""
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
        raise StepParamError(where, f"must be {names}, got {_typename(value)}")


def _need_strs(values: list[Any], where: str) -> None:
    for i, value in enumerate(values):
        _need(value, (str,), f"{where}[{i}]")


def _need_seconds(value: Any, where: str, low: float = -MAX_SECONDS) -> None:
    _need(value, (int, float), where)
    if not low <= value <= MAX_SECONDS:  # NaN and infinities fail too
        raise StepParamError(
            where, f"must be a finite number >= {low:g} and <= {MAX_SECONDS:g}, got {value!r:.40}"
        )


def _need_keys(obj: dict[str, Any], keys: dict[str, tuple[type, ...]], where: str) -> None:
    """Every key of ``obj`` is one of ``keys``, its value of the key's JSON types."""
    for key, value in obj.items():
        allowed = keys.get(key)
        if allowed is None:
            raise StepParamError(f"{where}.{key}", f"unknown key; known: {', '.join(keys)}")
        _need(value, allowed, f"{where}.{key}")


def _python_code(argv: list[str]) -> str | None:
    """The code of ``python -c CODE ...``, else None."""
    prog = argv[0].rsplit("/", 1)[-1] if argv else ""
    if prog.startswith("python") and len(argv) >= 3 and argv[1] == "-c":
        return argv[2]
    return None


def _check_command(params: dict[str, Any]) -> None:
    shell = params.get("shell", False)
    if isinstance(shell, str) and shell not in ("true", "false"):  # OSWorld files write "true"
        raise StepParamError("shell", f"must be a bool or 'true'/'false', got {shell!r:.40}")
    command = params["command"]
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:  # an unclosed quote
            raise StepParamError("command", f"cannot be split into arguments: {exc}") from None
    else:
        _need_strs(command, "command")
        argv = command
    code = _python_code(argv)
    if code is not None:
        try:
            interpret(code)
        except ActionRejected as exc:
            raise StepParamError(
                "command", f"python code rejected by the interpreter: {exc}"
            ) from None


def _check_sleep(params: dict[str, Any]) -> None:
    _need_seconds(params["seconds"], "seconds", low=0)


def _check_urls(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda params: _need_strs(params[name], name)


def _check_history(params: dict[str, Any]) -> None:
    for i, item in enumerate(params["history"]):
        where = f"history[{i}]"
        if not isinstance(item, dict):
            raise StepParamError(
                where,
                f"must be an object {{{', '.join(HISTORY_ENTRY_KEYS)}}}, got {_typename(item)}",
            )
        if "url" not in item:
            raise StepParamError(f"{where}.url", "missing (required by a history entry)")
        _need_keys(item, HISTORY_ENTRY_KEYS, where)
        if "visit_time_from_now_in_seconds" in item:
            _need_seconds(
                item["visit_time_from_now_in_seconds"], f"{where}.visit_time_from_now_in_seconds"
            )


def _check_files(params: dict[str, Any]) -> None:
    for path, text in params["files"].items():
        _need(text, (str,), f"files[{path!r}]")


def _check_dialog(params: dict[str, Any]) -> None:
    _need_strs(params.get("buttons") or [], "buttons")


def _check_app_state(params: dict[str, Any]) -> None:
    app, state = params["app"], params["state"]
    if app not in APP_STATE_KEYS:
        raise StepParamError(
            "app", f"unknown app {app!r}; expected one of: {', '.join(APP_STATE_KEYS)}"
        )
    _need_keys(state, APP_STATE_KEYS[app], "state")
    if app == "browser":
        _need_strs(state.get("tabs", []), "state.tabs")
    if app == "form":
        for i, element in enumerate(state.get("elements", [])):
            _check_element(element, f"state.elements[{i}]")


def _check_element(element: Any, where: str) -> None:
    """A form element: an object of ``document.Element``'s fields, each of its JSON type."""
    if not isinstance(element, dict):
        raise StepParamError(where, f"must be an object, got {_typename(element)}")
    if element.get("kind") not in ELEMENT_KINDS:
        raise StepParamError(
            f"{where}.kind",
            f"must be one of {', '.join(ELEMENT_KINDS)}, got {element.get('kind')!r:.40}",
        )
    for key, value in element.items():
        if key not in ELEMENT_FIELDS:
            raise StepParamError(f"{where}.{key}", f"unknown; known: {', '.join(ELEMENT_FIELDS)}")
        allowed = ELEMENT_FIELDS[key]
        if allowed is not None:
            _need(value, allowed, f"{where}.{key}")
    rect = element.get("rect", [0, 0, 0, 0])
    if len(rect) != 4 or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= MAX_DOC_PX
        for v in rect
    ):
        raise StepParamError(
            f"{where}.rect", f"must be 4 numbers [x0, y0, x1, y1], got {rect!r:.60}"
        )
    for key in ("min", "max", "rows"):
        if key in element and not abs(element[key]) <= MAX_DOC_PX:  # NaN fails too
            raise StepParamError(
                f"{where}.{key}",
                f"must be a finite number within +-{MAX_DOC_PX}, got {element[key]!r:.40}",
            )
    show_if = element.get("show_if")
    if show_if is not None and (len(show_if) != 2 or not isinstance(show_if[0], str)):
        raise StepParamError(f"{where}.show_if", "must be [name, value]")
    for j, option in enumerate(element.get("options", [])):
        if not isinstance(option, str) and not (
            isinstance(option, list)
            and len(option) == 2
            and all(isinstance(o, str) for o in option)
        ):
            raise StepParamError(
                f"{where}.options[{j}]",
                f"must be a str or a [value, label] pair of str, got {option!r:.40}",
            )


def _argv(command: list | str) -> list[str]:
    return list(command) if isinstance(command, list) else shlex.split(command)


def browser(desk: Desktop, launch: bool = True) -> Browser | None:
    win = desk.find_app("browser")
    if win is None and launch:
        app = Browser(desk)
        desk.open_window(app)
        app.open_startup_tabs()
        return app
    return win.app if win else None  # type: ignore[return-value]


def _launch(desk: Desktop, command: list | str, shell: bool = False) -> str | None:
    argv = _argv(command)
    prog = argv[0].rsplit("/", 1)[-1] if argv else ""
    if prog in BROWSER_COMMANDS:
        app = browser(desk)
        urls = [a for a in argv[1:] if not a.startswith("-")]
        for url in urls:
            app.open_tab(url)
        return None
    if prog in EDITOR_COMMANDS:
        path = next((a for a in argv[1:] if not a.startswith("-")), f"{HOME}/Untitled.txt")
        desk.open_window(Editor(path, desk.files.get(path, "")))
        return None
    if prog in FILES_COMMANDS:
        folder = next((a for a in argv[1:] if not a.startswith("-")), HOME)
        desk.open_window(Files(folder))
        return None
    if prog in ("pkill", "killall"):
        target = argv[-1] if len(argv) > 1 else ""
        for name, commands in APP_NAMES.items():
            if any(target in c for c in commands) or target == name:
                while (win := desk.find_app(name)) is not None:
                    desk.close_window(win)
        return None
    if prog in NOOP_COMMANDS:
        return None
    return f"command {prog!r} is not emulated; ignored"


def _open(desk: Desktop, path: str) -> str | None:
    if path.startswith(("http://", "https://")):
        browser(desk).open_tab(path)
    elif path in desk.files or path.endswith((".txt", ".md", ".py", ".csv", ".json")):
        desk.files.setdefault(path, "")
        desk.open_window(Editor(path, desk.files[path]))
    else:
        desk.open_window(Files(path))
    return None


def _execute(desk: Desktop, command: list | str, shell: bool = False, **_: Any) -> str | None:
    argv = _argv(command)
    code = _python_code(argv)
    if code is not None:
        try:
            commands = interpret(code)
        except ActionRejected as exc:
            raise SetupError(f"python code rejected by the interpreter: {exc}") from None
        for cmd in commands:
            if cmd.name not in ("WAIT", "DONE", "FAIL"):
                desk.apply(cmd.name, cmd.kwargs)
        return None
    if isinstance(command, str) and desk.chrome.run_shell(command):
        return None  # the jq edit of Chrome's Preferences
    return _launch(desk, argv)


def _sleep(desk: Desktop, seconds: float) -> None:
    return None  # the clock is virtual


def _match_window(desk: Desktop, window_name: str, strict: bool = False) -> Window | None:
    name = window_name.lower()
    for win in reversed(desk.windows):
        title = win.app.title().lower()
        if (
            (title == name)
            if strict
            else (
                name in title or (name in ("google chrome", "chrome") and win.app.name == "browser")
            )
        ):
            return win
    return None


def _window_step(act: Callable[[Desktop, Window], None]) -> Callable[..., str | None]:
    """A step that finds a window by name (as ``_match_window``) and ``act``s on it."""

    def step(
        desk: Desktop, window_name: str, strict: bool = False, by_class: bool = False
    ) -> str | None:
        win = _match_window(desk, window_name, strict)
        if win is None:
            return f"no window named {window_name!r}"
        act(desk, win)
        return None

    return step


_activate_window = _window_step(Desktop.raise_window)
_close_window = _window_step(Desktop.close_window)


def _chrome_open_tabs(desk: Desktop, urls_to_open: list[str]) -> str | None:
    app = browser(desk)
    for url in urls_to_open:
        app.open_tab(str(url))
    app.close_default_tab()  # as OSWorld's step closes the page Chrome started with
    win = desk.find_app("browser")
    if win is not None:
        desk.raise_window(win)
    unknown = [str(u) for u in urls_to_open if not simulated(str(u))]
    if unknown:
        return f"not simulated, shown as 'This site can't be reached': {', '.join(unknown)}"
    return None


def _chrome_close_tabs(desk: Desktop, urls_to_close: list[str]) -> None:
    app = browser(desk, launch=False)
    if app is None:
        return
    for url in urls_to_close:
        for i, tab in enumerate(app.tabs):
            if tab.url.rstrip("/") == str(url).rstrip("/"):
                app.close_tab(i)
                break


def _update_browse_history(desk: Desktop, history: list[dict[str, Any]]) -> None:
    for item in history:
        desk.add_history(
            item["url"], item.get("title", ""), float(item.get("visit_time_from_now_in_seconds", 0))
        )
    app = browser(desk, launch=False)
    if app is not None:
        for tab in app.tabs:
            if tab.url.startswith("chrome://history"):
                tab.refresh()


def _minidesk_app_state(
    desk: Desktop, app: str, state: dict[str, Any], fullscreen: bool = False
) -> None:
    if fullscreen:
        desk.kiosk = True
    if app == "form":
        desk.open_window(FormApp(state, desk.now.date()), maximized=fullscreen)
    elif app == "editor":
        path = state.get("path", f"{HOME}/Untitled.txt")
        if "text" in state:
            desk.files[path] = state["text"]
        editor = Editor(path, desk.files.get(path, ""))
        desk.open_window(editor, maximized=fullscreen)
    elif app == "files":
        desk.open_window(Files(state.get("folder", HOME)), maximized=fullscreen)
    elif app == "browser":
        app_ = browser(desk)
        for url in state.get("tabs", []):
            app_.open_tab(url)
        if "active" in state:
            app_.activate(int(state["active"]))
    else:
        raise SetupError(f"unknown app {app!r}; expected one of: {', '.join(APP_STATE_KEYS)}")


def _minidesk_files(desk: Desktop, files: dict[str, str]) -> None:
    desk.files.update({str(k): str(v) for k, v in files.items()})


def _minidesk_dialog(
    desk: Desktop, text: str, title: str = "Notice", buttons: list | None = None
) -> None:
    desk.show_dialog(title, text, [str(b) for b in (buttons or ["OK"])])


_STEPS: dict[str, Callable[..., str | None]] = {
    "launch": _launch,
    "open": _open,
    "execute": _execute,
    "command": _execute,
    "sleep": _sleep,
    "activate_window": _activate_window,
    "close_window": _close_window,
    "chrome_open_tabs": _chrome_open_tabs,
    "chrome_close_tabs": _chrome_close_tabs,
    "update_browse_history": _update_browse_history,
    "minidesk_app_state": _minidesk_app_state,
    "minidesk_files": _minidesk_files,
    "minidesk_dialog": _minidesk_dialog,
}
assert set(_STEPS) == set(STEP_PARAMS), "every step type needs its parameter schema"
_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "launch": _check_command,
    "execute": _check_command,
    "command": _check_command,
    "sleep": _check_sleep,
    "chrome_open_tabs": _check_urls("urls_to_open"),
    "chrome_close_tabs": _check_urls("urls_to_close"),
    "update_browse_history": _check_history,
    "minidesk_app_state": _check_app_state,
    "minidesk_files": _check_files,
    "minidesk_dialog": _check_dialog,
}
"""Step type -> the check of its parameters' contents (after their JSON types)."""
