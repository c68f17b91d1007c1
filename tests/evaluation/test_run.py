"""``rllib_arpo.evaluation.run``: batches of lock-step episodes, each request matched to its env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rllib_arpo.core.coords import CoordinateSpace
from rllib_arpo.evaluation.run import run_evaluation
from rllib_arpo.rollout.generation import TurnResponse
from rllib_arpo.rollout.tasks import TaskRef


class _CountingEnv(gym.Env):
    """Task "win-<k>": DONE after k clicks scores 1. A fresh screenshot object every call."""

    def __init__(self) -> None:
        self.observation_space = spaces.Dict(
            {"screenshot": spaces.Box(0, 255, (56, 56, 3), np.uint8)}
        )
        self.action_space = spaces.Text(100)

    def _obs(self) -> dict:
        return {"screenshot": np.full((56, 56, 3), self.clicks * 10, np.uint8)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.task, self.clicks = options["task"], 0
        return self._obs(), {"instruction": f"click {self.task}", "task_id": self.task}

    def step(self, action: str):
        if action == "DONE":
            ok = self.clicks == int(self.task.split("-")[1])
            return self._obs(), float(ok), True, False, {"eval_result": float(ok)}
        self.clicks += 1
        return self._obs(), 0.0, False, False, {}


class _EnvAwarePolicy:
    """Answers from the env itself (like the expert): click until the target count, then DONE."""

    name = "scripted"

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        return CoordinateSpace.for_screen(width, height)

    def generate(self, requests, envs):
        self.batch_sizes.append(len(requests))
        out = []
        for request, env in zip(requests, envs):
            inner = env.env
            assert request.screenshots[-1][0, 0, 0] == inner.clicks * 10  # the request's own env
            assert len(env.history) == len(request.previous_responses)
            target = int(inner.task.split("-")[1])
            text = ("Thought: c\nAction: click(start_box='(5,5)')" if inner.clicks < target
                    else "Thought: d\nAction: finished(content='')")  # fmt: skip
            out.append(TurnResponse(text, [1], [-0.1]))
        return out

    def close(self) -> None:
        pass


def test_run_evaluation_batches_and_matches_requests_to_envs() -> None:
    refs = [TaskRef("d", "win-0"), TaskRef("d", "win-2"), TaskRef("d", "win-1")]
    policy = _EnvAwarePolicy()
    seen = []
    run = run_evaluation(
        refs, _CountingEnv, policy, trials=2, parallel=4,
        sinks=[lambda trajectories, results: seen.append((len(trajectories), len(results)))],
    )  # fmt: skip
    assert [(e.task_id, e.trial) for e in run.episodes] == [
        (r.task_id, k) for r in refs for k in range(2)
    ]
    assert all(e.success for e in run.episodes)
    assert [e.steps for e in run.episodes] == [1, 1, 3, 3, 2, 2]
    assert seen == [(4, 4), (2, 2)]  # 6 episodes, 4 at a time
    assert max(policy.batch_sizes) == 4
