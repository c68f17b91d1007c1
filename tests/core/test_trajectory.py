"""Tests of rllib_arpo/core/trajectory.py: the shared record."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from rllib_arpo.core import metrics as M
from rllib_arpo.core.reward import FORMAT_REWARD_BAD
from rllib_arpo.core.trajectory import (
    Step,
    Termination,
    Trajectory,
    summarize_rollouts,
)

CORE_MODULES = [
    "rllib_arpo.core.trajectory",
    "rllib_arpo.core.reward",
    "rllib_arpo.core.advantages",
    "rllib_arpo.core.loss",
    "rllib_arpo.core.replay",
    "rllib_arpo.core.metrics",
]


def make_step(tokens: int = 3, logprob: float = -0.5) -> Step:
    return Step(
        screenshot_png=b"\x89PNG\r\n\x1a\nfake",
        response_token_ids=list(range(tokens)),
        response_logprobs=[logprob] * tokens,
        response_text="Thought: go\nAction: click(start_box='(1,2)')",
        action="click(start_box='(1,2)')",
        parse_error=None,
        env_action="pyautogui.click(1, 2)",
        env_info={"step_time_s": 0.25, "errors": []},
    )


def make_trajectory(**overrides) -> Trajectory:
    fields = {
        "task_id": "task-a",
        "group_id": "g0",
        "episode_id": "e0",
        "policy_version": 3,
        "instruction": "Open the file",
        "prompt_id": "uitars15-computer-use-en-v1",
        "steps": [make_step(3, -0.5), make_step(2, -1.0)],
        "eval_result": 1.0,
        "format_reward": 0.0,
        "reward": 1.0,
        "terminated_by": "DONE",
    }
    fields.update(overrides)
    return Trajectory(**fields)


def test_core_modules_do_not_import_ray() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE_MODULES)
        + "assert 'ray' not in sys.modules, sorted(m for m in sys.modules if m.startswith('ray'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_with_reward_applies_rule() -> None:
    traj = make_trajectory(eval_result=0.0, format_reward=FORMAT_REWARD_BAD, reward=99.0)
    assert traj.with_reward().reward == -0.5
    assert traj.reward == 99.0  # the original is untouched


def test_helpers() -> None:
    traj = make_trajectory()
    assert traj.num_steps == 2
    assert traj.num_response_tokens == 5
    assert traj.mean_sampler_logprob() == pytest.approx((3 * -0.5 + 2 * -1.0) / 5)
    assert make_trajectory(steps=[]).mean_sampler_logprob() is None
    assert traj.is_success() and not make_trajectory(eval_result=0.1).is_success()
    assert traj.terminated_by is Termination.DONE


def test_round_trip_through_dict_and_pickle() -> None:
    traj = make_trajectory(is_replay=True)
    data = traj.to_dict()
    assert data["terminated_by"] == "DONE"
    assert isinstance(data["steps"][0]["screenshot_png"], bytes)
    assert Trajectory.from_dict(data) == traj
    assert Trajectory.from_dict(pickle.loads(pickle.dumps(data))) == traj
    assert Trajectory.from_dict(data).to_dict() == data


def test_to_dict_copies_mutable_fields() -> None:
    traj = make_trajectory()
    data = traj.to_dict()
    data["steps"][0]["env_info"]["errors"].append("x")
    data["steps"][0]["response_token_ids"].append(7)
    assert traj.steps[0].env_info["errors"] == []
    assert traj.steps[0].response_token_ids == [0, 1, 2]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"terminated_by": "crashed"}, "terminated_by='crashed' is not one of"),
        ({"eval_result": 1.5}, "eval_result=1.5 is outside"),
        ({"format_reward": -0.5}, "format_reward=-0.5 is not one of"),
    ],
)
def test_validation_names_the_field(overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_trajectory(**overrides)


def test_step_rejects_pixels_and_mismatched_logprobs() -> None:
    with pytest.raises(TypeError, match="PNG bytes"):
        Step([[0, 0, 0]], [1], [0.0], "", None, None, "WAIT")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one log-prob per token"):
        Step(b"png", [1, 2], [0.0], "", None, None, "WAIT")
    assert Step(b"png", [1, 2], [], "", None, "no action", "FAIL").response_logprobs == []


def test_from_dict_rejects_unknown_fields_and_versions() -> None:
    data = make_trajectory().to_dict()
    with pytest.raises(ValueError, match="unknown Trajectory field"):
        Trajectory.from_dict({**data, "bogus": 1})
    with pytest.raises(ValueError, match="schema_version"):
        Trajectory.from_dict({**data, "schema_version": 99})


def test_summarize_rollouts() -> None:
    trajs = [
        make_trajectory(eval_result=1.0),
        make_trajectory(eval_result=0.0, format_reward=-1.0, terminated_by="parse_error"),
        make_trajectory(eval_result=0.0, terminated_by=Termination.ENV_ERROR, steps=[]),
        make_trajectory(eval_result=0.0, terminated_by="max_steps"),
    ]
    stats = summarize_rollouts(trajs)
    assert stats[M.ROLLOUT_SUCCESS_RATE] == 0.25
    assert stats[M.ROLLOUT_PARSE_ERROR_RATE] == 0.25
    assert stats[M.ROLLOUT_ENV_ERROR_RATE] == 0.25
    assert stats[M.ROLLOUT_STEPS_MEAN] == 1.5
    assert stats[M.ROLLOUT_RESPONSE_TOKENS_MEAN] == 3.75
    assert summarize_rollouts([]) == {}


def test_step_versions_round_trip_and_old_records_still_load() -> None:
    from dataclasses import replace

    traj = make_trajectory()
    versioned = replace(traj, steps=[replace(s, policy_version=4) for s in traj.steps])
    data = versioned.to_dict()
    assert {s["policy_version"] for s in data["steps"]} == {4}
    assert Trajectory.from_dict(data) == versioned
    for step in data["steps"]:
        del step["policy_version"]  # a record written before steps had versions
    assert all(s.policy_version is None for s in Trajectory.from_dict(data).steps)


def test_rollout_summary_reports_step_versions() -> None:
    from dataclasses import replace

    from rllib_arpo.core import metrics as M
    from rllib_arpo.core.trajectory import summarize_rollouts

    traj = make_trajectory()
    steady = replace(traj, steps=[replace(s, policy_version=2) for s in traj.steps])
    mixed_steps = [replace(s, policy_version=2 + i) for i, s in enumerate(traj.steps)]
    mixed = replace(traj, steps=mixed_steps)
    out = summarize_rollouts([steady, mixed])
    assert out[M.ROLLOUT_VERSION_MIN] == 2
    assert out[M.ROLLOUT_VERSION_MAX] == 2 + len(traj.steps) - 1
    assert out[M.ROLLOUT_MIXED_VERSION_TRAJECTORIES] == (1 if len(traj.steps) > 1 else 0)
    assert M.ROLLOUT_VERSION_MIN not in summarize_rollouts([traj])  # no versions recorded
