"""Test doubles of the remote-env tests: a small gymnasium env and a fake OSWorld VM server.

``python -m envs.server --env remote_fakes:make_counter_env`` serves ``CounterEnv`` (with this
directory on PYTHONPATH).
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from PIL import Image

HEIGHT, WIDTH = 48, 64


class CounterEnv(gym.Env):
    """Count non-special actions; "DONE" succeeds after at least 2 of them.

    The screenshot's red channel is 10 x the count, so every step's screen differs. Actions
    "RAISE" (the env raises) and "SLEEP <s>" (the env hangs) inject faults. ``failing_resets``
    makes the first N resets raise (retry tests).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, failing_resets: int = 0) -> None:
        self.observation_space = spaces.Dict(
            {"screenshot": spaces.Box(0, 255, (HEIGHT, WIDTH, 3), np.uint8)}
        )
        self.action_space = spaces.Text(100)
        self.failing_resets = failing_resets
        self.resets = 0
        self.count = 0
        self.task: Any = None
        self.closed = False

    def _obs(self) -> dict[str, np.ndarray]:
        screen = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
        screen[:, :, 0] = min(10 * self.count, 255)
        screen[:8, :8] = (0, 0, 0)
        return {"screenshot": screen}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.resets += 1
        if self.resets <= self.failing_resets:
            raise RuntimeError(f"VM setup failed (reset {self.resets})")
        self.count = 0
        self.task = (options or {}).get("task")
        task_id = self.task.get("id") if isinstance(self.task, dict) else self.task
        return self._obs(), {"instruction": f"count to two ({task_id})", "task_id": task_id}

    def step(self, action: str):
        if action == "RAISE":
            raise RuntimeError("the emulator crashed")
        if action.startswith("SLEEP "):
            time.sleep(float(action.split()[1]))
        if action in ("DONE", "FAIL"):
            result = float(action == "DONE" and self.count >= 2)
            return self._obs(), result, True, False, {"eval_result": result}
        self.count += 1
        return self._obs(), 0.0, False, False, {"count": np.int64(self.count)}

    def close(self) -> None:
        self.closed = True


def make_counter_env(**kwargs: Any) -> CounterEnv:
    return CounterEnv(**kwargs)


class EvalFreeEnv(CounterEnv):
    """Like CounterEnv but reports no eval_result: the client must call /evaluate."""

    def step(self, action: str):
        observation, _, terminated, truncated, info = super().step(action)
        info.pop("eval_result", None)
        return observation, 0.0, terminated, truncated, info

    def evaluate(self) -> float:
        return 0.75


# --- a fake OSWorld VM server (the Flask app inside the VM), stdlib only ---------------------


class FakeVM:
    """State of the fake VM: what ran, what was typed, which windows were set up."""

    def __init__(self) -> None:
        self.commands: list[Any] = []
        self.setups: list[tuple[str, dict[str, Any]]] = []
        self.typed = ""
        self.screenshot_failures = 0

    def screenshot_png(self) -> bytes:
        screen = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
        screen[:, :, 1] = min(20 * len(self.commands), 255)
        buffer = io.BytesIO()
        Image.fromarray(screen).save(buffer, format="PNG")
        return buffer.getvalue()

    def execute(self, command: Any, shell: bool) -> dict[str, Any]:
        self.commands.append(command)
        if isinstance(command, list) and command[:2] == ["python", "-c"]:
            for text in re.findall(r"pyautogui\.(?:write|typewrite)\('([^']*)'", command[2]):
                self.typed += text
            return {"status": "success", "output": "", "error": "", "returncode": 0}
        if command in ("cat /tmp/typed", ["cat", "/tmp/typed"]):
            return {"status": "success", "output": self.typed, "error": "", "returncode": 0}
        return {"status": "error", "output": "", "error": "unknown command", "returncode": 1}


class _VMHandler(BaseHTTPRequestHandler):
    server: _VMServer

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, data: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        vm = self.server.vm
        if self.path == "/screenshot":
            if vm.screenshot_failures > 0:
                vm.screenshot_failures -= 1
                return self._send(500, b'{"error": "no display"}')
            return self._send(200, vm.screenshot_png(), "image/png")
        if self.path == "/accessibility":
            return self._send(200, json.dumps({"AT": "<desktop-frame/>"}).encode())
        if self.path == "/terminal":
            return self._send(200, json.dumps({"output": "$ "}).encode())
        if self.path == "/platform":
            return self._send(200, b"Linux", "text/plain")
        self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:
        vm = self.server.vm
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/file":
            path = parse_qs(raw.decode())["file_path"][0]
            return self._send(200, f"contents of {path}".encode(), "application/octet-stream")
        body = json.loads(raw or b"{}")
        if self.path in ("/execute", "/setup/execute"):
            return self._send(
                200, json.dumps(vm.execute(body["command"], body.get("shell"))).encode()
            )
        if self.path.startswith("/setup/"):
            vm.setups.append((self.path.removeprefix("/setup/"), body))
            return self._send(200, b'{"status": "success"}')
        self._send(404, b'{"error": "not found"}')


class _VMServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, vm: FakeVM) -> None:
        self.vm = vm
        super().__init__(("127.0.0.1", 0), _VMHandler)


def start_fake_vm(max_lifetime_s: float = 120.0) -> tuple[FakeVM, _VMServer]:
    """A fake VM server on 127.0.0.1 (a free port), serving in a daemon thread; it shuts itself
    down after ``max_lifetime_s``. Stop it with ``server.shutdown(); server.server_close()``."""
    vm = FakeVM()
    server = _VMServer(vm)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    ).start()
    timer = threading.Timer(max_lifetime_s, server.shutdown)
    timer.daemon = True
    timer.start()
    return vm, server
