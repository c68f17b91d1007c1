"""Trajectory records survive the trip through RLlib's SingleAgentEpisode."""

from __future__ import annotations

import pickle

from rllib_arpo.core.trajectory import Step, Trajectory
from rllib_arpo.episodes import episode_to_trajectory, trajectory_to_episode


def make(num_steps: int) -> Trajectory:
    steps = [
        Step(
            screenshot_png=b"\x89PNG%d" % i,
            response_token_ids=[i, i + 1],
            response_logprobs=[-0.5, -0.25],
            response_text=f"Thought: {i}\nAction: wait()",
            action="wait()",
            parse_error=None,
            env_action="WAIT",
            env_info={"step_s": 0.01 * i},
            policy_version=None if i == 1 else 4,  # a step without a version survives too
        )
        for i in range(num_steps)
    ]
    return Trajectory(
        task_id="t",
        group_id="g",
        episode_id="g:0",
        policy_version=4,
        instruction="do",
        prompt_id="p",
        steps=steps,
        eval_result=1.0,
        reward=1.0,
        terminated_by="DONE",
        is_replay=True,
    )


def test_round_trip_through_a_pickled_episode() -> None:
    for num_steps in (0, 1, 3):
        trajectory = make(num_steps)
        episode = pickle.loads(pickle.dumps(trajectory_to_episode(trajectory)))
        assert episode.is_done and len(episode) == num_steps
        assert episode.get_return() == (1.0 if num_steps else 0.0)
        assert episode_to_trajectory(episode).to_dict() == trajectory.to_dict()
