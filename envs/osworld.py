"""OSWorld as a gymnasium env: a client of an env server (``python -m envs.server``).

OSWorld's ``DesktopEnv`` cannot live in our venv (desktop-env pins numpy<2, gymnasium 0.28,
torch 2.5), so it runs in its own venv behind ``envs.server`` and this env talks to it over
HTTP. Any env the server hosts works the same way (MiniDesk served remotely is how the remote
path is tested). Setup: docs/osworld.md.

The observation and action spaces are those of every env here (``envs.spaces``), so one policy and one
rollout loop drive both.

## Action Space
``Text``: one pyautogui code string (what ``rllib_arpo.core.actions.to_pyautogui`` emits), or
``WAIT``, ``DONE``, ``FAIL``.

## Observation Space
``Dict(screenshot=Box(0, 255, (H, W, 3), uint8), instruction=Box(0, 255,
(MAX_INSTRUCTION_BYTES,), uint8))``: the instruction as zero-padded UTF-8 bytes
(``decode_instruction`` reads it back). The plain instruction and the task id are also in the
reset ``info``. (H, W) come from the server's ``/health`` unless ``screen_size`` is given.

## Rewards
The server's reward (always 0 for DesktopEnv). On the step that ends an episode
``info["eval_result"]`` holds the task's evaluator result in [0, 1]: the env's own when it
reports one (MiniDesk), else ``POST /evaluate``'s, which is then also that step's reward.

## Episode End
Terminated when the server says so (DONE or FAIL for DesktopEnv), truncated after
``max_steps`` steps. A server that fails or vanishes mid-episode (killed, timed out, 5xx) ends
the episode as terminated with ``info["error"]`` naming the URL and ``eval_result`` 0; it never
raises from ``step``. ``reset`` retries transient failures ``reset_retries`` times with
exponential backoff, then raises ``EnvServerError`` naming the URL; a reset the server refuses
(4xx: unknown task, bad field) raises ``EnvServerRejectedError`` at once, with the server's
message.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

import gymnasium as gym
import numpy as np

from envs.registration import OSWORLD_ENV_ID, OSWORLD_RLLIB_NAME
from envs.registration import register_rllib_env as register_project_env
from envs.server.protocol import (
    API_VERSION,
    DEFAULT_HOST,
    DEFAULT_PORT,
    TOKEN_ENV_VAR,
    b64decode,
    decode_image,
)
from envs.spaces import (
    MAX_INSTRUCTION_BYTES,
    Observation,
    ResetResult,
    StepResult,
    decode_instruction,
    encode_instruction,
    env_spaces,
)

logger = logging.getLogger(__name__)

ENV_ID = OSWORLD_ENV_ID
"""gymnasium id (``gymnasium.make("OSWorld-v0", server_url=..., token=...)``)."""
RLLIB_ENV_NAME = OSWORLD_RLLIB_NAME
"""Name under which ``register_rllib_env`` registers the env with RLlib's registry."""

REFERENCE_RESET_RETRIES = 8
"""The ARPO reference retries a failed OSWorld reset 8 times."""


TRANSIENT_4XX = (408, 429)
"""4xx answers that are worth retrying: Request Timeout, Too Many Requests (e.g. from a proxy)."""
MAX_SERVER_MESSAGE_CHARS = 2000
"""A server's error message is cut to this length (the server cuts its own to 1,000)."""


