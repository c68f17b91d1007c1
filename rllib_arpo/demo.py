"""The CPU demo behind README command 1: warm start, ARPO on MiniDesk, before/after success.

1. Warm start: a tiny UI-TARS-shaped model is fine-tuned on scripted-expert demonstrations of
   some MiniDesk families (``arpo warmstart``), or an existing warm-start checkpoint is reused.
2. Held-out evaluation before RL: greedy success rate per RL family on task seeds that neither
   the warm start nor RL ever draws, with its standard error.
3. ARPO on the RL families (training seeds only), for a time budget or a number of iterations,
   writing TensorBoard events and a checkpoint.
4. The same held-out evaluation after RL, and a summary that says plainly when a change is
   within noise.

No Ray in the evaluation and warm-start parts; the training part builds an ``ARPO`` algorithm.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rllib_arpo.core.groups import task_family
from rllib_arpo.rollout import GroupRollout, RolloutSettings, policy_generate_fn

HELD_OUT_SEEDS = range(0, 100_000)
"""Evaluation seeds: never drawn for training (RL seeds start at 100,000, warm start at 1,000,000)."""
RL_SEED_START = 100_000


@dataclass(frozen=True)
class FamilyScore:
    """Success of one family on held-out seeds."""

    family: str
    successes: int
    episodes: int

    @property
    def rate(self) -> float:
        return self.successes / self.episodes if self.episodes else 0.0

    @property
    def stderr(self) -> float:
        """Binomial standard error sqrt(p (1 - p) / n)."""
        p = self.rate
        return math.sqrt(p * (1 - p) / self.episodes) if self.episodes else 0.0


def held_out_tasks(families: Sequence[str], level: str, episodes: int) -> list[str]:
    """``episodes`` held-out task ids per family (seeds 0 .. episodes - 1)."""
    from envs.minidesk.families import task_id

    if episodes > len(HELD_OUT_SEEDS):
        raise ValueError(f"at most {len(HELD_OUT_SEEDS)} held-out episodes per family")
    return [task_id(f, level, seed) for f in families for seed in range(episodes)]


def training_tasks(families: Sequence[str], level: str, count: int = 2000) -> list[str]:
    """RL task ids: seeds from ``RL_SEED_START`` on (disjoint from evaluation and warm start)."""
    from envs.minidesk.families import task_id

    return [task_id(f, level, RL_SEED_START + i) for f in families for i in range(count)]


def evaluate_success(
    policy: Any,
    env_factory: Callable[[], Any],
    tasks: Sequence[str],
    *,
    max_steps: int,
    max_new_tokens: int,
    batch_tasks: int = 32,
) -> dict[str, FamilyScore]:
    """Greedy success rate per task family (one episode per task id), batched across tasks."""
    from rllib_arpo.policy.generate import SamplingParams

    greedy = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens)
    rollout = GroupRollout(
        env_factory,
        policy_generate_fn(policy, greedy),
        policy.coordinate_space,
        RolloutSettings(group_size=1, max_steps=max_steps),
    )
    outcomes: dict[str, list[bool]] = {}
    try:
        for start in range(0, len(tasks), batch_tasks):
            trajectories, _ = rollout.run(list(tasks[start : start + batch_tasks]), seed=0)
            for trajectory in trajectories:
                family = task_family(trajectory.task_id)
                outcomes.setdefault(family, []).append(trajectory.is_success())
    finally:
        rollout.close()
    return {f: FamilyScore(f, sum(v), len(v)) for f, v in sorted(outcomes.items())}


def total_score(scores: dict[str, FamilyScore]) -> FamilyScore:
    return FamilyScore(
        "all",
        sum(s.successes for s in scores.values()),
        sum(s.episodes for s in scores.values()),
    )


def change_verdict(before: FamilyScore, after: FamilyScore) -> str:
    """'+7.0 pts (2.1 SE)' with a plain verdict: within noise unless |change| > 2 SE."""
    delta = after.rate - before.rate
    se = math.sqrt(before.stderr**2 + after.stderr**2)
    if se == 0:
        return f"{delta * 100:+.1f} pts"
    z = delta / se
    verdict = "within noise" if abs(z) <= 2 else ("better" if z > 0 else "worse")
    return f"{delta * 100:+.1f} pts ({z:+.1f} SE): {verdict}"


def summary_table(before: dict[str, FamilyScore], after: dict[str, FamilyScore]) -> str:
    """The before/after table the demo prints (success %, standard error, change, verdict)."""
    rows = [f"{'family':<28} {'before':>15} {'after':>15}   change"]
    families = sorted(set(before) | set(after))
    pairs = [(f, before.get(f), after.get(f)) for f in families]
    pairs.append(("all", total_score(before), total_score(after)))
    for family, b, a in pairs:
        if b is None or a is None:
            continue
        rows.append(
            f"{family:<28} {b.rate * 100:6.1f}% ± {b.stderr * 100:4.1f} "
            f"{a.rate * 100:6.1f}% ± {a.stderr * 100:4.1f}   {change_verdict(b, a)}"
        )
    return "\n".join(rows)


@dataclass
class DemoResult:
    """What the demo measured and where it wrote things."""

    before: dict[str, FamilyScore]
    after: dict[str, FamilyScore]
    iterations: int
    train_seconds: float
    checkpoint: Path
    tensorboard_dir: Path
    policy_dir: Path
    interrupted: bool = False
    history: list[dict[str, float]] = field(default_factory=list)


def train_arpo(
    config: Any,
    out_dir: Path,
    *,
    iterations: int | None,
    minutes: float | None,
    on_iteration: Callable[[int, dict, float], None] | None = None,
) -> tuple[Any, int, float, bool, list[dict[str, float]]]:
    """Build ARPO (TensorBoard events in ``out_dir/tensorboard``) and train until the budget."""
    algo = config.training(tensorboard_dir=str(out_dir / "tensorboard")).build_algo()
    started = time.perf_counter()
    done, interrupted, history = 0, False, []
    try:
        while True:
            if iterations is not None and done >= iterations:
                break
            elapsed = time.perf_counter() - started
            if minutes is not None and elapsed >= minutes * 60:
                break
            result = algo.train()
            done += 1
            history.append(
                {
                    "iteration": done,
                    "success_rate": float(result.get("rollout/success_rate", float("nan"))),
                    "reward_mean": float(result.get("reward/mean", float("nan"))),
                }
            )
            if on_iteration is not None:
                on_iteration(done, result, time.perf_counter() - started)
    except KeyboardInterrupt:
        interrupted = True
    return algo, done, time.perf_counter() - started, interrupted, history
