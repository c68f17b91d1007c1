"""The evaluation run: every (task, trial) once, in batches of ``parallel`` lock-step episodes.

No Ray here: ``run_evaluation`` drives the same lock-step loop as training
(``rollout.loop.GroupRollout``), so one batched generation serves every live episode of a batch and
all envs step in parallel threads. Each finished batch goes to the sinks (the parquet log, the HTML
report) and is reduced to ``EpisodeResult`` records for the tables.

A task that fails (its file cannot be loaded, a setup step, the env, its evaluator, the scripted
expert) fails only its own episodes, each recording why (``EpisodeResult.error``); the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rllib_arpo.core.trajectory import Trajectory
from rllib_arpo.evaluation.envs import EnvTracker
from rllib_arpo.evaluation.errors import EvalError
from rllib_arpo.evaluation.policies import EvalPolicy
from rllib_arpo.evaluation.records import EpisodeResult, episode_result
from rllib_arpo.rollout.generation import TurnRequest, TurnResponse
from rllib_arpo.rollout.loop import GroupRollout, RolloutSettings, RolloutStats
from rllib_arpo.rollout.tasks import TaskRef

DEFAULT_PARALLEL = 32
"""Episodes in flight per batch for in-process envs (one batched generation per step)."""


@dataclass
class EvalRun:
    """What ``run_evaluation`` returns.

    Attributes:
        episodes: Every episode's result, task order, then trial.
        stats: The rollout counters summed over batches.
        wall_s: Seconds the run took.
    """

    episodes: list[EpisodeResult] = field(default_factory=list)
    stats: RolloutStats = field(default_factory=RolloutStats)
    wall_s: float = 0.0


TrajectorySink = Callable[[list[Trajectory], list[EpisodeResult]], None]
"""Gets each batch's trajectories and their results (parquet log, HTML report)."""


def run_evaluation(
    refs: Sequence[TaskRef],
    env_factory: Callable[[], Any],
    policy: EvalPolicy,
    *,
    trials: int,
    max_steps: int = 15,
    parallel: int = DEFAULT_PARALLEL,
    step_timeout_s: float = 300.0,
    max_retries: int = 2,
    seed: int = 0,
    sinks: Sequence[TrajectorySink] = (),
    progress: Callable[[str], None] | None = None,
) -> EvalRun:
    """Runs every task ``trials`` times, ``parallel`` episodes at a time in lock step.

    Args:
        refs: The tasks.
        env_factory: Makes one env (called once per parallel slot; envs are reused).
        policy: Answers the batched requests.
        trials: Episodes per task.
        max_steps: Step budget per episode.
        parallel: Episodes in flight at once (envs alive, rows per generation).
        step_timeout_s: Limit on one env call.
        max_retries: Fresh envs tried when a reset fails.
        seed: Base seed of env resets.
        sinks: Called with each batch's trajectories and results.
        progress: Called with one line per finished batch.

    Returns:
        Every episode's result (task order, then trial) and the summed rollout counters.

    Raises:
        EvalError: ``trials`` or ``parallel`` below 1.
    """
    if trials < 1:
        raise EvalError(f"--trials must be >= 1, got {trials}")
    if parallel < 1:
        raise EvalError(f"--parallel must be >= 1, got {parallel}")
    tracker = EnvTracker()

    def generate(requests: list[TurnRequest]) -> list[TurnResponse]:
        envs = [tracker.env_for(r.screenshots[-1]) for r in requests]
        responses = policy.generate(requests, envs)
        for env, response in zip(envs, responses):
            env.history.append(response.text)
        return responses

    # Each (task, trial) is its own group of one: batches cut anywhere, every trial seeded apart.
    rollout = GroupRollout(
        env_factory=lambda: tracker.wrap(env_factory()),
        generate=generate,
        coordinate_space=policy.coordinate_space,
        settings=RolloutSettings(
            group_size=1,
            max_steps=max_steps,
            step_timeout_s=step_timeout_s,
            max_retries=max_retries,
            seed=seed,
        ),
    )
    jobs = [(ref, trial) for ref in refs for trial in range(trials)]
    batches = [jobs[i : i + parallel] for i in range(0, len(jobs), parallel)]
    run = EvalRun()
    started = time.perf_counter()
    try:
        for number, batch in enumerate(batches):
            batch_started = time.perf_counter()
            prefix = f"b{number}/"
            trajectories, stats = rollout.run(
                [ref.task_id for ref, _ in batch],
                group_prefix=prefix,
                seed=seed + number * parallel,
            )
            run.stats.merge(stats)
            by_episode = {t.episode_id: t for t in trajectories}
            kept, results = [], []
            for index, (ref, trial) in enumerate(batch):
                trajectory = by_episode.get(f"{prefix}g{index}:{ref.task_id}:0")
                result = episode_result(
                    ref, trial, trajectory, f"{prefix}g{index}", tracker.reset_error(ref.task_id)
                )
                results.append(result)
                if trajectory is not None:
                    kept.append(trajectory)
            run.episodes.extend(results)
            for sink in sinks:
                sink(kept, [r for r in results if r.episode_id in by_episode])
            if progress is not None:
                done = sum(len(b) for b in batches[: number + 1])
                wins = sum(r.success for r in results)
                progress(
                    f"batch {number + 1}/{len(batches)}: {len(batch)} episodes, {wins} solved, "
                    f"{stats.env_steps} env steps, {time.perf_counter() - batch_started:.1f} s "
                    f"({done}/{len(jobs)} episodes)"
                )
    finally:
        rollout.close()
    run.wall_s = time.perf_counter() - started
    return run
