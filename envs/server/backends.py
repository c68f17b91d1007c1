"""What the env server hosts: a ``Backend`` (one env), and ``GymBackend`` for gymnasium envs.

A backend speaks the server's contract in PNG bytes and plain JSON, so the HTTP layer never
touches pixels: ``GymBackend`` wraps any gymnasium env (MiniDesk, test envs) and encodes its
uint8 screenshots; ``envs.server.desktop.DesktopEnvBackend`` wraps OSWorld's ``DesktopEnv``,
whose screenshots already are PNG bytes. ``envs.server.factory`` builds a backend by name.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from envs.server.protocol import to_jsonable
from rllib_arpo.core.images import encode_png

logger = logging.getLogger(__name__)


class TaskError(ValueError):
    """The task sent to ``/reset`` is unknown or malformed (answered 400, not retried)."""


REFUSED_TASK_ERRORS = (ValueError, LookupError, TypeError)
"""What a gymnasium env's ``reset`` raises for a task it does not know or cannot read (MiniDesk:
its ``TaskError``, ``ValueError`` for an unknown family or level, ``KeyError`` for an unknown id).
Raised for a given task, they become ``TaskError``: a bad request, not an env failure."""


class Backend:
    """One env behind the server. Every method may raise; the server turns that into a 500,
    except ``TaskError`` from ``reset`` (a 400: the client sent a task this env does not know).

    Attributes:
        name: Shown by ``GET /health``.
        screen_size: (width, height) of the screenshots, or None when unknown before a reset.
    """

    name: str = "env"
    screen_size: tuple[int, int] | None = None

    def reset(self, task: Any, seed: int | None) -> tuple[bytes, str, dict[str, Any]]:
        """Start an episode of ``task`` -> (screenshot PNG, instruction, info)."""
        raise NotImplementedError

    def step(self, action: str) -> tuple[bytes, float, bool, bool, dict[str, Any]]:
        """Run one action string -> (screenshot PNG, reward, terminated, truncated, info)."""
        raise NotImplementedError

    def evaluate(self) -> float:
        """The task's evaluator result in [0, 1] for the current episode."""
        raise NotImplementedError

    def screenshot(self) -> bytes:
        """The current screen as PNG bytes."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the env (stop the VM); the server builds a new backend on the next reset."""


class GymBackend(Backend):
    """A gymnasium env behind the server.

    The env's ``reset`` gets ``options={"task": task}`` (when a task is given), its
    observation is a dict with a uint8 HxWx3 ``"screenshot"`` (or is that array itself), and the
    instruction is read from ``info["instruction"]``, then ``obs["instruction"]`` (str or
    zero-padded UTF-8 bytes), then the task dict's ``"instruction"``.

    ``evaluate()`` calls the env's own ``evaluate()`` if it has one; otherwise it returns what
    the env reported when the episode ended (``info["eval_result"]``, else the final reward), and
    0.0 while the episode is still running.
    """

    def __init__(self, env: Any, name: str | None = None) -> None:
        self.env = env
        self.name = name or _env_name(env)
        self.screen_size = _screen_size_of_space(getattr(env, "observation_space", None))
        self._png: bytes | None = None
        self._ended = False
        self._final: float = 0.0

    def reset(self, task: Any, seed: int | None) -> tuple[bytes, str, dict[str, Any]]:
        options = None if task is None else {"task": task}
        try:
            observation, info = self.env.reset(seed=seed, options=options)
        except REFUSED_TASK_ERRORS as error:
            if task is None:
                raise
            raise TaskError(_reason(error)) from error
        self._png = encode_png(_screenshot_of(observation))
        self._ended, self._final = False, 0.0
        info = dict(info) if isinstance(info, dict) else {}
        return self._png, _instruction_of(observation, info, task), to_jsonable(info)

    def step(self, action: str) -> tuple[bytes, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._png = encode_png(_screenshot_of(observation))
        info = dict(info) if isinstance(info, dict) else {}
        if terminated or truncated:
            self._ended = True
            self._final = float(info.get("eval_result", reward))
        return self._png, float(reward), bool(terminated), bool(truncated), to_jsonable(info)

    def evaluate(self) -> float:
        evaluate = getattr(getattr(self.env, "unwrapped", self.env), "evaluate", None)
        if callable(evaluate):
            return float(evaluate())
        return self._final if self._ended else 0.0

    def screenshot(self) -> bytes:
        if self._png is None:
            raise RuntimeError("no screenshot before the first reset")
        return self._png

    def close(self) -> None:
        self.env.close()


def _reason(error: Exception) -> str:
    """``"KeyError: unknown task id 'x'"``: the type, then the message (a KeyError's unquoted)."""
    args = error.args
    message = args[0] if isinstance(error, KeyError) and len(args) == 1 else error
    return f"{type(error).__name__}: {message}"


def as_backend(env: Any, name: str | None = None) -> Backend:
    """``env`` itself if it is a Backend, else a GymBackend around it."""
    return env if isinstance(env, Backend) else GymBackend(env, name=name)


def _env_name(env: Any) -> str:
    spec = getattr(env, "spec", None)
    if spec is not None and getattr(spec, "id", None):
        return str(spec.id)
    return type(getattr(env, "unwrapped", env)).__name__


def _screen_size_of_space(space: Any) -> tuple[int, int] | None:
    try:
        box = space["screenshot"] if hasattr(space, "spaces") else space
        height, width = box.shape[:2]
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    return int(width), int(height)


def _screenshot_of(observation: Any) -> np.ndarray:
    screenshot = observation["screenshot"] if isinstance(observation, dict) else observation
    screenshot = np.asarray(screenshot)
    if screenshot.dtype != np.uint8 or screenshot.ndim != 3 or screenshot.shape[2] != 3:
        raise TypeError(
            f"the env's screenshot must be a uint8 HxWx3 array, got {screenshot.dtype} "
            f"{screenshot.shape}"
        )
    return screenshot


def _instruction_of(observation: Any, info: dict[str, Any], task: Any) -> str:
    if isinstance(info.get("instruction"), str):
        return info["instruction"]
    value = observation.get("instruction") if isinstance(observation, dict) else None
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.dtype == np.uint8:
        return value.tobytes().rstrip(b"\x00").decode("utf-8", errors="replace")
    if isinstance(task, dict) and isinstance(task.get("instruction"), str):
        return task["instruction"]
    return ""
