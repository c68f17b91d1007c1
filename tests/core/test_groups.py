"""The driver's data step: env errors out, replay in (reference order), advantages, filtering."""

from __future__ import annotations

import numpy as np
import pytest

from rllib_arpo.core import metrics as M
from rllib_arpo.core.groups import prepare_training_groups
from rllib_arpo.core.replay import SuccessReplayBuffer
from rllib_arpo.core.reward import compute_reward
from rllib_arpo.core.trajectory import Step, Trajectory


def traj(task: str, group: str, member: int, eval_result: float, *, env_error=False) -> Trajectory:
    step = Step(b"\x89PNG", [1, 2], [-0.1, -0.2], "t", "wait()", None, "WAIT")
    return Trajectory(
        task_id=task,
        group_id=group,
        episode_id=f"{group}:{member}",
        policy_version=0,
        instruction="do it",
        prompt_id="p",
        steps=[step],
        eval_result=eval_result,
        reward=compute_reward(eval_result, 0.0),
        terminated_by="env_error" if env_error else "DONE",
    )


def test_one_success_among_eight_gives_the_reference_advantages() -> None:
    group = [traj("t", "g", i, 1.0 if i == 3 else 0.0) for i in range(8)]
    out = prepare_training_groups(
        group, replay=None, rng=np.random.default_rng(0), policy_version=1
    )
    assert out.advantages[3] == pytest.approx(2.4749, abs=1e-4)
    assert np.delete(out.advantages, 3) == pytest.approx([-0.35355] * 7, abs=1e-4)
    assert out.metrics[M.ROLLOUT_SUCCESS_RATE] == pytest.approx(1 / 8)


def test_env_errors_leave_the_group_and_are_counted() -> None:
    group = [traj("t", "g", 0, 1.0), traj("t", "g", 1, 0.0), traj("t", "g", 2, 0.0, env_error=True)]
    out = prepare_training_groups(
        group, replay=None, rng=np.random.default_rng(0), policy_version=1
    )
    assert [t.episode_id for t in out.trajectories] == ["g:0", "g:1"]
    assert out.metrics[M.ROLLOUT_ENV_ERROR_RATE] == pytest.approx(1 / 3)


def test_all_fail_group_gets_a_stored_success_then_the_buffer_learns() -> None:
    replay = SuccessReplayBuffer()
    rng = np.random.default_rng(0)
    first = [traj("t", "it0", i, 1.0 if i == 0 else 0.0) for i in range(4)]
    prepare_training_groups(first, replay=replay, rng=rng, policy_version=0)
    assert len(replay) == 1
    failed = [traj("t", "it1", i, 0.0) for i in range(4)]
    out = prepare_training_groups(failed, replay=replay, rng=rng, policy_version=1)
    assert len(out.trajectories) == 4
    assert out.trajectories[0].is_replay and out.trajectories[0].group_id == "it1"
    assert out.advantages[0] > 0 and (out.advantages[1:] < 0).all()
    assert out.metrics[M.REPLAY_INJECTIONS] == 1


def test_grpo_drops_zero_variance_groups_unless_asked_to_keep_them() -> None:
    failed = [traj("t", "g", i, 0.0) for i in range(4)]
    mixed = [traj("u", "h", i, float(i == 0)) for i in range(4)]
    rng = np.random.default_rng(0)
    out = prepare_training_groups(failed + mixed, replay=None, rng=rng, policy_version=0)
    assert {t.group_id for t in out.trajectories} == {"h"}
    assert out.metrics[M.ADV_ZERO_VARIANCE_GROUP_FRAC] == pytest.approx(0.5)
    kept = prepare_training_groups(
        failed + mixed, replay=None, rng=rng, policy_version=0, drop_zero_advantage_groups=False
    )
    assert len(kept.trajectories) == 8 and (kept.advantages[:4] == 0).all()


def test_success_is_reported_per_family() -> None:
    from rllib_arpo.core.groups import success_by_family, task_family

    assert task_family("minidesk/click_button/grid112/17") == "click_button/grid112"
    assert task_family("miniwob/click-test-2/1000003") == "miniwob/click-test-2"
    assert task_family("miniwob/click-test-2") == "miniwob/click-test-2"
    assert task_family("miniwob/click-test-2/x") == "miniwob/click-test-2/x"
    assert (
        task_family("f3b19d1e-2d48-44e9-b4e1-defcae1a0197")
        == "f3b19d1e-2d48-44e9-b4e1-defcae1a0197"
    )
    group = [
        traj("minidesk/click_button/easy/1", "g", 0, 1.0),
        traj("minidesk/click_button/easy/2", "g", 1, 0.0),
        traj("osworld-task", "h", 0, 1.0),
        traj("osworld-task", "h", 1, 1.0, env_error=True),
    ]
    assert success_by_family(group) == {
        "success/click_button/easy": 0.5,
        "success/osworld-task": 1.0,
    }
