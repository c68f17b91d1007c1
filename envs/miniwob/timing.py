"""Wall-clock timing of MiniWoB++ steps (``bench/eval.py``, docs/evaluation.md)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from envs.miniwob.env import MiniWoBEnv


def time_steps(
    task: str = "click-test-2",
    n: int = 50,
    action: str = "pyautogui.click(x=150, y=200)",
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Time ``n`` steps of ``action`` on ``task`` (for ``bench/eval.py``); the episode is reset
    (untimed) whenever it ends. The default action clicks an empty corner of the frame.

    Returns:
        ``{"task", "steps", "make_s", "reset_ms_median", "step_ms_median", "step_ms_p90",
        "steps_per_s"}`` (wall-clock; ``steps_per_s`` = n / total step time).
    """
    t0 = time.perf_counter()
    env = MiniWoBEnv(task=task, **env_kwargs)
    resets: list[float] = []
    steps: list[float] = []
    try:
        t1 = time.perf_counter()
        env.reset(seed=0)
        make_s = time.perf_counter() - t0
        resets.append(time.perf_counter() - t1)
        for i in range(n):
            t1 = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(action)
            steps.append(time.perf_counter() - t1)
            if terminated or truncated:
                t1 = time.perf_counter()
                env.reset(seed=i + 1)
                resets.append(time.perf_counter() - t1)
    finally:
        env.close()
    ordered = sorted(steps)
    return {
        "task": task,
        "steps": n,
        "make_s": make_s,
        "reset_ms_median": 1000 * statistics.median(resets),
        "step_ms_median": 1000 * statistics.median(steps) if steps else float("nan"),
        "step_ms_p90": 1000 * ordered[int(0.9 * (len(ordered) - 1))] if steps else float("nan"),
        "steps_per_s": n / sum(steps) if steps else float("nan"),
    }