class EnvServerError(RuntimeError):
    """The env server at ``url`` was unreachable, timed out or answered an error.

    Attributes:
        url: The server's base URL.
        status: HTTP status of an error answer; None when no answer came (connection refused,
            reset, timeout).
        server_message: The server's ``{"error": ...}`` (or the start of its answer); None when
            no answer came.
    """

    def __init__(
        self, message: str, *, url: str, status: int | None = None,
        server_message: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.url = url
        self.status = status
        self.server_message = server_message

    @property
    def transient(self) -> bool:
        """Worth retrying: no answer, a timeout, or a server-side (5xx) error."""
        return self.status is None or self.status >= 500 or self.status in TRANSIENT_4XX


class EnvServerRejectedError(EnvServerError):
    """The env server refused the request (a 4xx: bad task, bad field, wrong token, out of
    order): the same request will be refused again, so it is never retried. ``server_message``
    says why."""


class EnvServerClient:
    """Stdlib HTTP client of one env server over one keep-alive connection.

    Args:
        url: ``http://host:port`` of the server.
        token: Its bearer token.
        connect_timeout_s: Limit on opening the TCP connection.
        read_timeout_s: Limit on waiting for an answer (a DesktopEnv reset runs the task's setup
            and can take minutes).
    """

    def __init__(
        self, url: str, token: str, connect_timeout_s: float = 5.0, read_timeout_s: float = 300.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"env server URL {url!r}; expected http://host:port")
        self.url = f"{parts.scheme}://{parts.netloc}"
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, payload: Any = None, timeout_s: float | None = None
    ) -> bytes:
        """One request -> the 200 answer's body; raises ``EnvServerError`` otherwise."""
        body = None
        if method == "POST":
            body = json.dumps({} if payload is None else payload, default=_plain).encode()
        for attempt in range(2):
            reused = self._conn is not None
            try:
                conn = self._connect()
                conn.sock.settimeout(timeout_s or self.read_timeout_s)
                conn.request(method, path, body=body, headers=self._headers)
                response = conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.disconnect()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self.disconnect()
                if reused and attempt == 0:
                    continue  # the server dropped an idle keep-alive connection: reconnect once
                raise self._unreachable(method, path, error) from error
            except (OSError, http.client.HTTPException) as error:
                self.disconnect()
                raise self._unreachable(method, path, error) from error
        if response.status != 200:
            try:
                message = str(json.loads(data)["error"])[:MAX_SERVER_MESSAGE_CHARS]
            except (ValueError, KeyError, TypeError):
                message = data[:300].decode("utf-8", errors="replace")
            status = response.status
            refused = 400 <= status < 500 and status not in TRANSIENT_4XX
            raise (EnvServerRejectedError if refused else EnvServerError)(
                f"env server {self.url} answered {method} {path} with HTTP {status}: {message}",
                url=self.url, status=status, server_message=message,
            )  # fmt: skip
        return data

    def request_json(
        self, method: str, path: str, payload: Any = None, timeout_s: float | None = None
    ) -> dict[str, Any]:
        data = self.request(method, path, payload, timeout_s)
        try:
            value = json.loads(data)
        except ValueError as error:
            raise EnvServerError(
                f"env server {self.url} answered {path} with non-JSON: {error}", url=self.url
            ) from None
        if not isinstance(value, dict):
            raise EnvServerError(
                f"env server {self.url} answered {path} with {value!r:.200}", url=self.url
            )
        return value

    def disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _connect(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.connect_timeout_s)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        return self._conn

    def _unreachable(self, method: str, path: str, error: BaseException) -> EnvServerError:
        reason = str(error) or type(error).__name__
        return EnvServerError(
            f"env server {self.url} unreachable ({method} {path}): {reason}", url=self.url
        )


