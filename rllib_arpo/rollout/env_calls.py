"""Env calls that cannot hang or crash the rollout loop: each runs in a thread with a timeout.

An env is untrusted: OSWorld VMs hang, remote servers die, a buggy env returns garbage. Every call
goes through ``start_call(...).result(timeout_s)``, which turns an exception, a hang or a bad
observation into an ``EnvCallError`` the loop records as data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np


class EnvCallError(RuntimeError):
    """An env call raised, hung past its timeout or returned garbage."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class PendingCall:
    """One env call running in its own thread; ``result`` waits at most a timeout."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._value = fn()
        except BaseException as error:  # noqa: BLE001 - any env failure is data
            self._error = error
        finally:
            self._done.set()

    def result(self, timeout_s: float) -> Any:
        if not self._done.wait(timeout_s):
            raise EnvCallError(f"env call hung for more than {timeout_s:.1f} s", timed_out=True)
        if self._error is not None:
            raise EnvCallError(f"{type(self._error).__name__}: {self._error}") from self._error
        return self._value


def refuses_task(problem: BaseException) -> bool:
    """Whether a failed reset says the task itself is bad, so a retry would fail the same way: the
    env raised ``ValueError``, ``LookupError`` or ``TypeError`` (an unknown id, a task file that
    does not validate), or an error that calls itself not ``transient`` (an env server's 4xx
    refusal). ``problem`` is the ``EnvCallError`` (its cause is the env's error) or the error."""
    error = problem.__cause__ if isinstance(problem, EnvCallError) else problem
    if error is None:
        return False  # a hang or a bad observation: the env, not the task
    transient = getattr(error, "transient", None)
    if transient is not None:
        return not transient
    return isinstance(error, (ValueError, LookupError, TypeError))


def start_call(fn: Callable[[], Any]) -> PendingCall:
    """Start ``fn()`` in a daemon thread: a hung env call can be abandoned, never joined."""
    return PendingCall(fn)


def screenshot_of(observation: Any) -> np.ndarray:
    """The uint8 HxWx3 screenshot of an observation (a dict with ``screenshot``, or the array)."""
    screenshot = observation["screenshot"] if isinstance(observation, dict) else observation
    if not (
        isinstance(screenshot, np.ndarray)
        and screenshot.dtype == np.uint8
        and screenshot.ndim == 3
        and screenshot.shape[2] == 3
    ):
        raise EnvCallError(
            f"observation screenshot must be a uint8 HxWx3 array, got "
            f"{type(screenshot).__name__} {getattr(screenshot, 'shape', '')}"
        )
    return screenshot
