"""Where one ARPO iteration's time goes, and how small the replay buffer's screenshots are.

Usage: python bench/iteration.py [--size 0.2m|1.4m] [--iterations 4] [--env arpo-target|minidesk]
       [--num-env-runners 0|1] [--json PATH]

Prints the median split of an iteration (``recipes.demo.time_split``) into: rollout work (env
resets, generation, env steps), learner work (forward/backward/AdamW), weight sync, driver work
(replay + advantages, old log-probs) and RLlib plumbing (everything else: actor calls, episode
conversion, metrics, batch transfer).
Target (issue 5): plumbing under 10% of the iteration. Then the replay memory per stored
screenshot against the reference's fp32 processed pixel tensors (ratio; target >= 50x).
``--json PATH`` also writes these figures (ms and share per part, the replay bytes) to PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from rllib_arpo.recipes.demo import TIME_PARTS as PARTS


def replay_memory_ratio() -> tuple[int, int]:
    """(bytes of one 1920x1080 desktop-like screenshot as stored, reference fp32 bytes)."""
    from rllib_arpo.core.images import encode_png

    rng = np.random.default_rng(0)
    screen = np.full((1080, 1920, 3), 236, np.uint8)
    screen[:40] = (40, 44, 52)  # title bar
    screen[40:80, :] = (250, 250, 250)  # tab strip
    for row in range(120, 1000, 36):  # text-like lines
        screen[row : row + 12, 80 : 80 + int(rng.integers(300, 1600))] = 30
    screen[600:840, 1200:1520] = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)  # an image
    stored = len(encode_png(screen))
    # Reference: the processed tensor, 1932x1092 -> 2,691 merged tokens x 4 patches x 1,176 fp32.
    reference = 2691 * 4 * 1176 * 4
    return stored, reference


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="0.2m")
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--env", default="arpo-target")
    parser.add_argument("--num-env-runners", type=int, default=0)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return parser.parse_args()


def build_algo(args: argparse.Namespace):
    from rllib_arpo.config import ARPOConfig
    from rllib_arpo.policy.tiny import write_tiny_checkpoint

    policy_dir = write_tiny_checkpoint(tempfile.mkdtemp() + "/tiny", size=args.size, seed=0)
    config = (
        ARPOConfig()
        .environment(args.env)
        .training(
            group_size=args.group_size,
            tasks_per_iteration=args.tasks,
            max_steps_per_episode=5,
            max_new_tokens=48,
            policy_path=str(policy_dir),
            drop_zero_advantage_groups=False,
            minibatch_size=64,
        )
        .env_runners(num_env_runners=args.num_env_runners)
        .debugging(seed=0)
    )
    return config.build_algo()


def split_iteration(result: dict, wall: float) -> dict[str, float]:
    """Seconds of one iteration per part (``recipes.demo.time_split``), and ``wall``."""
    from rllib_arpo.recipes.demo import time_split

    return {"wall": wall, **time_split(result, wall)}


def time_iterations(args: argparse.Namespace) -> list[dict[str, float]]:
    """The split of each of ``args.iterations`` iterations, after one warm-up iteration."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    from rllib_arpo.registration import register

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=256 * 1024 * 1024,
    )
    register()
    algo = build_algo(args)
    rows = []
    for index in range(args.iterations + 1):
        started = time.perf_counter()
        result = algo.train()
        wall = time.perf_counter() - started
        if index == 0:
            continue  # warm-up
        rows.append(split_iteration(result, wall))
    algo.stop()
    ray.shutdown()
    return rows


def figures(median: dict[str, float], stored: int, reference: int, iterations: int) -> dict:
    """The printed figures as one flat dict (ms, shares in %, bytes)."""
    out: dict[str, float] = {"iterations": iterations, "iteration_ms": median["wall"] * 1000}
    for key in PARTS:
        out[f"{key}_ms"] = median[key] * 1000
        out[f"{key}_share_pct"] = median[key] / median["wall"] * 100
    out.update(
        plumbing_target_pct=10.0,
        replay_png_bytes=stored,
        replay_reference_fp32_bytes=reference,
        replay_ratio=reference / stored,
        replay_target_ratio=50.0,
    )
    return out


def main() -> None:
    args = parse_args()
    rows = time_iterations(args)

    # The iteration with the median wall time, so the parts add up to the whole.
    median = sorted(rows, key=lambda r: r["wall"])[len(rows) // 2]
    print(
        f"ARPO iteration, tiny {args.size}, env {args.env}, {args.tasks} tasks x "
        f"{args.group_size} episodes, num_env_runners={args.num_env_runners} "
        f"(median of {len(rows)} iterations):"
    )
    for key in PARTS:
        share = median[key] / median["wall"] * 100
        print(f"  {key:<11} {median[key] * 1000:8.1f} ms  {share:5.1f}%")
    print(f"  {'iteration':<11} {median['wall'] * 1000:8.1f} ms")
    verdict = "met" if median["plumbing"] / median["wall"] < 0.10 else "NOT met"
    print(
        f"RLlib plumbing share {median['plumbing'] / median['wall'] * 100:.1f}% "
        f"(target < 10%: {verdict})"
    )
    stored, reference = replay_memory_ratio()
    print(
        f"replay: one 1920x1080 screenshot stored as PNG {stored / 1e3:.0f} kB vs the reference's "
        f"fp32 tensor {reference / 1e6:.1f} MB: {reference / stored:.0f}x smaller "
        f"(target >= 50x)"
    )
    if args.json:
        result = figures(median, stored, reference, len(rows))
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
