"""Shared helpers of the MiniDesk tests: run the expert through the lead's action language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from envs.minidesk import MiniDeskEnv, expert_action
from rllib_arpo.core.actions import parse_response, to_pyautogui
from rllib_arpo.core.coords import CoordinateSpace

FIXED_NOW = dt.datetime(2026, 11, 25, 9, 30)
"""A fixed clock so that screenshots and dates are reproducible in tests."""


def to_code(env: MiniDeskEnv, text: str) -> str:
    """Model text -> pyautogui code exactly as the rollout does it (parse, then convert)."""
    space = CoordinateSpace.for_screen(*env.screen_size)
    parsed = parse_response(text, space)
    assert parsed.ok, f"expert text does not parse: {parsed.error}\n{text}"
    return to_pyautogui(parsed, space)


def run_expert(env: MiniDeskEnv, task: Any, seed: int = 0) -> tuple[float, int, list[str]]:
    """Roll out the expert on ``task``; returns (reward, steps, codes)."""
    env.reset(seed=seed, options={"task": task})
    codes: list[str] = []
    while True:
        code = to_code(env, expert_action(env))
        codes.append(code)
        _, reward, terminated, truncated, info = env.step(code)
        assert info.get("action_error") is None, (code, info["action_error"])
        assert "env_error" not in info, info["env_error"]
        if terminated or truncated:
            return reward, len(codes), codes
