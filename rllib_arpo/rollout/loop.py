"""Lock-step group rollouts: G episodes of each task, one batched generation per step.

No Ray here: the RLlib env runner (``env_runner.py``), ``arpo eval`` and the benchmarks drive the
same loop. Per step, every live episode contributes one request to a single batched generation;
each answer is parsed (``core.actions``), turned into OSWorld pyautogui code and sent to its env;
all envs step in parallel threads, each call bounded by a timeout.

Failures are data, never a crashed run:
- an unparsable answer ends the episode with ``terminated_by="parse_error"`` (format reward -1);
- an env whose reset keeps failing (exception, hang, garbage) is replaced by a fresh env up to
  ``max_retries`` times, then the episode is dropped and its group marked incomplete;
- a reset that refuses the task itself (``env_calls.refuses_task``: an unknown id, a task file
  that does not validate, an env server's 4xx) is not retried: the episode is dropped at once,
  counted in ``task_errors``, and the env goes back to the pool;
- an env step that fails or hangs ends the episode with ``terminated_by="env_error"``: its
  trajectory is kept for logs and metrics; the driver leaves env-error episodes out of groups
  (a group with fewer than two usable episodes carries no gradient).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rllib_arpo.core.actions import format_action, parse_response, to_pyautogui
from rllib_arpo.core.groups import task_family
from rllib_arpo.core.images import encode_png
from rllib_arpo.core.prompt import PROMPT_ID
from rllib_arpo.core.reward import (
    FORMAT_PENALTY_WEIGHT,
    FORMAT_REWARD_BAD,
    FORMAT_REWARD_OK,
    compute_reward,
)
from rllib_arpo.core.trajectory import Step, Termination, Trajectory
from rllib_arpo.rollout.env_calls import EnvCallError, refuses_task, screenshot_of, start_call
from rllib_arpo.rollout.generation import GenerateFn, SpaceFn, TurnRequest

logger = logging.getLogger(__name__)

ENV_CALL_ERRORS = (EnvCallError, TypeError, ValueError, KeyError)
"""What an env call may raise that ends its episode, not the run (garbage answers included)."""


@dataclass(frozen=True)
class RolloutSettings:
    """Knobs of the rollout loop (a subset of ARPOConfig, copied so this module needs no Ray)."""

    group_size: int = 8
    max_steps: int = 15
    step_timeout_s: float = 120.0
    max_retries: int = 2
    format_penalty_weight: float = FORMAT_PENALTY_WEIGHT
    seed: int = 0


@dataclass
class RolloutStats:
    """Counters of one ``run`` (become env-runner metrics)."""

    env_steps: int = 0
    episodes: int = 0
    env_errors: int = 0
    env_timeouts: int = 0
    reset_retries: int = 0
    task_errors: int = 0
    dropped_episodes: int = 0
    incomplete_groups: int = 0
    parse_errors: int = 0
    generation_s: float = 0.0
    env_s: float = 0.0
    reset_s: float = 0.0
    generated_tokens: int = 0

    def merge(self, other: RolloutStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Episode:
    task: Any
    task_id: str
    group_id: str
    episode_id: str
    instruction: str = ""
    env: Any = None
    screenshots: list[np.ndarray] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    done: bool = False
    terminated_by: str | None = None
    eval_result: float = 0.0
    format_reward: float = FORMAT_REWARD_OK
    failed: bool = False
    env_error: str | None = None


class GroupRollout:
    """Rolls out groups of same-task episodes in lock step.

    Args:
        env_factory: Makes a fresh env (called again to replace a broken one).
        generate: The policy's batched generation.
        coordinate_space: Maps a screen size to the policy's coordinate frame.
        settings: Loop settings.
    """

    def __init__(
        self,
        env_factory: Callable[[], Any],
        generate: GenerateFn,
        coordinate_space: SpaceFn,
        settings: RolloutSettings,
    ) -> None:
        self.env_factory = env_factory
        self.generate = generate
        self.coordinate_space = coordinate_space
        self.settings = settings
        self._idle_envs: list[Any] = []
        self._last_family: dict[int, str] = {}
        """id(idle env) -> the task family it last ran (``_take_env`` prefers a match)."""
        self._episode_counter = 0

    def close(self) -> None:
        for env in self._idle_envs:
            try:
                env.close()
            except Exception:
                logger.debug("closing an env failed", exc_info=True)
        self._idle_envs.clear()
        self._last_family.clear()

    # -------------------------------------------------------------------------------- running

    def run(
        self,
        tasks: Sequence[Any],
        *,
        policy_version: int = 0,
        group_prefix: str = "",
        seed: int | None = None,
    ) -> tuple[list[Trajectory], RolloutStats]:
        """Rolls out ``group_size`` episodes of every task; returns their trajectories.

        Args:
            tasks: Task dicts or ids, as the env's ``reset(options={"task": ...})`` takes them.
            policy_version: The trajectory's version when its answers carry none (each step
                records the version its answer was sampled with; a trajectory's version is
                its first step's, the oldest).
            group_prefix: Makes group ids unique across runners and iterations.
            seed: Base seed of the env resets (episode k of the run gets seed + k).

        Returns:
            (trajectories of completed episodes and incomplete ones, marked; counters).
        """
        stats = RolloutStats()
        base_seed = self.settings.seed if seed is None else seed
        episodes: list[_Episode] = []
        for task_index, task in enumerate(tasks):
            task_id = task_id_of(task)
            group_id = f"{group_prefix}g{task_index}:{task_id}"
            for member in range(self.settings.group_size):
                self._episode_counter += 1
                episodes.append(
                    _Episode(
                        task=task,
                        task_id=task_id,
                        group_id=group_id,
                        episode_id=f"{group_id}:{member}",
                    )
                )
        started = time.perf_counter()
        self._reset_all(episodes, base_seed, stats)
        stats.reset_s += time.perf_counter() - started
        while True:
            live = [e for e in episodes if not e.done]
            if not live:
                break
            self._step_all(live, stats)
        trajectories = [
            self._to_trajectory(e, policy_version) for e in episodes if e.steps or e.failed
        ]
        incomplete = {e.group_id for e in episodes if e.failed}
        stats.incomplete_groups += len(incomplete)
        stats.episodes += sum(1 for e in episodes if not e.failed)
        for episode in episodes:
            self._release_env(episode)
        return trajectories, stats

    def add_idle_env(self, env: Any) -> None:
        """Hand the loop an env made elsewhere (e.g. the one built to read the spaces)."""
        self._idle_envs.append(env)

    def idle_env(self) -> Any:
        """An env that is not in an episode (made if there is none); it stays in the pool."""
        if not self._idle_envs:
            self._idle_envs.append(self.env_factory())
        return self._idle_envs[-1]

    def _take_env(self, task_id: str) -> Any:
        """An idle env, preferably one that last ran the task's family (its page or app is
        likely still loaded: a MiniWoB page load costs ~0.5 s, a new episode on it ~0.1 s);
        a new env when none is idle."""
        if not self._idle_envs:
            return self.env_factory()
        family = task_family(task_id)
        index = next(
            (
                i
                for i in range(len(self._idle_envs) - 1, -1, -1)
                if self._last_family.get(id(self._idle_envs[i])) == family
            ),
            len(self._idle_envs) - 1,
        )
        env = self._idle_envs.pop(index)
        self._last_family.pop(id(env), None)
        return env

    def _release_env(self, episode: _Episode) -> None:
        if episode.env is not None:
            self._idle_envs.append(episode.env)
            self._last_family[id(episode.env)] = task_family(episode.task_id)
            episode.env = None

    def _discard_env(self, episode: _Episode) -> None:
        env, episode.env = episode.env, None
        if env is not None:
            # Closing may hang too: do it in the background.
            start_call(env.close)

    def _record_env_error(
        self, episode: _Episode, problem: Exception | str, stats: RolloutStats
    ) -> None:
        """Count a failed env call (a timeout too), keep its message, and drop the env."""
        if isinstance(problem, EnvCallError) and problem.timed_out:
            stats.env_timeouts += 1
        stats.env_errors += 1
        episode.env_error = str(problem)
        self._discard_env(episode)

    def _end_on_env_error(
        self, episode: _Episode, problem: Exception | str, stats: RolloutStats
    ) -> None:
        """A step failed in the env: the episode ends as ``env_error`` (left out of its group)."""
        self._record_env_error(episode, problem, stats)
        episode.done, episode.failed = True, True
        episode.terminated_by = Termination.ENV_ERROR.value

    def _reset_all(self, episodes: list[_Episode], base_seed: int, stats: RolloutStats) -> None:
        pending = list(enumerate(episodes))
        attempts = 0
        while pending and attempts <= self.settings.max_retries:
            calls = []
            for index, episode in pending:
                if episode.env is None:
                    try:
                        episode.env = self._take_env(episode.task_id)
                    except Exception as error:  # noqa: BLE001
                        calls.append((index, episode, None, error))
                        continue
                env, task = episode.env, episode.task
                call = start_call(
                    lambda env=env, task=task, s=base_seed + index: env.reset(
                        seed=s, options={"task": task}
                    )
                )
                calls.append((index, episode, call, None))
            still_pending = []
            for index, episode, call, error in calls:
                try:
                    if error is not None:
                        raise EnvCallError(f"env creation failed: {error}")
                    observation, info = call.result(self.settings.step_timeout_s)
                    episode.screenshots.append(screenshot_of(observation))
                    episode.instruction = _instruction_of(observation, info, episode.task)
                except ENV_CALL_ERRORS as problem:
                    if refuses_task(problem):
                        self._drop_refused_task(episode, problem, stats)
                        continue
                    self._record_env_error(episode, problem, stats)
                    still_pending.append((index, episode))
            pending = still_pending
            if pending:
                attempts += 1
                stats.reset_retries += len(pending) if attempts <= self.settings.max_retries else 0
        for _, episode in pending:
            logger.warning(
                "dropping episode %s: reset failed: %s", episode.episode_id, episode.env_error
            )
            episode.done, episode.failed = True, True
            episode.terminated_by = Termination.ENV_ERROR.value
            stats.dropped_episodes += 1

    def _drop_refused_task(
        self, episode: _Episode, problem: Exception, stats: RolloutStats
    ) -> None:
        """The env refused the task itself: drop the episode now (a retry fails the same way) and
        keep the env, which is healthy."""
        logger.warning(
            "dropping episode %s: the env refused task %r (not retried): %s",
            episode.episode_id,
            episode.task_id,
            problem,
        )
        episode.env_error = str(problem)
        self._release_env(episode)
        episode.done, episode.failed = True, True
        episode.terminated_by = Termination.ENV_ERROR.value
        stats.task_errors += 1
        stats.dropped_episodes += 1

    def _step_all(self, live: list[_Episode], stats: RolloutStats) -> None:
        requests = [
            TurnRequest(
                instruction=e.instruction,
                screenshots=list(e.screenshots),
                previous_responses=[s.response_token_ids for s in e.steps],
            )
            for e in live
        ]
        started = time.perf_counter()
        responses = self.generate(requests)
        stats.generation_s += time.perf_counter() - started
        if len(responses) != len(requests):
            raise RuntimeError(
                f"generate returned {len(responses)} responses for {len(requests)} requests"
            )
        calls = []
        for episode, response in zip(live, responses):
            stats.generated_tokens += len(response.token_ids)
            screen = episode.screenshots[-1]
            space = self.coordinate_space(screen.shape[1], screen.shape[0])
            parsed = parse_response(response.text, space)
            step = Step(
                screenshot_png=encode_png(screen),
                response_token_ids=[int(t) for t in response.token_ids],
                response_logprobs=[float(v) for v in response.logprobs],
                response_text=response.text,
                action="\n\n".join(format_action(a) for a in parsed.actions) if parsed.ok else None,
                parse_error=parsed.error,
                env_action="" if not parsed.ok else to_pyautogui(parsed, space),
                env_info={},
                policy_version=response.weight_version,
            )
            episode.steps.append(step)
            if not parsed.ok:
                stats.parse_errors += 1
                episode.done = True
                episode.terminated_by = Termination.PARSE_ERROR.value
                episode.format_reward = FORMAT_REWARD_BAD
                continue
            env, code = episode.env, step.env_action
            calls.append((episode, step, start_call(lambda env=env, code=code: env.step(code))))
        started = time.perf_counter()
        for episode, step, call in calls:
            try:
                observation, reward, terminated, truncated, info = call.result(
                    self.settings.step_timeout_s
                )
                screenshot = screenshot_of(observation)
            except ENV_CALL_ERRORS as problem:
                step.env_info["error"] = str(problem)
                self._end_on_env_error(episode, problem, stats)
                continue
            stats.env_steps += 1
            step.env_info.update(_plain_info(info))
            if isinstance(info, dict) and info.get("error") and (terminated or truncated):
                # A remote env reports a dead server or VM this way: an env failure, not a
                # finished episode (its zero reward says nothing about the policy).
                self._end_on_env_error(episode, str(info["error"]), stats)
                continue
            episode.screenshots.append(screenshot)
            if terminated or truncated or len(episode.steps) >= self.settings.max_steps:
                episode.done = True
                episode.eval_result = _eval_result(info, reward)
                episode.terminated_by = _termination(step.env_action, terminated, truncated)
        stats.env_s += time.perf_counter() - started

    def _to_trajectory(self, episode: _Episode, policy_version: int) -> Trajectory:
        versions = [s.policy_version for s in episode.steps if s.policy_version is not None]
        if versions:
            policy_version = min(versions)
        reward = compute_reward(
            episode.eval_result, episode.format_reward, self.settings.format_penalty_weight
        )
        return Trajectory(
            task_id=episode.task_id,
            group_id=episode.group_id,
            episode_id=episode.episode_id,
            policy_version=policy_version,
            instruction=episode.instruction,
            prompt_id=PROMPT_ID,
            steps=episode.steps,
            eval_result=episode.eval_result,
            format_reward=episode.format_reward,
            reward=reward,
            terminated_by=episode.terminated_by or Termination.MAX_STEPS.value,
        )


def task_id_of(task: Any) -> str:
    """A task's id: a task dict's ``id``, else the task itself as text."""
    if isinstance(task, dict):
        return str(task.get("id", "?"))
    return str(task)


def _instruction_of(observation: Any, info: dict, task: Any) -> str:
    if isinstance(info, dict) and isinstance(info.get("instruction"), str):
        return info["instruction"]
    if isinstance(task, dict) and isinstance(task.get("instruction"), str):
        return task["instruction"]
    raise EnvCallError("env reset gave no instruction (expected info['instruction'])")


def _eval_result(info: dict, reward: float) -> float:
    value = info.get("eval_result", reward) if isinstance(info, dict) else reward
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return min(max(value, 0.0), 1.0) if np.isfinite(value) else 0.0


def _termination(env_action: str, terminated: bool, truncated: bool) -> str:
    if terminated and env_action == "DONE":
        return Termination.DONE.value
    if terminated and env_action == "FAIL":
        return Termination.FAIL.value
    return Termination.MAX_STEPS.value


def _plain_info(info: Any) -> dict[str, Any]:
    """The JSON-friendly part of an env's info dict (what trajectories keep)."""
    if not isinstance(info, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
    return out
