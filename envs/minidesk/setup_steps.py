"""OSWorld ``config`` setup steps (and evaluator ``postconfig``) applied to a MiniDesk desktop.

Each step type is a function ``_<type>(desk, **parameters)``, as OSWorld's ``SetupController``
calls ``_<type>_setup(**parameters)``. ``STEP_PARAMS`` lists each type's parameters and their
JSON types; ``tasks.validate_task`` checks files against it at load time. Nothing here runs a
process: ``launch`` maps known commands to MiniDesk apps, ``execute`` accepts only
``python -c "<pyautogui code>"`` and runs that code through the same ``interpreter`` as agent
actions.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from typing import Any

from envs.minidesk.apps.browser import Browser
from envs.minidesk.apps.editor import Editor
from envs.minidesk.apps.files import HOME, Files
from envs.minidesk.apps.form import FormApp
from envs.minidesk.desktop import Desktop, Window
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
    "execute": {"command": (list, str), "shell": (bool,), "stdout": (str,), "stderr": (str,)},
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


class SetupError(RuntimeError):
    """A setup step that cannot be applied (message names the step)."""


def run_steps(
    desk: Desktop, steps: list[dict[str, Any]], warnings: list[str] | None = None
) -> None:
    """Apply ``steps`` in order; unsupported-but-harmless commands are recorded in ``warnings``."""
    for i, step in enumerate(steps):
        fn = _STEPS.get(step["type"])
        if fn is None:
            raise SetupError(f"step {i}: unknown type {step['type']!r}")
        note = fn(desk, **step.get("parameters", {}))
        if note and warnings is not None:
            warnings.append(f"step {i} ({step['type']}): {note}")
    desk.build()


def _argv(command: list | str) -> list[str]:
    return list(command) if isinstance(command, list) else shlex.split(command)


def browser(desk: Desktop, launch: bool = True) -> Browser | None:
    win = desk.find_app("browser")
    if win is None and launch:
        app = Browser(desk)
        desk.open_window(app)
        app.open_tab()
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
    prog = argv[0].rsplit("/", 1)[-1] if argv else ""
    if prog.startswith("python") and len(argv) >= 3 and argv[1] == "-c":
        try:
            commands = interpret(argv[2])
        except ActionRejected as exc:
            raise SetupError(f"execute: python code rejected by the interpreter: {exc}") from None
        for cmd in commands:
            if cmd.name not in ("WAIT", "DONE", "FAIL"):
                desk.apply(cmd.name, cmd.kwargs)
        return None
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


def _chrome_open_tabs(desk: Desktop, urls_to_open: list[str]) -> None:
    app = browser(desk)
    for url in urls_to_open:
        app.open_tab(str(url))
    win = desk.find_app("browser")
    if win is not None:
        desk.raise_window(win)


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
        raise SetupError(
            f"minidesk_app_state: unknown app {app!r}; expected form, editor, files, browser"
        )


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
