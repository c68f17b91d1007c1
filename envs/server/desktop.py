"""OSWorld behind the env server: ``DesktopEnvBackend`` adapts ``desktop_env.DesktopEnv``.

DesktopEnv is not a gymnasium env: ``reset(task_config=...)`` returns only the observation,
``step(action, pause)`` returns the old 4-tuple with reward 0, the evaluator runs separately in
``evaluate()``, and screenshots are PNG bytes. The adapter maps that onto the server's contract.

desktop-env cannot be installed beside our stack (numpy<2, gymnasium 0.28, torch 2.5 pins; see
docs/osworld.md), so it is imported lazily, in the server's own venv only. Two ways to get a
DesktopEnv-like object (``make_desktop_backend``):

- the real ``DesktopEnv`` (desktop-env installed): it boots a Docker/KVM or cloud VM itself, or,
  with ``vm_address``, drives a VM that is already running (its provider factory is swapped for a
  no-op stub, the recipe of the OSWorld notes);
- ``RunningVM`` (desktop-env absent, ``vm_address`` given): a small DesktopEnv stand-in over the
  VM server's HTTP API (``VMController``, stdlib only). It runs pyautogui actions exactly as
  DesktopEnv does (``python -c "import pyautogui; ...; <code>"`` through ``/execute``), the simple
  setup steps (launch, execute, command, sleep, open, activate_window, close_window) and the
  simple evaluators (getters vm_command_line, vm_command_error, rule; metrics exact_match,
  check_include_exclude, infeasible). Tasks needing more (Chrome tabs over CDP, file
  downloads, the ~130 other metrics) need the real DesktopEnv; they fail with a clear error.
"""

from __future__ import annotations

import importlib
import json
import logging
import pathlib
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from envs.server.backends import Backend, TaskError
from envs.server.protocol import is_image

logger = logging.getLogger(__name__)

VM_SERVER_PORT = 5000
"""Port of OSWorld's VM server (Flask, inside the VM); the Docker provider maps it elsewhere."""

PYAUTOGUI_PREFIX = "import pyautogui; import time; pyautogui.FAILSAFE = False; "
"""What DesktopEnv's controller prepends to every pyautogui action before ``python -c``."""

SPECIAL_ACTIONS = ("WAIT", "FAIL", "DONE")
DEFAULT_PAUSE_S = 2.0
"""DesktopEnv's default pause after an action, before the screenshot."""


class VMError(RuntimeError):
    """The VM server could not be reached or answered an error."""


