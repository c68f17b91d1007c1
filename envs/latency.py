"""Simulated VM latency: an env wrapper that waits before every step and reset.

A MiniDesk step takes milliseconds; an OSWorld VM step takes seconds and a reset tens of
seconds (docs/scaling.md). ``bench/async.py`` stands in for VMs with this wrapper (a
simulation, and said so wherever its figures appear): the wait is a sleep, so it costs wall
time and no CPU, as a remote VM does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym


class SimulatedLatency(gym.Wrapper):
    """Sleeps ``step_s`` before each step and ``reset_s`` before each reset.

    Args:
        env: The env to slow down.
        step_s: Seconds added to every step (>= 0).
        reset_s: Seconds added to every reset (>= 0).
    """

    def __init__(self, env: gym.Env, step_s: float = 0.0, reset_s: float = 0.0) -> None:
        for name, value in (("step_latency_s", step_s), ("reset_latency_s", reset_s)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
        super().__init__(env)
        self.step_s = float(step_s)
        self.reset_s = float(reset_s)

    def reset(self, **kwargs: Any) -> Any:
        time.sleep(self.reset_s)
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        time.sleep(self.step_s)
        return self.env.step(action)


def make_with_latency(make: Callable[[dict[str, Any]], gym.Env], config: dict[str, Any]) -> gym.Env:
    """``make(config)`` without ``step_latency_s`` / ``reset_latency_s``, in a
    ``SimulatedLatency`` when either is set (an env creator's VM stand-in)."""
    config = dict(config)
    step_s, reset_s = config.pop("step_latency_s", 0.0), config.pop("reset_latency_s", 0.0)
    env = make(config)
    return SimulatedLatency(env, step_s, reset_s) if step_s or reset_s else env
