"""Throughput of the action language: parse + convert to pyautogui code (actions/s).

Usage: python bench/parse.py [--seconds 2]
Target (issue 7): more than 50,000 actions/s on one core.
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def run_once(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        parsed = parse_response(CORPUS[i % len(CORPUS)], SPACE)
        if parsed.ok:
            to_pyautogui(parsed, SPACE)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    run_once(2000)  # warm up
    rates = []
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        rates.append(run_once(5000))
    median = statistics.median(rates)
    print(
        f"parse+convert: median {median:,.0f} actions/s over {len(rates)} runs "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}); target > 50,000/s: "
        f"{'met' if median > 50_000 else 'NOT met'} ({median / 50_000:.1f}x)"
    )


if __name__ == "__main__":
    main()