class VMController:
    """Stdlib client of OSWorld's VM server: the endpoints the adapter needs.

    Written because desktop-env's ``PythonController`` imports ``requests``, which our venv
    lacks; it mirrors that controller's behaviour: 3 tries per call, a screenshot must carry PNG
    or JPEG magic bytes, ``/execute`` gets ``{"command": [...], "shell": false}`` with a 120 s
    timeout and is not retried after a read timeout (the command may have run).

    Args:
        vm_ip: Host of the VM server.
        server_port: Its port (5000 inside the VM; the Docker provider maps it to a free port).
        retries: Tries per call.
        retry_interval_s: Sleep between tries.
        timeout_s: Timeout of reads (screenshot, accessibility tree, files).
        execute_timeout_s: Timeout of ``/execute`` and the setup endpoints.
    """

    def __init__(
        self,
        vm_ip: str,
        server_port: int = VM_SERVER_PORT,
        *,
        retries: int = 3,
        retry_interval_s: float = 5.0,
        timeout_s: float = 10.0,
        execute_timeout_s: float = 120.0,
    ) -> None:
        self.vm_ip = vm_ip
        self.server_port = server_port
        self.base_url = f"http://{vm_ip}:{server_port}"
        self.retries = retries
        self.retry_interval_s = retry_interval_s
        self.timeout_s = timeout_s
        self.execute_timeout_s = execute_timeout_s

    def _request(
        self,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        timeout_s: float | None = None,
        retry_after_timeout: bool = True,
    ) -> tuple[int, str, bytes]:
        data, headers = None, {}
        if json_body is not None:
            data, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        url = self.base_url + path
        last: Exception | None = None
        for attempt in range(self.retries):
            request = urllib.request.Request(url, data=data, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=timeout_s or self.timeout_s) as reply:
                    return reply.status, reply.headers.get("Content-Type", ""), reply.read()
            except urllib.error.HTTPError as error:
                last = VMError(f"{url}: HTTP {error.code}: {error.read()[:300]!r}")
            except TimeoutError as error:
                last = VMError(f"{url}: timed out: {error}")
                if not retry_after_timeout:
                    break
            except (urllib.error.URLError, OSError) as error:
                last = VMError(f"{url}: {error}")
            if attempt + 1 < self.retries:
                time.sleep(self.retry_interval_s)
        raise last or VMError(f"{url}: no attempt made")

    def _json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        _, _, data = self._request(path, **kwargs)
        try:
            value = json.loads(data)
        except json.JSONDecodeError as error:
            raise VMError(f"{self.base_url}{path} answered non-JSON: {error}") from None
        if not isinstance(value, dict):
            raise VMError(f"{self.base_url}{path} answered {type(value).__name__}, not an object")
        return value

    def get_screenshot(self) -> bytes | None:
        """PNG bytes of the VM screen (with cursor), or None after 3 failed tries."""
        for attempt in range(self.retries):
            try:
                _, content_type, data = self._request("/screenshot")
            except VMError as error:
                logger.warning("screenshot failed: %s", error)
                return None
            if is_image(data) or "image/" in content_type:
                return data
            logger.warning("screenshot payload is not an image (try %d)", attempt + 1)
            time.sleep(self.retry_interval_s)
        return None

    def get_accessibility_tree(self) -> str | None:
        """The accessibility tree (XML text), or None when the VM server failed."""
        return _or_none("accessibility tree", lambda: self._json("/accessibility").get("AT"))

    def get_terminal_output(self) -> str | None:
        """The terminal's output, or None when the VM server failed."""
        return _or_none("terminal output", lambda: self._json("/terminal").get("output"))

    def get_file(self, file_path: str) -> bytes | None:
        """The bytes of ``file_path`` on the VM, or None when the VM server failed."""
        return _or_none(
            f"file {file_path}", lambda: self._request("/file", form={"file_path": file_path})[2]
        )

    def execute(self, command: str | list[str], shell: bool = False) -> dict[str, Any]:
        """``POST /execute`` -> ``{status, output, error, returncode}``; raises VMError."""
        return self._json(
            "/execute", json_body={"command": command, "shell": shell},
            timeout_s=self.execute_timeout_s, retry_after_timeout=False,
        )  # fmt: skip

    def execute_python_command(self, code: str) -> dict[str, Any]:
        """Run pyautogui ``code`` on the VM as DesktopEnv does (``python -c`` with the prefix)."""
        return self.execute(["python", "-c", PYAUTOGUI_PREFIX + code], shell=False)

    def setup(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /setup/<endpoint>`` with a JSON payload."""
        return self._json(
            f"/setup/{endpoint}", json_body=payload, timeout_s=self.execute_timeout_s,
            retry_after_timeout=False,
        )  # fmt: skip


def _or_none(what: str, read: Callable[[], Any]) -> Any:
    """``read()``, or None (logged) when it raises ``VMError``, as PythonController's getters."""
    try:
        return read()
    except VMError as error:
        logger.warning("%s failed: %s", what, error)
        return None


class RunningVM:
    """A DesktopEnv stand-in for a VM that is already running, over ``VMController``.

    Same methods and results as ``desktop_env.DesktopEnv`` (``reset`` returns the observation
    only, ``step`` the 4-tuple with reward 0, ``evaluate`` the evaluator result); see the module
    docstring for the setup steps and evaluators it knows. It never reverts the VM: restore a
    snapshot between tasks yourself (or use the real DesktopEnv with a provider). Unlike
    DesktopEnv it sends actions unchanged (DesktopEnv rewrites ``'<'`` in ``press``/``typewrite``
    into ``hotkey("shift", ",")``, a workaround of a pyautogui keyboard-layout bug).

    Args:
        vm_ip: Host of the VM server.
        server_port: Its port.
        screen_size: (width, height) of the VM screen.
        require_a11y_tree: Put the accessibility tree in observations (one more request a step).
        client_password: The VM user's password ({CLIENT_PASSWORD} in setup commands).
        retry_interval_s: Sleep between the controller's tries.
    """

    def __init__(
        self,
        vm_ip: str,
        server_port: int = VM_SERVER_PORT,
        *,
        screen_size: tuple[int, int] = (1920, 1080),
        require_a11y_tree: bool = False,
        client_password: str = "password",
        retry_interval_s: float = 5.0,
    ) -> None:
        self.vm_ip, self.server_port = vm_ip, server_port
        self.client_password = client_password
        self.screen_width, self.screen_height = int(screen_size[0]), int(screen_size[1])
        self.require_a11y_tree = require_a11y_tree
        self.controller = VMController(vm_ip, server_port, retry_interval_s=retry_interval_s)
        self.instruction: str | None = None
        self.evaluator: dict[str, Any] = {}
        self.action_history: list[Any] = []

    def reset(
        self, task_config: dict[str, Any] | None = None, seed: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        self.action_history = []
        self.instruction, self.evaluator = None, {}
        if task_config is not None:
            self.instruction = task_config.get("instruction")
            self.evaluator = dict(task_config.get("evaluator") or {})
            for step in task_config.get("config") or []:
                self._setup_step(step)
        return self._observation()

    def step(self, action: Any, pause: float = DEFAULT_PAUSE_S) -> tuple[dict, int, bool, dict]:
        self.action_history.append(action)
        done, info = False, {}
        if action == "WAIT":
            time.sleep(pause)
        elif action == "FAIL":
            done, info = True, {"fail": True}
        elif action == "DONE":
            done, info = True, {"done": True}
        elif isinstance(action, str):
            result = self.controller.execute_python_command(action)
            if result.get("status") not in (None, "success") or result.get("returncode", 0):
                info = {"action_error": str(result.get("error") or result.get("output"))[:2000]}
        else:
            raise TypeError(f"a pyautogui action is a string, got {type(action).__name__}")
        time.sleep(pause)
        return self._observation(), 0, done, info

    def evaluate(self) -> float:
        for step in self.evaluator.get("postconfig") or []:
            self._setup_step(step)
        func = self.evaluator.get("func")
        failed = bool(self.action_history) and self.action_history[-1] == "FAIL"
        if func == "infeasible":
            return float(failed)
        if failed or func is None:
            return 0.0
        if isinstance(func, list):
            conj = self.evaluator.get("conj", "and")
            scores = []
            for i, name in enumerate(func):
                score = self._metric(
                    name, _nth(self.evaluator.get("result"), i),
                    _nth(self.evaluator.get("expected"), i), _nth(self.evaluator.get("options"), i),
                )  # fmt: skip
                if conj == "and" and score == 0.0:
                    return 0.0
                if conj == "or" and score == 1.0:
                    return 1.0
                scores.append(score)
            return sum(scores) / len(scores) if conj == "and" else max(scores)
        return self._metric(
            func, self.evaluator.get("result"), self.evaluator.get("expected"),
            self.evaluator.get("options"),
        )  # fmt: skip

    def close(self) -> None:
        """Nothing to stop: the VM belongs to whoever started it."""

    def _observation(self) -> dict[str, Any]:
        return {
            "screenshot": self.controller.get_screenshot(),
            "accessibility_tree": (
                self.controller.get_accessibility_tree() if self.require_a11y_tree else None
            ),
            "terminal": None,
            "instruction": self.instruction,
        }

    def _setup_step(self, step: dict[str, Any]) -> None:
        """One task ``config`` step, with the payloads desktop-env's SetupController sends."""
        kind, params = step.get("type"), dict(step.get("parameters") or {})
        if kind == "sleep":
            time.sleep(float(params["seconds"]))
        elif kind == "launch":
            self.controller.setup("launch", _command_payload(params))
        elif kind in ("execute", "command"):
            payload = _command_payload(params)
            payload["command"] = self._fill_placeholders(payload["command"])
            until = params.get("until") or {}
            for _ in range(5 if until else 1):  # "until": repeat until the output matches
                reply = self.controller.setup("execute", payload)
                if not until or _until_met(until, reply):
                    break
        elif kind == "open":
            self.controller.setup("open_file", {"path": params["path"]})
        elif kind in ("activate_window", "close_window"):
            self.controller.setup(kind, {
                "window_name": params["window_name"], "strict": params.get("strict", False),
                "by_class": params.get("by_class", False),
            })  # fmt: skip
        else:
            raise NotImplementedError(
                f"setup step {kind!r} needs desktop-env's SetupController; RunningVM knows "
                f"{', '.join(RUNNING_VM_SETUP_STEPS)} (install requirements/osworld-server.txt)"
            )

    def _fill_placeholders(self, command: str | list[str]) -> str | list[str]:
        """The {SCREEN_WIDTH}-style placeholders OSWorld's setup commands may contain."""
        values = {
            "{CLIENT_PASSWORD}": self.client_password,
            "{SCREEN_WIDTH_HALF}": str(self.screen_width // 2),
            "{SCREEN_HEIGHT_HALF}": str(self.screen_height // 2),
            "{SCREEN_WIDTH}": str(self.screen_width),
            "{SCREEN_HEIGHT}": str(self.screen_height),
        }

        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace(key, value)
            return text

        return fill(command) if isinstance(command, str) else [fill(c) for c in command]

    def _metric(self, func: str, result: Any, expected: Any, options: Any) -> float:
        metric = _METRICS.get(func)
        if metric is None:
            raise NotImplementedError(
                f"evaluator {func!r} needs desktop-env's metrics; RunningVM knows {sorted(_METRICS)}"
            )
        actual = self._get(result)
        if expected:
            return float(metric(actual, self._get(expected), **(options or {})))
        return float(metric(actual, **(options or {})))

    def _get(self, config: dict[str, Any] | None) -> Any:
        if not config:
            return None
        kind = config.get("type")
        if kind == "rule":
            return config.get("rules")
        if kind in ("vm_command_line", "vm_command_error"):
            reply = self.controller.execute(config["command"], bool(config.get("shell", False)))
            return reply.get("output" if kind == "vm_command_line" else "error")
        raise NotImplementedError(
            f"getter {kind!r} needs desktop-env's getters; RunningVM knows rule, "
            "vm_command_line, vm_command_error"
        )


RUNNING_VM_SETUP_STEPS = (
    "launch", "execute", "command", "sleep", "open", "activate_window", "close_window"
)  # fmt: skip


def _command_payload(params: dict[str, Any]) -> dict[str, Any]:
    if not params.get("command"):
        raise ValueError(f"setup step without a command: {params}")
    return {"command": params["command"], "shell": bool(params.get("shell", False))}


def _until_met(until: dict[str, Any], reply: dict[str, Any]) -> bool:
    return (
        ("returncode" in until and reply.get("returncode") == until["returncode"])
        or ("stdout" in until and until["stdout"] in (reply.get("output") or ""))
        or ("stderr" in until and until["stderr"] in (reply.get("error") or ""))
    )


def _exact_match(result: Any, rules: dict[str, Any]) -> float:
    return float(result == rules["expected"])


def _check_include_exclude(result: Any, rules: dict[str, Any]) -> float:
    if result is None:
        return 0.0
    include, exclude = rules.get("include", []), rules.get("exclude", [])
    return float(all(s in result for s in include) and not any(s in result for s in exclude))


_METRICS = {"exact_match": _exact_match, "check_include_exclude": _check_include_exclude}


def _nth(value: Any, index: int) -> Any:
    return value[index] if isinstance(value, list) else value


class DesktopEnvBackend(Backend):
    """``desktop_env.DesktopEnv`` (or ``RunningVM``) behind the env server.

    Args:
        desktop_env: A DesktopEnv-like object: ``reset(task_config=...) -> obs``,
            ``step(action, pause) -> (obs, reward, done, info)``, ``evaluate()``, ``close()``,
            ``controller.get_screenshot()``; ``obs["screenshot"]`` is PNG bytes.
        tasks_dir: Where task ids sent to ``/reset`` are looked up: ``<dir>/<id>.json`` or
            ``<dir>/<domain>/<id>.json`` (OSWorld's ``evaluation_examples/examples``).
        pause_s: Seconds DesktopEnv waits after an action before its screenshot.
        name: Shown by ``/health``.
    """

    def __init__(
        self,
        desktop_env: Any,
        *,
        tasks_dir: str | pathlib.Path | None = None,
        pause_s: float = DEFAULT_PAUSE_S,
        name: str = "osworld",
    ) -> None:
        self.env = desktop_env
        self.tasks_dir = pathlib.Path(tasks_dir) if tasks_dir else None
        self.pause_s = pause_s
        self.name = name
        width, height = (
            getattr(desktop_env, "screen_width", None),
            getattr(desktop_env, "screen_height", None),
        )
        self.screen_size = (int(width), int(height)) if width and height else None

    def reset(self, task: Any, seed: int | None) -> tuple[bytes, str, dict[str, Any]]:
        config = self.resolve_task(task)
        observation = self.env.reset(task_config=config, seed=seed)
        instruction = observation.get("instruction") or (config or {}).get("instruction") or ""
        info = {"task_id": (config or {}).get("id"), "instruction": instruction}
        return _png_of(observation), instruction, info

    def step(self, action: str) -> tuple[bytes, float, bool, bool, dict[str, Any]]:
        observation, reward, done, info = self.env.step(action, self.pause_s)
        return _png_of(observation), float(reward), bool(done), False, dict(info or {})

    def evaluate(self) -> float:
        return float(self.env.evaluate())

    def screenshot(self) -> bytes:
        return _png_of({"screenshot": self.env.controller.get_screenshot()})

    def close(self) -> None:
        self.env.close()

    def resolve_task(self, task: Any) -> dict[str, Any] | None:
        """A task dict as is; a task id -> its JSON under ``tasks_dir``."""
        if task is None:
            return None
        if isinstance(task, dict):
            _check_task_dict(task)
            return task
        task_id = str(task)
        if self.tasks_dir is None:
            raise TaskError(f"task id {task_id!r} given but the server has no tasks_dir")
        parts = task_id.split("/")
        if len(parts) > 2 or not all(_TASK_ID_PART.fullmatch(p) and p.strip(".") for p in parts):
            raise TaskError(f"bad task id {task_id!r}; expected <id> or <domain>/<id>")
        name = parts[-1]
        candidates = [self.tasks_dir.joinpath(*parts[:-1], f"{name}.json")]
        if len(parts) == 1:
            candidates += sorted(self.tasks_dir.glob(f"*/{name}.json"))
        for path in candidates:
            if path.is_file():
                try:
                    config = json.loads(path.read_text())
                except ValueError as error:
                    raise TaskError(f"task file {path} is not valid JSON: {error}") from None
                _check_task_dict(config, f"task file {path}")
                return config
        raise TaskError(f"no task {task_id!r} under {self.tasks_dir}")


_TASK_ID_PART = re.compile(r"[A-Za-z0-9_.-]{1,200}")
"""One part of a task id: a file name (200 characters at most, below the file system's 255)."""
_TASK_FIELD_TYPES = {"id": str, "instruction": str, "config": list, "evaluator": dict}
"""Fields of an OSWorld task dict that DesktopEnv reads, and their JSON types."""
_REQUIRED_TASK_FIELDS = ("id", "instruction")


def _check_task_dict(task: Any, origin: str = "the task") -> None:
    """Raise ``TaskError`` unless ``task`` is an object with an ``id`` and an ``instruction``
    whose fields that DesktopEnv reads have their types (``config``: a list of objects)."""
    if not isinstance(task, dict):
        raise TaskError(f"{origin} must be a JSON object, got {type(task).__name__}")
    for field in _REQUIRED_TASK_FIELDS:
        if field not in task:
            raise TaskError(f"{origin} has no field {field!r}")
    for field, kind in _TASK_FIELD_TYPES.items():
        if field in task and not isinstance(task[field], kind):
            raise TaskError(
                f"{origin}: field {field!r} must be a {kind.__name__}, got "
                f"{type(task[field]).__name__}"
            )
    if not all(isinstance(step, dict) for step in task.get("config", [])):
        raise TaskError(f"{origin}: field 'config' must be a list of objects (setup steps)")


def _png_of(observation: dict[str, Any]) -> bytes:
    screenshot = observation.get("screenshot")
    if not is_image(screenshot):
        raise VMError("the VM gave no screenshot (None or not PNG/JPEG bytes): is its server up?")
    return bytes(screenshot)


def make_desktop_backend(
    *,
    vm_address: str | None = None,
    tasks_dir: str | None = None,
    pause_s: float = DEFAULT_PAUSE_S,
    implementation: str = "auto",
    retry_interval_s: float = 5.0,
    **desktop_env_kwargs: Any,
) -> DesktopEnvBackend:
    """Build the OSWorld backend (the ``--env osworld`` of the server; kwargs from --env-kwargs).

    Args:
        vm_address: "host:port" (or "host:server:cdp:vnc:vlc" ports) of a VM already running
            OSWorld's VM server; None lets DesktopEnv start one with its provider.
        tasks_dir: Where task ids are looked up (see ``DesktopEnvBackend``).
        pause_s: Seconds to wait after an action before the screenshot.
        implementation: "desktop_env" (the real DesktopEnv; it must be importable),
            "running_vm" (``RunningVM``; needs ``vm_address``), or "auto" (the real one when
            importable, else RunningVM when ``vm_address`` is given).
        retry_interval_s: RunningVM's sleep between tries of a VM request.
        **desktop_env_kwargs: DesktopEnv's constructor arguments (provider_name, path_to_vm,
            screen_size, headless, require_a11y_tree, ...); RunningVM takes screen_size,
            require_a11y_tree and client_password.
    """
    if implementation not in ("auto", "desktop_env", "running_vm"):
        raise ValueError(
            f"implementation={implementation!r}; choose auto, desktop_env or running_vm"
        )
    if implementation != "running_vm":
        try:
            module = importlib.import_module("desktop_env.desktop_env")
        except ImportError as error:
            if implementation == "desktop_env" or vm_address is None:
                raise RuntimeError(
                    "desktop-env is not importable in this Python "
                    f"({error}); run the OSWorld env server from its own venv (pip install -r "
                    "requirements/osworld-server.txt), or pass vm_address to drive a running VM "
                    "with the built-in RunningVM"
                ) from error
            logger.warning("desktop-env not installed: driving %s with RunningVM", vm_address)
        else:
            env = _make_desktop_env(module, vm_address, desktop_env_kwargs)
            return DesktopEnvBackend(env, tasks_dir=tasks_dir, pause_s=pause_s)
    if vm_address is None:
        raise ValueError("implementation='running_vm' needs vm_address='host:port'")
    host, ports = _split_address(vm_address)
    screen_size = tuple(desktop_env_kwargs.pop("screen_size", (1920, 1080)))
    a11y = bool(desktop_env_kwargs.pop("require_a11y_tree", False))
    password = desktop_env_kwargs.pop("client_password", "") or "password"
    if desktop_env_kwargs:
        logger.warning("RunningVM ignores %s", sorted(desktop_env_kwargs))
    vm = RunningVM(
        host, ports[0], screen_size=screen_size, require_a11y_tree=a11y,
        client_password=password, retry_interval_s=retry_interval_s,
    )  # fmt: skip
    return DesktopEnvBackend(vm, tasks_dir=tasks_dir, pause_s=pause_s)


def _split_address(vm_address: str) -> tuple[str, list[int]]:
    """``host[:server[:cdp:vnc:vlc]]`` -> (host, [server, cdp, vnc, vlc]), OSWorld's defaults."""
    host, *ports = vm_address.split(":")
    if not host or len(ports) not in (0, 1, 4):
        raise ValueError(
            f"vm_address {vm_address!r}; expected host:port or host:server:cdp:vnc:vlc"
        )
    defaults = [VM_SERVER_PORT, 9222, 8006, 8080]
    try:
        values = [int(p) for p in ports]
    except ValueError:
        raise ValueError(f"vm_address {vm_address!r} has a non-numeric port") from None
    return host, values + defaults[len(values) :]


class _StubManager:
    """VM manager of a VM someone else runs: nothing to allocate or free."""

    def get_vm_path(self, *args: Any, **kwargs: Any) -> str:
        return "running-vm"

    def add_vm(self, *args: Any, **kwargs: Any) -> None: ...

    def delete_vm(self, *args: Any, **kwargs: Any) -> None: ...

    def occupy_vm(self, *args: Any, **kwargs: Any) -> None: ...


class _StubProvider:
    """Provider of a running VM: no-op start/stop/revert; its address as DesktopEnv parses it."""

    def __init__(self, ip_ports: str) -> None:
        self.ip_ports = ip_ports

    def start_emulator(self, *args: Any, **kwargs: Any) -> None: ...

    def get_ip_address(self, *args: Any, **kwargs: Any) -> str:
        return self.ip_ports

    def revert_to_snapshot(self, *args: Any, **kwargs: Any) -> None:
        logger.info("running VM: no snapshot revert; the task starts from the current state")

    def save_state(self, *args: Any, **kwargs: Any) -> None: ...

    def stop_emulator(self, *args: Any, **kwargs: Any) -> None: ...


def _make_desktop_env(module: Any, vm_address: str | None, kwargs: dict[str, Any]) -> Any:
    if vm_address is None:
        return module.DesktopEnv(**kwargs)
    host, ports = _split_address(vm_address)
    stub = (_StubManager(), _StubProvider(":".join([host, *map(str, ports)])))
    original = module.create_vm_manager_and_provider
    # DesktopEnv's __init__ looks the factory up in its module: swap it for the duration only.
    module.create_vm_manager_and_provider = lambda *args, **kw: stub
    try:
        # "docker" = a provider that starts clean, so the first reset does not revert.
        return module.DesktopEnv(
            **{
                **kwargs,
                "provider_name": "docker",
                "path_to_vm": kwargs.get("path_to_vm") or "running-vm",
            }
        )
    finally:
        module.create_vm_manager_and_provider = original
