"""Throughput of the action language: parse + convert to pyautogui code (actions/s).

Usage: python bench/parse.py [--seconds 2] [--json PATH]
Target (issue 7): more than 50,000 actions/s on one core.
``--json PATH`` also writes the figures printed (median, min and max actions/s, runs) to PATH.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rllib_arpo.core.actions import parse_response, to_pyautogui
from rllib_arpo.core.coords import CoordinateSpace

SPACE = CoordinateSpace.for_screen(1920, 1080)
CORPUS = [
    "Thought: I click the OK button at the bottom right.\nAction: click(start_box='(1203,855)')",
    "Thought: Open the menu.\nAction: right_single(start_box='<|box_start|>(402,99)<|box_end|>')",
    "Thought: Type the query and submit.\nAction: type(content='flights from Dublin to Vienna\\n')",
    "Thought: Copy.\nAction: hotkey(key='ctrl c')",
    "Thought: Scroll to find the settings.\nAction: scroll(start_box='(960,540)', direction='down')",
    "Thought: Move the slider.\nAction: drag(start_box='(300,400)', end_box='(520,400)')",
    "Thought: The task is complete.\nAction: finished(content='done')",
    "Thought: no action here, a malformed answer",
]
TARGET_ACTIONS_PER_S = 50_000


def run_once(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        parsed = parse_response(CORPUS[i % len(CORPUS)], SPACE)
        if parsed.ok:
            to_pyautogui(parsed, SPACE)
    return n / (time.perf_counter() - start)


def measure(seconds: float) -> list[float]:
    """Actions/s of consecutive runs of 5,000 answers for ``seconds`` (after a warm-up)."""
    run_once(2000)  # warm up
    rates = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        rates.append(run_once(5000))
    return rates


def figures(rates: list[float]) -> dict[str, float]:
    median = statistics.median(rates)
    return {
        "actions_per_s_median": median,
        "actions_per_s_min": min(rates),
        "actions_per_s_max": max(rates),
        "runs": len(rates),
        "target_actions_per_s": TARGET_ACTIONS_PER_S,
        "over_target": median / TARGET_ACTIONS_PER_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    result = figures(measure(args.seconds))
    median = result["actions_per_s_median"]
    print(
        f"parse+convert: median {median:,.0f} actions/s over {result['runs']} runs "
        f"(min {result['actions_per_s_min']:,.0f}, max {result['actions_per_s_max']:,.0f}); "
        f"target > 50,000/s: {'met' if median > TARGET_ACTIONS_PER_S else 'NOT met'} "
        f"({result['over_target']:.1f}x)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
