"""The one record everything shares: a trajectory of a GUI agent.

A ``Trajectory`` is made by the env runner and read by the replay buffer, the learner, evaluation and
the logs. It is plain data: dataclasses of built-in types plus ``bytes``, convertible to and from a
dict (``to_dict``/``from_dict``) for checkpoints, pickling across processes and parquet rows.

What it keeps and why:

- Screenshots as PNG ``bytes`` (never decoded pixels at rest): a 1080p desktop is a few hundred KB as
  PNG but ~50 MB as the fp32 tensor Qwen2.5-VL's processor makes of it.
- The sampled token ids of every assistant turn (``response_token_ids``), so that the learner trains
  on exactly the tokens the sampler produced, not on a re-tokenization of decoded text (a flaw of
  the reference code, see docs and ARPO.md).
- The sampler's log-probs, for diagnostics and as a fallback score; ARPO recomputes old log-probs
  under the trainer's weights before the update.

The reward it carries is ARPO's (``core.reward``), set by the rollout loop when the episode ends.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from typing import Any

from rllib_arpo.core import metrics as M
from rllib_arpo.core.reward import (
    FORMAT_PENALTY_WEIGHT,
    FORMAT_REWARD_BAD,
    FORMAT_REWARD_OK,
    SUCCESS_THRESHOLD,
    compute_reward,
    is_success,
)

SCHEMA_VERSION = 1
"""Version of the dict layout written by ``to_dict``; bumped on incompatible changes."""


class Termination(str, Enum):
    """Why an episode ended (``Trajectory.terminated_by``)."""

    DONE = "DONE"
    """The agent called ``finished(...)``."""
    FAIL = "FAIL"
    """The agent declared the task infeasible (OSWorld's FAIL action)."""
    MAX_STEPS = "max_steps"
    """The step budget ran out (15 in ARPO)."""
    ENV_ERROR = "env_error"
    """The environment raised, hung past its timeout or crashed."""
    PARSE_ERROR = "parse_error"
    """The model's output could not be parsed into an action (format reward -1)."""


@dataclass(frozen=True)
class Step:
    """One turn of an episode: the screenshot seen, the model's answer and what the env was sent.

    Attributes:
        screenshot_png: The observation before this turn's action, PNG-encoded.
        response_token_ids: Token ids the sampler generated for this turn (the assistant turn).
        response_logprobs: The sampler's log-prob of each generated token; same length as
            ``response_token_ids``, or empty when the producer had none (e.g. expert demos).
        response_text: The decoded response, ``"Thought: ...\\nAction: ..."``.
        action: The canonical text of the parsed action(s) (``core.actions.format_action``), or
            ``None`` when parsing failed.
        parse_error: Why parsing failed, or ``None``.
        env_action: What was sent to the env: pyautogui code, or ``WAIT``/``DONE``/``FAIL``.
        env_info: Per-step information from the env runner (timings, errors), built-in types only.
        policy_version: The weight version the answer was sampled with (the engine's, at the
            moment it generated this turn); None where the producer has no versions (demos).
    """

    screenshot_png: bytes
    response_token_ids: list[int]
    response_logprobs: list[float]
    response_text: str
    action: str | None
    parse_error: str | None
    env_action: str
    env_info: dict[str, Any] = field(default_factory=dict)
    policy_version: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.screenshot_png, (bytes, bytearray)):
            raise TypeError(
                f"screenshot_png must be PNG bytes, got {type(self.screenshot_png).__name__}; "
                "encode pixels with PIL before building a Step"
            )
        if self.response_logprobs and len(self.response_logprobs) != len(self.response_token_ids):
            raise ValueError(
                f"response_logprobs has {len(self.response_logprobs)} entries but "
                f"response_token_ids has {len(self.response_token_ids)}; give one log-prob per "
                "token or none"
            )

    def to_dict(self) -> dict[str, Any]:
        """This step as a dict of built-in types and bytes (lists and dicts are copies)."""
        return {
            "screenshot_png": bytes(self.screenshot_png),
            "response_token_ids": [int(t) for t in self.response_token_ids],
            "response_logprobs": [float(x) for x in self.response_logprobs],
            "response_text": self.response_text,
            "action": self.action,
            "parse_error": self.parse_error,
            "env_action": self.env_action,
            "env_info": copy.deepcopy(self.env_info),
            "policy_version": self.policy_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        """Inverse of ``to_dict``; unknown keys are an error (they would be silently lost)."""
        _check_keys(cls, data, "Step")
        return cls(
            screenshot_png=bytes(data["screenshot_png"]),
            response_token_ids=[int(t) for t in data["response_token_ids"]],
            response_logprobs=[float(x) for x in data["response_logprobs"]],
            response_text=data["response_text"],
            action=data["action"],
            parse_error=data["parse_error"],
            env_action=data["env_action"],
            env_info=copy.deepcopy(dict(data.get("env_info", {}))),
            policy_version=_optional_int(data.get("policy_version")),
        )

    def nbytes(self) -> int:
        """Approximate in-memory size in bytes (CPython ``sys.getsizeof`` of the payload)."""
        size = sys.getsizeof(self.screenshot_png)
        size += sys.getsizeof(self.response_token_ids)
        size += sum(sys.getsizeof(t) for t in self.response_token_ids)
        size += sys.getsizeof(self.response_logprobs)
        size += sum(sys.getsizeof(x) for x in self.response_logprobs)
        for text in (self.response_text, self.action, self.parse_error, self.env_action):
            size += sys.getsizeof(text)
        return size


@dataclass
class Trajectory:
    """One episode of one task, the unit of ARPO's group advantage and of success replay.

    Attributes:
        task_id: The task's id (OSWorld task id or MiniDesk family/seed).
        group_id: The group this episode belongs to (G episodes of one task sampled together);
            advantages are normalized within a group.
        episode_id: Unique id of this episode.
        policy_version: Version of the weights the episode was sampled with.
        instruction: The task instruction shown to the model.
        prompt_id: Id of the system/instruction prompt template (``core.prompt.PROMPT_ID``).
        steps: The turns, in order.
        eval_result: The evaluator's result in [0, 1].
        format_reward: 0, or -1 when an output could not be parsed.
        reward: The training reward (``core.reward.compute_reward``), set by the rollout loop
            when the episode ends.
        terminated_by: Why the episode ended (a ``Termination``).
        is_replay: True for a copy injected by the success replay buffer: its old log-probs must be
            recomputed under the current policy (its sampler log-probs belong to an older one).
    """

    task_id: str
    group_id: str
    episode_id: str
    policy_version: int
    instruction: str
    prompt_id: str
    steps: list[Step] = field(default_factory=list)
    eval_result: float = 0.0
    format_reward: float = FORMAT_REWARD_OK
    reward: float = 0.0
    terminated_by: Termination = Termination.MAX_STEPS
    is_replay: bool = False

    def __post_init__(self) -> None:
        try:
            self.terminated_by = Termination(self.terminated_by)
        except ValueError:
            valid = ", ".join(t.value for t in Termination)
            raise ValueError(
                f"terminated_by={self.terminated_by!r} is not one of: {valid}"
            ) from None
        if not 0.0 <= float(self.eval_result) <= 1.0:
            raise ValueError(f"eval_result={self.eval_result!r} is outside [0, 1]")
        if float(self.format_reward) not in (FORMAT_REWARD_OK, FORMAT_REWARD_BAD):
            raise ValueError(
                f"format_reward={self.format_reward!r} is not one of "
                f"{FORMAT_REWARD_OK}, {FORMAT_REWARD_BAD}"
            )

    @property
    def num_steps(self) -> int:
        """Number of turns."""
        return len(self.steps)

    @property
    def num_response_tokens(self) -> int:
        """Generated tokens over all turns (the tokens the loss is computed on)."""
        return sum(len(s.response_token_ids) for s in self.steps)

    def mean_sampler_logprob(self) -> float | None:
        """Mean of the sampler's token log-probs over all turns, or None when there are none."""
        logprobs = [x for s in self.steps for x in s.response_logprobs]
        if not logprobs:
            return None
        return math.fsum(logprobs) / len(logprobs)

    def with_reward(self, format_penalty_weight: float = FORMAT_PENALTY_WEIGHT) -> Trajectory:
        """A copy whose ``reward`` is ``compute_reward(eval_result, format_reward, weight)``."""
        reward = compute_reward(self.eval_result, self.format_reward, format_penalty_weight)
        return replace(self, reward=reward)

    def is_success(self, threshold: float = SUCCESS_THRESHOLD) -> bool:
        """``core.reward.is_success`` of this episode's evaluator result."""
        return is_success(self.eval_result, threshold)

    def nbytes(self) -> int:
        """Approximate in-memory size in bytes of the steps' payload (screenshots dominate)."""
        return sum(s.nbytes() for s in self.steps) + sys.getsizeof(self.instruction)

    def to_dict(self) -> dict[str, Any]:
        """This trajectory as a dict of built-in types and bytes, with ``schema_version``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "task_id": self.task_id,
            "group_id": self.group_id,
            "episode_id": self.episode_id,
            "policy_version": int(self.policy_version),
            "instruction": self.instruction,
            "prompt_id": self.prompt_id,
            "steps": [s.to_dict() for s in self.steps],
            "eval_result": float(self.eval_result),
            "format_reward": float(self.format_reward),
            "reward": float(self.reward),
            "terminated_by": self.terminated_by.value,
            "is_replay": bool(self.is_replay),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trajectory:
        """Inverse of ``to_dict``; rejects other schema versions and unknown keys."""
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"trajectory schema_version={version!r}; this code reads {SCHEMA_VERSION}"
            )
        body = {k: v for k, v in data.items() if k != "schema_version"}
        _check_keys(cls, body, "Trajectory")
        return cls(
            task_id=body["task_id"],
            group_id=body["group_id"],
            episode_id=body["episode_id"],
            policy_version=int(body["policy_version"]),
            instruction=body["instruction"],
            prompt_id=body["prompt_id"],
            steps=[Step.from_dict(s) for s in body.get("steps", [])],
            eval_result=float(body.get("eval_result", 0.0)),
            format_reward=float(body.get("format_reward", FORMAT_REWARD_OK)),
            reward=float(body.get("reward", 0.0)),
            terminated_by=body.get("terminated_by", Termination.MAX_STEPS),
            is_replay=bool(body.get("is_replay", False)),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _check_keys(cls: type, data: Mapping[str, Any], name: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {name} field(s) {unknown}; known: {sorted(known)}")


def summarize_rollouts(
    trajectories: Iterable[Trajectory], success_threshold: float = SUCCESS_THRESHOLD
) -> dict[str, float]:
    """Rollout statistics of a batch of trajectories, keyed by ``core.metrics`` names.

    Args:
        trajectories: The batch (fresh rollouts; leave injected replay copies out to measure the
            current policy).
        success_threshold: An ``eval_result`` above it is a success.

    Returns:
        Success rate, mean evaluator result, parse- and env-error rates, mean steps and mean
        response tokens per trajectory, and the weight versions its steps were sampled with
        (oldest, newest, trajectories whose steps span several); an empty batch gives an empty
        dict.
    """
    trajs = list(trajectories)
    if not trajs:
        return {}
    n = len(trajs)
    versions = [{s.policy_version for s in t.steps if s.policy_version is not None} for t in trajs]
    every = set().union(*versions)
    version_stats = (
        {
            M.ROLLOUT_VERSION_MIN: float(min(every)),
            M.ROLLOUT_VERSION_MAX: float(max(every)),
            M.ROLLOUT_MIXED_VERSION_TRAJECTORIES: float(sum(len(v) > 1 for v in versions)),
        }
        if every
        else {}
    )
    return version_stats | {
        M.ROLLOUT_NUM_TRAJECTORIES: float(n),
        M.ROLLOUT_SUCCESS_RATE: sum(t.is_success(success_threshold) for t in trajs) / n,
        M.ROLLOUT_EVAL_RESULT_MEAN: math.fsum(t.eval_result for t in trajs) / n,
        M.ROLLOUT_PARSE_ERROR_RATE: sum(t.terminated_by is Termination.PARSE_ERROR for t in trajs)
        / n,
        M.ROLLOUT_ENV_ERROR_RATE: sum(t.terminated_by is Termination.ENV_ERROR for t in trajs) / n,
        M.ROLLOUT_STEPS_MEAN: sum(t.num_steps for t in trajs) / n,
        M.ROLLOUT_RESPONSE_TOKENS_MEAN: sum(t.num_response_tokens for t in trajs) / n,
    }
