"""Small envs for smoke tests and chaos tests of the training loop (no MiniDesk needed).

- ``TargetEnv``: click inside the white quarter of a 56x56 screen, then ``DONE`` (reward 1).
- ``FaultInjectionEnv``: wraps any env and, on a seeded schedule, raises, hangs or returns a
  garbage observation from ``reset``/``step``: the runner must count these, never crash.

Both follow the observation convention of our envs (a dict with a uint8 HxWx3 ``screenshot``,
the instruction in ``info``) and take pyautogui code strings as actions.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.spaces import Observation, ResetResult, StepResult

TARGET_SIZE = 56
FAULTS = ("raise", "hang", "garbage")


class TargetEnv(gym.Env):
    """Click inside the white top-left quarter, then say DONE.

    ## Action Space
    pyautogui code strings (only ``pyautogui.click(x=.., y=..)``, ``DONE`` and ``FAIL`` matter).

    ## Observation Space
    ``{"screenshot": Box(0, 255, (56, 56, 3), uint8)}``; the instruction is in ``info``.

    ## Rewards
    1 for ``DONE`` after a click inside the target, else 0.

    ## Episode End
    ``DONE``/``FAIL`` terminate; ``max_steps`` (default 4) truncates.
    """

    def __init__(self, config: dict | None = None) -> None:
        config = dict(config or {})
        self.max_steps = int(config.get("max_steps", 4))
        self.observation_space = spaces.Dict(
            {"screenshot": spaces.Box(0, 255, (TARGET_SIZE, TARGET_SIZE, 3), np.uint8)}
        )
        self.action_space = spaces.Text(4096)
        self.hit = False
        self.steps = 0

    def default_tasks(self) -> list[str]:
        return ["target-a", "target-b"]

    def _obs(self) -> Observation:
        screen = np.zeros((TARGET_SIZE, TARGET_SIZE, 3), np.uint8)
        screen[: TARGET_SIZE // 2, : TARGET_SIZE // 2] = 255
        return {"screenshot": screen}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> ResetResult:
        super().reset(seed=seed)
        self.hit, self.steps = False, 0
        task = (options or {}).get("task", "target-a")
        return self._obs(), {"instruction": f"Click the white square ({task}).", "task_id": task}

    def step(self, action: str) -> StepResult:
        self.steps += 1
        if action.startswith("pyautogui.click("):
            try:
                x = int(action.split("x=")[1].split(",")[0])
                y = int(action.split("y=")[1].split(")")[0])
            except (IndexError, ValueError):
                x = y = TARGET_SIZE
            self.hit = x < TARGET_SIZE // 2 and y < TARGET_SIZE // 2
        done = action in ("DONE", "FAIL")
        truncated = not done and self.steps >= self.max_steps
        result = float(self.hit and action == "DONE")
        info = {"eval_result": result} if done or truncated else {}
        return self._obs(), result if done else 0.0, done, truncated, info


class FaultInjectionEnv(gym.Wrapper):
    """Makes every ``every``-th call (reset or step) of the wrapped env fail.

    Args:
        env: The env to wrap.
        fault: "raise" (RuntimeError), "hang" (sleeps ``hang_s``) or "garbage" (a string
            instead of an observation).
        every: Period of the failing calls (counted over reset and step together).
        hang_s: How long a hang lasts.
    """

    def __init__(self, env: gym.Env, fault: str = "raise", every: int = 3, hang_s: float = 30.0):
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}, got {fault!r}")
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        super().__init__(env)
        self.fault, self.every, self.hang_s = fault, every, hang_s
        self.calls = 0

    def default_tasks(self) -> list[Any]:
        provider = getattr(self.env.unwrapped, "default_tasks", None)
        return list(provider()) if callable(provider) else []

    def _fail(self) -> bool:
        self.calls += 1
        if self.calls % self.every:
            return False
        if self.fault == "raise":
            raise RuntimeError(f"injected failure on call {self.calls}")
        if self.fault == "hang":
            time.sleep(self.hang_s)
        return True

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        if self._fail():
            return "garbage", {}
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self._fail():
            return "garbage", 0.0, False, False, {}
        return self.env.step(action)


def make_target_env(config: dict | None = None) -> gym.Env:
    """RLlib env creator: ``TargetEnv``, wrapped in ``FaultInjectionEnv`` when config has "fault"
    and in ``SimulatedLatency`` when it has ``step_latency_s`` or ``reset_latency_s``."""
    from envs.latency import make_with_latency

    config = dict(config or {})
    env: gym.Env = make_with_latency(TargetEnv, config)
    if config.get("fault"):
        env = FaultInjectionEnv(
            env,
            fault=config["fault"],
            every=int(config.get("fault_every", 3)),
            hang_s=float(config.get("hang_s", 30.0)),
        )
    return env
