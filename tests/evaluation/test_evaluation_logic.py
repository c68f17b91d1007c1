"""Pure parts of ``rllib_arpo.evaluation.run``: task lists, tables, selection, batching, env tracking."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from rllib_arpo.core.coords import CoordinateSpace
from rllib_arpo.evaluation.run import (
    EpisodeResult,
    EvalError,
    TaskRef,
    count_successes,
    format_table,
    load_task_list,
    merge_task_lists,
    run_evaluation,
    select_tasks,
    summary,
    task_table,
    write_task_list,
)
from rllib_arpo.rollout.loop import TurnResponse


def _episode(task_id: str, trial: int, success: bool, steps: int = 3, ended: str = "DONE"):
    return EpisodeResult(
        "chrome", task_id, trial, f"e{task_id}{trial}", float(success), success, steps, ended,
        ended == "parse_error", ended == "env_error",
    )  # fmt: skip


def test_task_lists_round_trip_and_errors(tmp_path) -> None:
    path = write_task_list(tmp_path / "l.json", [TaskRef("a", "1"), TaskRef("b", "2")])
    assert json.loads(path.read_text()) == {"a": ["1"], "b": ["2"]}
    assert load_task_list(path) == [TaskRef("a", "1"), TaskRef("b", "2")]
    (tmp_path / "plain.json").write_text('["x", "y"]')
    assert [r.task_id for r in load_task_list(tmp_path / "plain.json")] == ["x", "y"]
    (tmp_path / "bad.json").write_text('{"a": "1"}')
    with pytest.raises(EvalError, match=r"bad.json: domain 'a' must map to a list of task ids"):
        load_task_list(tmp_path / "bad.json")
    (tmp_path / "num.json").write_text("3")
    with pytest.raises(EvalError, match=r"num.json must be a JSON object"):
        load_task_list(tmp_path / "num.json")
    assert merge_task_lists([TaskRef("a", "1")], [TaskRef("a", "1"), TaskRef("a", "2")]) == [
        TaskRef("a", "1"), TaskRef("a", "2"),
    ]  # fmt: skip


def test_table_pairs_noisy_twins_and_leaves_env_errors_out() -> None:
    episodes = [
        _episode("t1", 0, True), _episode("t1", 1, False, 5),
        _episode("t1_noise", 0, False, ended="parse_error"),
        _episode("t1_noise", 1, False, ended="env_error"),
        _episode("t2_noise", 0, True),
    ]  # fmt: skip
    rows = task_table(episodes)
    assert [r.task_id for r in rows] == ["t1", "t2"]
    t1, t2 = rows
    assert t1.original.success_rate == 0.5 and t1.original.mean_steps == 4.0
    assert t1.noisy.trials == 2 and t1.noisy.valid == 1 and t1.noisy.success_rate == 0.0
    assert t1.delta == -0.5 and t1.format_errors == 1 and t1.env_errors == 1
    assert t2.original is None and t2.noisy.success_rate == 1.0 and t2.delta is None
    total = summary(rows)
    assert total["success_rate_original"] == 0.5 and total["success_rate_noisy"] == 0.5
    assert total["mean_delta"] == -0.5 and total["pairs"] == 1
    text = format_table(rows)
    first = text.splitlines()[2].split()
    assert first[:6] == ["chrome/t1", "50%", "(1/2)", "0%", "(0/1)", "-50%"]
    assert text.splitlines()[-1].startswith("all (2 tasks, 5 episodes)")


def test_selection_valuable_and_middle_difficulty() -> None:
    refs = [TaskRef("chrome", f"t{i}") for i in range(4)]
    wins = {"t0": 0, "t1": 1, "t2": 8, "t3": 16}
    episodes = [_episode(ref.task_id, k, k < wins[ref.task_id]) for ref in refs for k in range(16)]
    counts = count_successes(refs, episodes)
    assert [c.successes for c in counts] == [0, 1, 8, 16]
    valuable = select_tasks(counts, min_success=1)
    assert [c.ref.task_id for c in valuable if c.selected] == ["t1", "t2", "t3"]
    middle = select_tasks(counts, min_success=1, min_rate=0.25, max_rate=0.75)
    assert [c.ref.task_id for c in middle if c.selected] == ["t2"]
    with pytest.raises(EvalError, match="--min-rate 0.8 is above --max-rate 0.2"):
        select_tasks(counts, min_rate=0.8, max_rate=0.2)
    with pytest.raises(EvalError, match=r"--max-rate must be within \[0, 1\], got 2"):
        select_tasks(counts, max_rate=2)


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


def test_evaluation_and_report_do_not_import_ray() -> None:
    import subprocess
    import sys

    code = "import sys, rllib_arpo.evaluation.run, rllib_arpo.evaluation.report; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
