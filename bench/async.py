"""Synchronous against asynchronous rollouts, every figure from one run (docs/async.md).

    python bench/async.py                      # ~12 min on a 2-core box, nothing else running
    python bench/async.py --lags 1             # sync and lag 1 only (~8 min)
    python bench/async.py --iterations 2 --epochs 2 --step-latency 0.2 --reset-latency 0.5  # a dry run

A simulation of VMs: MiniDesk (the demo's RL families, the committed 1.4M warm start, 2 env
runners) wrapped in ``envs.latency.SimulatedLatency``, which sleeps ``--step-latency`` seconds
before every step and ``--reset-latency`` before every reset (defaults 1 s and 5 s, as an
OSWorld VM's step and soft reset). The learner does ``--epochs`` passes over each update's
groups, so that learning takes about as long as sampling: the regime in which overlapping them
pays. For each mode (sync = ``max_policy_lag`` 0, then lag 1 and lag 2) it runs one warm-up
iteration and ``--iterations`` timed ones, and prints:

- trajectories trained per minute (``train/num_trajectories`` over wall time), and the ratio to
  sync (goal at lag 1: >= 1.8x when env time and learn time are of the same order);
- learner idle share: the share of an iteration spent waiting for groups (sync: the rollout);
- env idle share: the share of runner time without a sampling request (sync: the rest of the
  iteration, when runners wait for the learner);
- the mean seconds per iteration and their parts: waiting for groups (sync: sampling),
  learning, recomputing old log-probs, the weight sync (in sync mode, how "of the same order"
  sampling and learning are), and the lag of what each async update trained on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def mode_config(args: argparse.Namespace, lag: int):
    from rllib_arpo.recipes.demo import DemoSettings, check_settings, demo_config, warmstart_path

    settings = DemoSettings(epochs=args.epochs, seed=0)
    config = demo_config(settings, warmstart_path(settings), check_settings(settings))
    config.env_config.update(step_latency_s=args.step_latency, reset_latency_s=args.reset_latency)
    # Every sampled group is trained (none dropped for equal rewards): trained = sampled, so
    # the modes compare by throughput alone.
    config.training(max_policy_lag=lag, drop_zero_advantage_groups=False)
    return config.env_runners(num_env_runners=2, num_cpus_per_env_runner=0.5)


def run_mode(args: argparse.Namespace, lag: int) -> dict[str, float]:
    import numpy as np

    from rllib_arpo.core import metrics as M

    algo = mode_config(args, lag).build_algo()
    try:
        algo.train()  # warm-up: actors, first requests
        started = time.perf_counter()
        results = [algo.train() for _ in range(args.iterations)]
        wall = time.perf_counter() - started
    finally:
        algo.stop()
    trained = sum(r[M.TRAIN_NUM_TRAJECTORIES] for r in results)
    rollout_s = np.mean([r[M.TIME_ROLLOUT_S] for r in results])
    learn_s = np.mean([r[M.TIME_LEARN_S] for r in results])
    out = {
        "trajectories_per_min": 60.0 * trained / wall,
        "wall_s": wall,
        "rollout_s": float(rollout_s),
        "learn_s": float(learn_s),
        # The rest of an iteration: replay, old log-probs, weight sync, and what is left.
        "old_logp_s": float(np.mean([r[M.TIME_OLD_LOGP_S] for r in results])),
        "sync_s": float(np.mean([r[M.TIME_SYNC_S] for r in results])),
        "iteration_s": wall / len(results),
    }
    if lag:
        out["learner_idle_share"] = float(np.mean([r[M.ASYNC_LEARNER_IDLE_SHARE] for r in results]))
        out["env_idle_share"] = float(np.mean([r[M.ASYNC_ENV_IDLE_SHARE] for r in results]))
        out["lag_mean"] = float(np.mean([r[M.ASYNC_LAG_MEAN] for r in results]))
        out["dropped_groups"] = float(sum(r[M.ASYNC_DROPPED_GROUPS] for r in results))
    else:  # runners sample during the rollout phase and wait for the rest of the iteration
        rollout_share = float(rollout_s) * len(results) / wall
        out["learner_idle_share"] = rollout_share
        out["env_idle_share"] = 1.0 - rollout_share
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--step-latency", type=float, default=1.0)
    parser.add_argument("--reset-latency", type=float, default=5.0)
    parser.add_argument(
        "--epochs", type=int, default=18, help="learner passes per update (learn ~ sample)"
    )
    parser.add_argument("--lags", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from rllib_arpo.recipes.demo import local_ray

    figures: dict[str, dict[str, float]] = {}
    with local_ray():
        for lag in [0, *args.lags]:
            name = "sync" if lag == 0 else f"async lag {lag}"
            figures[name] = run_mode(args, lag)
            row = figures[name]
            ratio = row["trajectories_per_min"] / figures["sync"]["trajectories_per_min"]
            print(
                f"{name:<12} {row['trajectories_per_min']:7.1f} trajectories/min ({ratio:4.2f}x)"
                f"  learner idle {row['learner_idle_share']:5.1%}"
                f"  env idle {row['env_idle_share']:5.1%}"
                f"  per iteration {row['iteration_s']:5.1f} s: rollout {row['rollout_s']:4.1f}"
                f"  learn {row['learn_s']:4.1f}  old log-probs {row['old_logp_s']:4.1f}"
                f"  sync {row['sync_s']:4.1f}" + (f"  lag {row['lag_mean']:.2f}" if lag else ""),
                flush=True,
            )
    print(
        f"simulated VMs: {args.step_latency:g} s per step, {args.reset_latency:g} s per reset; "
        f"{args.iterations} timed iterations per mode, 2 env runners, {args.epochs} learner epochs"
    )
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": None}, **figures}, indent=2))


if __name__ == "__main__":
    main()