class OSWorldEnv(gym.Env):
    """A gymnasium env whose episodes run on an env server (OSWorld's DesktopEnv, MiniDesk, ...).

    Args:
        server_url: ``http://host:port`` of the server, a bare port on 127.0.0.1, or a list of
            URLs of which ``server_index`` picks one (one env per server: one URL per env).
        token: The server's bearer token (default: ``$ARPO_ENV_TOKEN``).
        server_index: Which of several URLs this env uses (modulo their number).
        connect_timeout_s: Limit on opening a connection to the server.
        read_timeout_s: Limit on one answer (resets run task setup: minutes on a VM).
        reset_retries: Tries of a reset on transient failures (the reference: 8).
        retry_backoff_s: Sleep after the first failed try; doubled after each further one.
        max_backoff_s: Cap of that sleep.
        max_steps: Truncate (and evaluate) after this many steps; None = only the server ends
            episodes. Set it to the rollout's step limit so the evaluator runs at that limit.
        screen_size: (width, height) of the screenshots; default: what ``/health`` reports.
        task: Task used when ``reset`` gets no ``options["task"]`` (a dict or a task id).
        close_remote: ``close()`` also closes the server's env (stops its VM); off by default,
            as servers outlive their clients.
        render_mode: None or "rgb_array" (the last screenshot).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        server_url: str | int | Sequence[str] = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
        token: str | None = None,
        *,
        server_index: int = 0,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 300.0,
        reset_retries: int = REFERENCE_RESET_RETRIES,
        retry_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        max_steps: int | None = None,
        screen_size: tuple[int, int] | None = None,
        task: Any = None,
        close_remote: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; choose None or 'rgb_array'")
        if reset_retries < 1:
            raise ValueError(f"reset_retries={reset_retries}; need at least 1")
        token = token or os.environ.get(TOKEN_ENV_VAR)
        if not token:
            raise ValueError(f"no env server token: pass token= or set {TOKEN_ENV_VAR}")
        self.url = _pick_url(server_url, server_index)
        self.client = EnvServerClient(self.url, token, connect_timeout_s, read_timeout_s)
        self.reset_retries = reset_retries
        self.retry_backoff_s = retry_backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_steps = max_steps
        self.task = task
        self.close_remote = close_remote
        self.render_mode = render_mode

        try:
            health = self.client.request_json("GET", "/health")
        except EnvServerError as error:
            raise type(error)(
                f"cannot use env server {self.url}: {error}", url=self.url, status=error.status,
                server_message=error.server_message,
            ) from error  # fmt: skip
        if str(health.get("version")) != API_VERSION:
            raise EnvServerError(
                f"env server {self.url} speaks API version {health.get('version')!r}, this client "
                f"{API_VERSION!r}: update one of them", url=self.url,
            )  # fmt: skip
        self.server_env = str(health.get("env"))
        size = screen_size or health.get("screen_size")
        if not size:
            raise ValueError(f"env server {self.url} reports no screen size: pass screen_size")
        self.screen_size = (int(size[0]), int(size[1]))
        width, height = self.screen_size
        self.observation_space, self.action_space = env_spaces(width, height)

        self._screenshot: np.ndarray | None = None
        self._instruction = np.zeros(MAX_INSTRUCTION_BYTES, np.uint8)
        self._task_id: str | None = None
        self._steps = 0
        self._running = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> ResetResult:
        super().reset(seed=seed)
        task = (options or {}).get("task", self.task)
        self._running, self._steps = False, 0
        last: EnvServerError | None = None
        for attempt in range(self.reset_retries):
            try:
                reply = self.client.request_json("POST", "/reset", {"task": task, "seed": seed})
                break
            except EnvServerError as error:
                if not error.transient:
                    raise  # EnvServerRejectedError: the server's message says why, at once
                last = error
                logger.warning("reset %d/%d failed: %s", attempt + 1, self.reset_retries, error)
                if attempt + 1 < self.reset_retries:
                    time.sleep(min(self.max_backoff_s, self.retry_backoff_s * 2**attempt))
        else:
            raise EnvServerError(
                f"reset of task {_task_id_of(task)!r} failed {self.reset_retries} times on env "
                f"server {self.url}; last error: {last}", url=self.url, status=last.status,
                server_message=last.server_message,
            ) from last  # fmt: skip
        info = dict(reply.get("info") or {})
        instruction = str(reply["observation"].get("instruction") or info.get("instruction") or "")
        self._screenshot = self._decode(reply["observation"])
        self._instruction = encode_instruction(instruction)
        self._task_id = info.get("task_id") or _task_id_of(task)
        self._running = True
        info.update(instruction=instruction, task_id=self._task_id)
        return self._observation(), info

    def step(self, action: str) -> StepResult:
        assert self._screenshot is not None, "Call reset before using step method."
        if not self._running:
            raise RuntimeError("the episode is over: call reset before stepping again")
        if not isinstance(action, str):
            raise TypeError(f"an action is a pyautogui code string, got {type(action).__name__}")
        self._steps += 1
        try:
            reply = self.client.request_json("POST", "/step", {"action": action})
            screenshot = self._decode(reply["observation"])
            reward = float(reply["reward"])
            terminated, truncated = bool(reply["terminated"]), bool(reply["truncated"])
            info = dict(reply.get("info") or {})
        except (EnvServerError, KeyError, TypeError, ValueError) as error:
            return self._fail(f"step {self._steps} failed on env server {self.url}: {error}")
        self._screenshot = screenshot
        if self.max_steps is not None and self._steps >= self.max_steps and not terminated:
            truncated = True
        info["task_id"] = self._task_id
        if terminated or truncated:
            self._running = False
            if "eval_result" not in info:
                try:
                    reply = self.client.request_json("POST", "/evaluate")
                    info["eval_result"] = reward = float(reply["result"])
                except (EnvServerError, KeyError, TypeError, ValueError) as error:
                    info["eval_result"] = reward = 0.0
                    info["error"] = f"evaluation failed on env server {self.url}: {error}"
        return self._observation(), reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._screenshot is not None:
            return self._screenshot.copy()
        return None

    def close(self) -> None:
        if self.close_remote:
            try:
                self.client.request("POST", "/close", timeout_s=30.0)
            except EnvServerError as error:
                logger.warning("closing the remote env failed: %s", error)
        self.client.disconnect()
        super().close()

    def _observation(self) -> Observation:
        return {"screenshot": self._screenshot.copy(), "instruction": self._instruction.copy()}

    def _decode(self, observation: dict[str, Any]) -> np.ndarray:
        screenshot = decode_image(b64decode(observation["screenshot_png_b64"]))
        expected = self.observation_space["screenshot"].shape
        if screenshot.shape != expected:
            raise ValueError(
                f"env server {self.url} sent a {screenshot.shape[1]}x{screenshot.shape[0]} "
                f"screenshot; this env expects {expected[1]}x{expected[0]} (screen_size)"
            )
        return screenshot

    def _fail(self, message: str) -> StepResult:
        """A failed step as data: the episode ends (terminated), evaluator result 0."""
        logger.warning("%s", message)
        self._running = False
        self.client.disconnect()
        info = {"error": message, "eval_result": 0.0, "task_id": self._task_id}
        return self._observation(), 0.0, True, False, info


def _plain(value: Any) -> Any:
    """numpy scalars (a seed, a task field) -> Python numbers for JSON."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _pick_url(server_url: str | int | Sequence[str], index: int) -> str:
    if isinstance(server_url, int):
        return f"http://{DEFAULT_HOST}:{server_url}"
    if isinstance(server_url, str):
        urls = [u.strip() for u in server_url.split(",") if u.strip()]
    else:
        urls = [str(u) for u in server_url]
    if not urls:
        raise ValueError("no env server URL given")
    url = urls[index % len(urls)]
    return url if "://" in url else f"http://{url}"


