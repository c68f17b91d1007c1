"""Trajectory records <-> RLlib ``SingleAgentEpisode`` (what env runners hand to the Algorithm).

Layout of an ARPO episode:
- observations: the PNG bytes of every screenshot the policy saw (one per step), then the last one
  again as the final observation: the screen after the final action never enters the policy's
  context, so the record does not keep it;
- actions: the env action strings (pyautogui code, ``WAIT``/``DONE``/``FAIL``; empty for an
  unparsable answer, which never reached the env);
- rewards: 0 per step, the trajectory reward (eval + 0.5 x format) on the last step;
- extra_model_outputs: ``response_text``, ``response_token_ids``, ``response_logprobs``,
  ``action`` and ``parse_error`` per step;
- custom_data["arpo"]: the episode-level fields (task id, group id, evaluator result, ...), which
  survive the trip to a remote Learner.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.env.single_agent_episode import SingleAgentEpisode

from rllib_arpo.core.trajectory import Step, Trajectory

CUSTOM_DATA_KEY = "arpo"
_STEP_EXTRAS = (
    "response_text",
    "response_token_ids",
    "response_logprobs",
    "action",
    "parse_error",
    "policy_version",
)


def trajectory_to_episode(trajectory: Trajectory) -> SingleAgentEpisode:
    """One trajectory record as a finished ``SingleAgentEpisode``."""
    episode = SingleAgentEpisode(id_=trajectory.episode_id)
    steps = trajectory.steps
    first_png = steps[0].screenshot_png if steps else b""
    episode.add_env_reset(observation=first_png, infos={"task_id": trajectory.task_id})
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        next_png = step.screenshot_png if last else steps[index + 1].screenshot_png
        episode.add_env_step(
            observation=next_png,
            action=step.env_action,
            reward=trajectory.reward if last else 0.0,
            infos=dict(step.env_info),
            terminated=last,
            extra_model_outputs={
                "response_text": step.response_text,
                "response_token_ids": list(step.response_token_ids),
                "response_logprobs": list(step.response_logprobs),
                "action": step.action,
                "parse_error": step.parse_error,
                # -1: no version (RLlib's episode columns want one type per key)
                "policy_version": -1 if step.policy_version is None else step.policy_version,
            },
        )
    if not steps:  # the env never came up: an empty, finished episode
        episode.is_terminated = True
    episode.custom_data[CUSTOM_DATA_KEY] = {
        "task_id": trajectory.task_id,
        "group_id": trajectory.group_id,
        "episode_id": trajectory.episode_id,
        "policy_version": trajectory.policy_version,
        "instruction": trajectory.instruction,
        "prompt_id": trajectory.prompt_id,
        "eval_result": trajectory.eval_result,
        "format_reward": trajectory.format_reward,
        "reward": trajectory.reward,
        "terminated_by": trajectory.terminated_by.value,
        "is_replay": trajectory.is_replay,
        "num_steps": len(steps),
    }
    return episode


def episode_to_trajectory(episode: SingleAgentEpisode) -> Trajectory:
    """Inverse of ``trajectory_to_episode``."""
    fields: dict[str, Any] = dict(episode.custom_data[CUSTOM_DATA_KEY])
    num_steps = fields.pop("num_steps")
    observations = list(episode.get_observations())
    actions = list(episode.get_actions()) if num_steps else []
    infos = list(episode.get_infos())
    extras = {
        key: list(episode.get_extra_model_outputs(key)) if num_steps else [] for key in _STEP_EXTRAS
    }
    steps = [
        Step(
            screenshot_png=observations[index],
            response_token_ids=extras["response_token_ids"][index],
            response_logprobs=extras["response_logprobs"][index],
            response_text=extras["response_text"][index],
            action=extras["action"][index],
            parse_error=extras["parse_error"][index],
            env_action=actions[index],
            env_info=dict(infos[index + 1]),
            policy_version=(
                None
                if int(extras["policy_version"][index]) < 0
                else int(extras["policy_version"][index])
            ),
        )
        for index in range(num_steps)
    ]
    return Trajectory(steps=steps, **fields)
