"""Env speed for evaluation: MiniDesk direct vs through the env server on 127.0.0.1, and MiniWoB++.

The same action codes run on both paths: the scripted expert's episodes of the 10 test_data tasks
(original and noisy), recorded once on a direct env, then replayed on a direct env and on an
``OSWorldEnv`` client of an ``envs.server`` hosting MiniDesk (``envs.server.local.local_env``:
HTTP + JSON on loopback, PNG screenshots in base64). The ratio direct/served steps per second is
the server's overhead. MiniWoB++ (headless Chromium) step time comes from
``envs.miniwob.time_steps``; "not available" where that env or its browser is missing.

Run: ``python bench/eval.py [--repeats N] [--sizes 448x336,1920x1080] [--miniwob-steps N]
[--json PATH]``; ``--json`` also writes the figures printed (per size: direct, served, overhead;
MiniWoB++'s timing or why it is not available) to PATH. No target: the overhead is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs.minidesk import MiniDeskEnv, expert_action
from envs.server.local import local_env
from rllib_arpo.core.actions import parse_response, to_pyautogui
from rllib_arpo.core.coords import CoordinateSpace

NOW = dt.datetime(2026, 11, 25, 9, 30)
ROOT = Path(__file__).resolve().parents[1]


def test_data_tasks() -> list[str]:
    ids = []
    for name in ("test_10tasks.json", "test_10tasks_noisy.json"):
        for domain_ids in json.loads((ROOT / "test_data" / name).read_text()).values():
            ids.extend(domain_ids)
    return ids


def record_episodes(size: tuple[int, int], tasks: list[str]) -> list[tuple[str, list[str]]]:
    """The expert's action codes per task (recorded on a direct env)."""
    env = MiniDeskEnv(screen_size=size, now=NOW)
    space = CoordinateSpace.for_screen(*size)
    episodes = []
    for task in tasks:
        env.reset(seed=0, options={"task": task})
        codes, done = [], False
        while not done:
            code = to_pyautogui(parse_response(expert_action(env), space), space)
            codes.append(code)
            _, _, terminated, truncated, _ = env.step(code)
            done = terminated or truncated
        episodes.append((task, codes))
    env.close()
    return episodes


def replay(env: Any, episodes: list[tuple[str, list[str]]], repeats: int) -> dict[str, float]:
    """Times reset and step of ``env`` over the recorded episodes; checks they still succeed."""
    resets, steps, solved = [], [], 0
    for _ in range(repeats):
        for task, codes in episodes:
            t0 = time.perf_counter()
            env.reset(seed=0, options={"task": task})
            resets.append(time.perf_counter() - t0)
            info: dict[str, Any] = {}
            for code in codes:
                t0 = time.perf_counter()
                _, _, terminated, truncated, info = env.step(code)
                steps.append(time.perf_counter() - t0)
            solved += info.get("eval_result") == 1.0
    return {
        "reset_ms": 1e3 * statistics.median(resets),
        "step_ms": 1e3 * statistics.median(steps),
        "steps_per_s": len(steps) / sum(steps),
        "steps": len(steps),
        "solved": solved,
        "episodes": len(episodes) * repeats,
    }


def bench_minidesk(size: tuple[int, int], repeats: int) -> tuple[dict, dict]:
    episodes = record_episodes(size, test_data_tasks())
    direct = replay(MiniDeskEnv(screen_size=size, now=NOW), episodes, repeats)
    with local_env(lambda: MiniDeskEnv(screen_size=size, now=NOW)) as (client, _server):
        served = replay(client, episodes, repeats)
    return direct, served


def measure_miniwob(steps: int) -> dict[str, Any] | str:
    """``envs.miniwob.time_steps``'s figures, or why MiniWoB++ is not available."""
    try:
        from envs.miniwob import time_steps
    except ImportError as error:
        return f"not available ({error})"
    try:
        return time_steps(n=steps)
    except Exception as error:  # noqa: BLE001 - a missing browser or package is a reported fact
        return f"not available ({type(error).__name__}: {' '.join(str(error).split())[:160]})"


def describe_miniwob(result: dict[str, Any] | str) -> str:
    if isinstance(result, str):
        return result
    return (
        f"{result['task']}: median step {result['step_ms_median']:.1f} ms "
        f"(p90 {result['step_ms_p90']:.1f} ms), {result['steps_per_s']:.1f} steps/s, "
        f"median reset {result['reset_ms_median']:.0f} ms, browser start {result['make_s']:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="passes over the 10 tasks")
    parser.add_argument("--sizes", default="448x336,1920x1080", help="MiniDesk screen sizes")
    parser.add_argument("--miniwob-steps", type=int, default=30, help="0 skips MiniWoB++")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for spec in args.sizes.split(","):
        size = tuple(int(v) for v in spec.lower().split("x"))
        direct, served = bench_minidesk(size, args.repeats)  # type: ignore[arg-type]
        overhead = direct["steps_per_s"] / served["steps_per_s"]
        results[spec] = {"direct": direct, "served": served, "server_overhead": overhead}
        print(
            f"MiniDesk {spec}: direct {direct['steps_per_s']:.0f} env-steps/s "
            f"(step {direct['step_ms']:.2f} ms, reset {direct['reset_ms']:.1f} ms); served on "
            f"127.0.0.1 {served['steps_per_s']:.0f} env-steps/s (step {served['step_ms']:.2f} ms, "
            f"reset {served['reset_ms']:.1f} ms); server overhead {overhead:.2f}x; "
            f"{direct['steps']} steps each, solved {direct['solved']}/{direct['episodes']} direct, "
            f"{served['solved']}/{served['episodes']} served"
        )
    if args.miniwob_steps > 0:
        miniwob = measure_miniwob(args.miniwob_steps)
        key = "miniwob_unavailable" if isinstance(miniwob, str) else "miniwob"
        results[key] = miniwob
        print(f"MiniWoB++ step time: {describe_miniwob(miniwob)}")
    else:
        results["miniwob_unavailable"] = "not measured (--miniwob-steps 0)"
        print("MiniWoB++ step time: not measured (--miniwob-steps 0)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