def _task_id_of(task: Any) -> str | None:
    if isinstance(task, dict):
        return str(task["id"]) if "id" in task else None
    return None if task is None else str(task)


def make_rllib_env(config: dict[str, Any]) -> OSWorldEnv:
    """RLlib env creator: ``config`` holds ``OSWorldEnv``'s kwargs.

    With a list of ``server_url``s and no ``server_index``, each env takes its own server:
    ``(worker_index - 1) * envs_per_env_runner + vector_index`` (``envs_per_env_runner``
    defaults to 1; remote env runners count from 1).
    """
    kwargs = dict(config)
    per_runner = int(kwargs.pop("envs_per_env_runner", 1))
    if "server_index" not in kwargs:
        worker = int(getattr(config, "worker_index", 0))
        vector = int(getattr(config, "vector_index", 0))
        kwargs["server_index"] = max(worker - 1, 0) * per_runner + vector
    return OSWorldEnv(**kwargs)


def register_rllib_env(name: str = RLLIB_ENV_NAME) -> None:
    """Register the env with RLlib's registry (``config.environment("osworld", env_config=...)``)."""
    register_project_env(name, make_rllib_env)


__all__ = [
    "ENV_ID",
    "MAX_INSTRUCTION_BYTES",
    "RLLIB_ENV_NAME",
    "EnvServerClient",
    "EnvServerError",
    "EnvServerRejectedError",
    "OSWorldEnv",
    "decode_instruction",
    "encode_instruction",
    "make_rllib_env",
    "register_rllib_env",
]
