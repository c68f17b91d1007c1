"""The lock-step group rollout loop (no Ray): groups, parse failures, env failures as data."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rllib_arpo.core.coords import CoordinateSpace
from rllib_arpo.rollout.generation import TurnRequest, TurnResponse
from rllib_arpo.rollout.loop import GroupRollout, RolloutSettings


class TargetEnv(gym.Env):
    """Click inside the target square, then say DONE. Screen 56x56."""

    def __init__(self, fault: str | None = None) -> None:
        self.observation_space = spaces.Dict(
            {"screenshot": spaces.Box(0, 255, (56, 56, 3), np.uint8)}
        )
        self.action_space = spaces.Text(1000)
        self.fault = fault
        self.hit = False
        self.resets = 0

    def _obs(self) -> dict:
        screen = np.zeros((56, 56, 3), np.uint8)
        screen[:28, :28] = 255
        return {"screenshot": screen}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.resets += 1
        if self.fault == "reset_raises":
            raise RuntimeError("VM crashed")
        self.hit = False
        task = options["task"]
        return self._obs(), {"instruction": f"click the white square ({task})", "task_id": task}

    def step(self, action: str):
        if self.fault == "step_raises":
            raise RuntimeError("connection reset")
        if self.fault == "step_hangs":
            time.sleep(5)
        if self.fault == "garbage":
            return "not an observation", 0.0, False, False, {}
        if action.startswith("pyautogui.click"):
            x = int(action.split("x=")[1].split(",")[0])
            y = int(action.split("y=")[1].split(")")[0])
            self.hit = x < 28 and y < 28
        if action in ("DONE", "FAIL"):
            result = float(self.hit and action == "DONE")
            return self._obs(), result, True, False, {"eval_result": result}
        return self._obs(), 0.0, False, False, {}


def scripted_generate(requests: list[TurnRequest]) -> list[TurnResponse]:
    out = []
    for i, request in enumerate(requests):
        turn = len(request.previous_responses)
        if turn == 0:
            point = (5, 5) if i % 2 == 0 else (50, 50)
            text = f"Thought: click\nAction: click(start_box='({point[0]},{point[1]})')"
        elif i % 5 == 4:
            text = "I refuse to answer in the format"
        else:
            text = "Thought: done\nAction: finished(content='')"
        ids = list(range(len(text) % 7 + 1))
        out.append(TurnResponse(text=text, token_ids=ids, logprobs=[-0.1] * len(ids)))
    return out


def space(width: int, height: int) -> CoordinateSpace:
    return CoordinateSpace.for_screen(width, height)


def test_groups_of_the_same_task_with_rewards_and_parse_failures() -> None:
    rollout = GroupRollout(TargetEnv, scripted_generate, space, RolloutSettings(group_size=4))
    trajectories, stats = rollout.run(["a", "b"], policy_version=3, group_prefix="it1/")
    assert len(trajectories) == 8
    groups = {t.group_id for t in trajectories}
    assert groups == {"it1/g0:a", "it1/g1:b"}
    assert all(t.policy_version == 3 and t.instruction.startswith("click") for t in trajectories)
    by_member = {t.episode_id: t for t in trajectories}
    assert by_member["it1/g0:a:0"].eval_result == 1.0  # clicked inside, then DONE
    assert by_member["it1/g0:a:0"].terminated_by.value == "DONE"
    assert by_member["it1/g0:a:1"].eval_result == 0.0  # clicked outside
    # the 5th request of the second turn does not parse: format penalty, episode over
    bad = [t for t in trajectories if t.terminated_by.value == "parse_error"]
    assert bad and all(t.reward == -0.5 and t.format_reward == -1.0 for t in bad)
    assert stats.parse_errors == len(bad)
    assert all(t.steps[0].screenshot_png.startswith(b"\x89PNG") for t in trajectories)
    assert by_member["it1/g0:a:0"].steps[0].env_action == "pyautogui.click(x=5, y=5)"
    # every step reached its env except the unparsable ones
    assert stats.env_steps == sum(len(t.steps) for t in trajectories) - stats.parse_errors
    rollout.close()


def test_env_failures_are_counted_not_raised() -> None:
    made: list[TargetEnv] = []

    def factory() -> TargetEnv:
        # every third env raises on reset, every fourth raises on step, one hangs, one returns garbage
        faults = [None, "reset_raises", None, "step_raises", "step_hangs", "garbage"]
        env = TargetEnv(faults[len(made) % len(faults)])
        made.append(env)
        return env

    settings = RolloutSettings(group_size=4, step_timeout_s=0.5, max_retries=1)
    rollout = GroupRollout(factory, scripted_generate, space, settings)
    trajectories, stats = rollout.run(["a", "b"])
    assert stats.env_errors >= 3
    assert stats.env_timeouts >= 1
    errored = [t for t in trajectories if t.terminated_by.value == "env_error"]
    assert errored and stats.incomplete_groups >= 1
    finished = [t for t in trajectories if t.terminated_by.value in ("DONE", "parse_error")]
    assert finished, "healthy envs still finished their episodes"


def test_reset_that_always_fails_drops_the_episode() -> None:
    settings = RolloutSettings(group_size=2, max_retries=2)
    rollout = GroupRollout(lambda: TargetEnv("reset_raises"), scripted_generate, space, settings)
    trajectories, stats = rollout.run(["a"])
    assert stats.dropped_episodes == 2 and stats.incomplete_groups == 1
    assert all(t.terminated_by.value == "env_error" and not t.steps for t in trajectories)


class DeadServerEnv(TargetEnv):
    """Like a remote env whose server died: the step says terminated, with an error."""

    def step(self, action: str):
        return self._obs(), 0.0, True, False, {"error": "server at 127.0.0.1:1 unreachable"}


def test_a_terminated_step_with_an_error_is_an_env_failure() -> None:
    rollout = GroupRollout(DeadServerEnv, scripted_generate, space, RolloutSettings(group_size=2))
    trajectories, stats = rollout.run(["a"])
    clicked = [t for t in trajectories if t.steps[0].env_action.startswith("pyautogui")]
    assert clicked and all(t.terminated_by.value == "env_error" for t in clicked)
    assert stats.env_errors == len(clicked) and stats.incomplete_groups == 1


def test_each_step_records_the_version_that_sampled_it() -> None:
    calls = {"n": 0}

    def versioned_generate(requests: list[TurnRequest]) -> list[TurnResponse]:
        # the weights change between the first and the second generation call
        version = 7 + min(calls["n"], 1)
        calls["n"] += 1
        return [
            TurnResponse(r.text, r.token_ids, r.logprobs, weight_version=version)
            for r in scripted_generate(requests)
        ]

    rollout = GroupRollout(TargetEnv, versioned_generate, space, RolloutSettings(group_size=2))
    trajectories, _ = rollout.run(["a"], policy_version=0)
    for trajectory in trajectories:
        assert [s.policy_version for s in trajectory.steps][:2] == [7, 8][: len(trajectory.steps)]
        assert trajectory.policy_version == 7  # a trajectory's version is its oldest step's
    rollout.close()


class PageEnv(TargetEnv):
    """Remembers every task family it was reset into (a browser with its pages)."""

    def __init__(self) -> None:
        super().__init__()
        self.families: list[str] = []

    def reset(self, *, seed=None, options=None):
        self.families.append(options["task"].rsplit("/", 1)[0])
        return super().reset(seed=seed, options=options)


def test_envs_go_back_to_the_family_they_last_ran() -> None:
    made: list[PageEnv] = []

    def factory() -> PageEnv:
        made.append(PageEnv())
        return made[-1]

    rollout = GroupRollout(factory, scripted_generate, space, RolloutSettings(group_size=2))
    _, stats = rollout.run(["miniwob/click-test-2/1", "miniwob/click-link/1"])
    assert len(made) == 4 and stats.reset_s > 0
    # Whatever order later runs list the families in, each env stays on one family (one page);
    # handing out the last-released env first would swap them here.
    rollout.run(["miniwob/click-test-2/2", "miniwob/click-link/2"])
    rollout.run(["miniwob/click-link/3", "miniwob/click-test-2/3"])
    assert len(made) == 4
    assert all(len(set(env.families)) == 1 and len(env.families) == 3 for env in made)
    rollout.close()


class PickyEnv(TargetEnv):
    """Refuses task "bad" at reset, as an env refuses an unknown id or an invalid task file."""

    def reset(self, *, seed=None, options=None):
        if options["task"] == "bad":
            self.resets += 1
            raise ValueError("unknown task id 'bad'")
        return super().reset(seed=seed, options=options)


def test_a_refused_task_is_dropped_at_once_and_its_env_kept() -> None:
    made: list[PickyEnv] = []

    def factory() -> PickyEnv:
        made.append(PickyEnv())
        return made[-1]

    settings = RolloutSettings(group_size=2, max_retries=3)
    rollout = GroupRollout(factory, scripted_generate, space, settings)
    trajectories, stats = rollout.run(["bad", "a"])
    assert stats.task_errors == 2 and stats.dropped_episodes == 2 and stats.reset_retries == 0
    assert stats.env_errors == 0 and stats.incomplete_groups == 1
    assert sum(env.resets for env in made) == 4  # one reset per episode: nothing retried
    assert {t.task_id for t in trajectories if t.terminated_by.value != "env_error"} == {"a"}
    rollout.run(["a"])
    assert len(made) == 4  # the refusing envs were healthy, and pooled


def test_what_counts_as_a_refused_task() -> None:
    from rllib_arpo.rollout.env_calls import EnvCallError, refuses_task

    def failed(error: BaseException) -> EnvCallError:
        try:
            raise EnvCallError(f"{type(error).__name__}: {error}") from error
        except EnvCallError as problem:
            return problem

    class Refusal(RuntimeError):  # an env server's 4xx
        transient = False

    class Flaky(ValueError):  # a 503 that happens to be a ValueError
        transient = True

    assert refuses_task(failed(ValueError("bad task file")))
    assert refuses_task(failed(KeyError("unknown MiniWoB task")))
    assert refuses_task(failed(Refusal("400: bad field")))
    assert not refuses_task(failed(RuntimeError("VM crashed")))
    assert not refuses_task(failed(Flaky("service unavailable")))
    assert not refuses_task(EnvCallError("env call hung for more than 1.0 s", timed_out=True))


def test_minidesk_refuses_an_unknown_task_without_retries() -> None:
    from envs.minidesk.env import MiniDeskEnv

    rollout = GroupRollout(
        lambda: MiniDeskEnv(screen_size=(112, 112)),
        scripted_generate,
        space,
        RolloutSettings(group_size=2, max_retries=2),
    )
    _, stats = rollout.run(["minidesk/no_such_family/grid112/1"])
    assert stats.task_errors == 2 and stats.reset_retries == 0
    rollout.close()
