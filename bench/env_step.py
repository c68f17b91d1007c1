"""MiniDesk speed: median reset and step time and screenshots/s, at 448x336 and 1920x1080.

Workload: scripted-expert episodes (clicks, typing, drags, scrolls, page loads) over every
task family at the free levels plus the test_data browser tasks, and a stream of random clicks.
Each step renders one screenshot. Target: median step under 5 ms at both sizes (README).
Run: ``python bench/env_step.py [--episodes N] [--json PATH]``; ``--json`` also writes the
figures printed, per screen size, to PATH.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from envs.minidesk import FAMILIES, MiniDeskEnv, expert_action, task_id
from rllib_arpo.core.actions import parse_response, to_pyautogui
from rllib_arpo.core.coords import CoordinateSpace

NOW = dt.datetime(2026, 11, 25, 9, 30)
SIZES = ((448, 336), (1920, 1080))
TARGET_STEP_MS = 5.0


def bench(size: tuple[int, int], episodes: int) -> dict[str, float]:
    env = MiniDeskEnv(screen_size=size, now=NOW)
    space = CoordinateSpace.for_screen(*size)
    tasks = [
        task_id(f, lvl, s)
        for s in range(episodes)
        for f in FAMILIES
        for lvl in ("easy", "medium", "hard")
    ]
    tasks += env.task_set.keys()
    resets, steps = [], []
    for task in tasks:
        t0 = time.perf_counter()
        env.reset(options={"task": task})
        resets.append(time.perf_counter() - t0)
        done = False
        while not done:
            code = to_pyautogui(parse_response(expert_action(env), space), space)
            t0 = time.perf_counter()
            _, _, term, trunc, _ = env.step(code)
            steps.append(time.perf_counter() - t0)
            done = term or trunc
    rng = np.random.default_rng(0)
    env.reset(options={"task": task_id("click_button", "hard", 0)})
    clicks = []
    for _ in range(200):
        x, y = int(rng.integers(size[0])), int(rng.integers(size[1]))
        t0 = time.perf_counter()
        _, _, term, trunc, _ = env.step(f"pyautogui.moveTo(x={x}, y={y})")
        clicks.append(time.perf_counter() - t0)
        if term or trunc:
            env.reset(options={"task": task_id("click_button", "hard", 0)})
    return {
        "reset_ms": 1e3 * statistics.median(resets),
        "step_ms": 1e3 * statistics.median(steps),
        "step_p90_ms": 1e3 * float(np.percentile(steps, 90)),
        "move_step_ms": 1e3 * statistics.median(clicks),
        "screenshots_per_s": 1.0 / statistics.median(steps),
        "n_steps": len(steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3, help="seeds per family and level")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    results: dict[str, object] = {"target_step_ms": TARGET_STEP_MS}
    for size in SIZES:
        r = bench(size, args.episodes)
        results[f"{size[0]}x{size[1]}"] = r
        print(
            f"{size[0]}x{size[1]}: median reset {r['reset_ms']:.2f} ms, median step {r['step_ms']:.2f} ms "
            f"(p90 {r['step_p90_ms']:.2f} ms, cursor-only step {r['move_step_ms']:.2f} ms), "
            f"{r['screenshots_per_s']:.0f} screenshots/s over {r['n_steps']} expert steps"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
