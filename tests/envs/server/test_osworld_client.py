"""envs/osworld.py: the gymnasium client of an env server, against envs served on 127.0.0.1."""

from __future__ import annotations

import logging
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from remote_fakes import CounterEnv, EvalFreeEnv
from remote_helpers import TOKEN

from envs.osworld import (
    ENV_ID,
    MAX_INSTRUCTION_BYTES,
    EnvServerError,
    EnvServerRejectedError,
    OSWorldEnv,
    decode_instruction,
    make_rllib_env,
)
from envs.server import make_backend_factory, serve
from envs.server.local import local_env

FAST = {"reset_retries": 3, "retry_backoff_s": 0.01, "connect_timeout_s": 2.0}


def test_episode_through_the_client() -> None:
    with local_env(CounterEnv, **FAST) as (env, _):
        assert env.observation_space["screenshot"].shape == (48, 64, 3)
        assert env.observation_space["instruction"].shape == (MAX_INSTRUCTION_BYTES,)
        task = {"id": "t1", "instruction": "ignored", "level": np.int64(2)}  # numpy goes as JSON
        obs, info = env.reset(seed=1, options={"task": task})
        assert obs in env.observation_space
        assert info["instruction"] == "count to two (t1)" and info["task_id"] == "t1"
        assert decode_instruction(obs["instruction"]) == "count to two (t1)"
        direct_obs, _ = CounterEnv().reset(options={"task": {"id": "t1"}})
        np.testing.assert_array_equal(obs["screenshot"], direct_obs["screenshot"])

        steps = [env.step(a) for a in ("pyautogui.click(3, 4)", "pyautogui.press('a')", "DONE")]
        assert [s[2] for s in steps] == [False, False, True]
        assert steps[1][0]["screenshot"][20, 20, 0] == 20
        obs, reward, terminated, truncated, info = steps[-1]
        assert (reward, terminated, truncated, info["eval_result"]) == (1.0, True, False, 1.0)
        assert "error" not in info
        with pytest.raises(RuntimeError, match="call reset"):
            env.step("x")


def test_check_env_passes_on_the_served_env() -> None:
    with local_env(CounterEnv, **FAST) as (env, _):
        check_env(env, skip_render_check=True)


def test_gymnasium_make_builds_the_client(counter_server) -> None:
    env = gym.make(ENV_ID, server_url=counter_server.url, token=TOKEN)
    _, info = env.reset(options={"task": "x"})
    assert info["task_id"] == "x"
    env.close()


def test_killing_the_server_mid_episode_fails_the_episode_not_the_run(server_process) -> None:
    env = OSWorldEnv(server_process.url, token=TOKEN, **FAST)
    env.reset(options={"task": "t"})
    env.step("pyautogui.click(1, 1)")
    server_process.proc.kill()
    server_process.proc.wait(timeout=10)
    obs, reward, terminated, truncated, info = env.step("pyautogui.click(2, 2)")
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info["eval_result"] == 0.0 and info["task_id"] == "t"
    assert server_process.url in info["error"] and "unreachable" in info["error"]
    assert obs in env.observation_space  # the last screen seen
    with pytest.raises(EnvServerError, match=f"failed 3 times on env server {server_process.url}"):
        env.reset(options={"task": "t"})
    env.close()


def test_stopping_an_in_thread_server_mid_episode_fails_the_episode() -> None:
    with local_env(CounterEnv, **FAST) as (env, server):
        env.reset()
        env.step("x")
        server.shutdown()  # also drops the client's open keep-alive connection
        _, reward, terminated, _, info = env.step("x")
        assert terminated and reward == 0.0 and "unreachable" in info["error"]


def test_a_server_that_stops_answering_times_out_as_a_failed_episode(counter_server) -> None:
    env = OSWorldEnv(counter_server.url, token=TOKEN, read_timeout_s=0.5, **FAST)
    env.reset()
    started = time.perf_counter()
    _, reward, terminated, _, info = env.step("SLEEP 1.5")
    assert time.perf_counter() - started < 1.4
    assert terminated and reward == 0.0 and "timed out" in info["error"]
    env.close()


def test_env_error_mid_episode_is_data(counter_server) -> None:
    env = OSWorldEnv(counter_server.url, token=TOKEN, **FAST)
    env.reset()
    _, reward, terminated, _, info = env.step("RAISE")
    assert terminated and reward == 0.0 and info["eval_result"] == 0.0
    assert "HTTP 500: RuntimeError: the emulator crashed" in info["error"]
    env.reset()  # the same server serves the next episode
    assert not env.step("x")[2]


def test_unreachable_server_is_a_clear_error_at_construction() -> None:
    with socket_port() as port:
        url = f"http://127.0.0.1:{port}"
    with pytest.raises(EnvServerError, match=f"cannot use env server {url}.*unreachable"):
        OSWorldEnv(url, token=TOKEN, **FAST)


def test_wrong_token_is_a_clear_error(counter_server) -> None:
    with pytest.raises(EnvServerError, match="HTTP 401") as caught:
        OSWorldEnv(counter_server.url, token="wrong", **FAST)
    assert caught.value.status == 401 and not caught.value.transient


def test_only_no_answer_timeouts_and_5xx_are_retried() -> None:
    statuses = [None, 408, 429, 500, 502, 503, 400, 401, 404, 409, 413]
    transient = [EnvServerError("x", url="u", status=s).transient for s in statuses]
    assert transient == [True] * 6 + [False] * 5


def test_a_refused_reset_raises_at_once_with_the_servers_message(
    minidesk_server, monkeypatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("envs.osworld.time.sleep", sleeps.append)
    env = OSWorldEnv(minidesk_server.url, token=TOKEN)  # the reference's 8 tries, 1 s backoff
    with pytest.raises(EnvServerRejectedError) as caught:
        env.reset(options={"task": "minidesk/nope/easy/1"})
    assert sleeps == []  # not retried
    error = caught.value
    assert error.status == 400 and not error.transient and error.url == minidesk_server.url
    assert error.server_message.startswith("bad task: field 'task' = 'minidesk/nope/easy/1'")
    assert "'nope'" in error.server_message and minidesk_server.url in str(error)
    obs, _ = env.reset(options={"task": "minidesk/click_button/easy/1"})  # the env still works
    assert obs in env.observation_space
    env.close()


def test_a_bad_task_in_a_rollout_is_dropped_at_once_not_a_stall(monkeypatch, caplog) -> None:
    from rllib_arpo.core.coords import CoordinateSpace
    from rllib_arpo.rollout.generation import TurnResponse
    from rllib_arpo.rollout.loop import GroupRollout, RolloutSettings

    def finish(requests: list) -> list[TurnResponse]:
        text = "Thought: done\nAction: finished(content='')"
        return [TurnResponse(text=text, token_ids=[1], logprobs=[-0.1]) for _ in requests]

    servers = []

    def served_minidesk() -> OSWorldEnv:  # one server per env, as in training
        servers.append(serve(make_backend_factory("minidesk"), "127.0.0.1", 0, TOKEN,
                             max_lifetime_s=60))  # fmt: skip
        return OSWorldEnv(servers[-1].url, token=TOKEN, max_steps=3)

    sleeps: list[float] = []
    monkeypatch.setattr("envs.osworld.time.sleep", sleeps.append)
    settings = RolloutSettings(group_size=2, max_steps=3, max_retries=1)
    rollout = GroupRollout(served_minidesk, finish, CoordinateSpace.for_screen, settings)
    try:
        with caplog.at_level(logging.WARNING, logger="rllib_arpo.rollout.loop"):
            tasks = ["minidesk/click_button/easy/1", "minidesk/nope/easy/1"]
            trajectories, stats = rollout.run(tasks)
        rollout.close()
    finally:
        for server in servers:
            server.shutdown()
    assert sleeps == []  # the server's 400 is final: the client does not back off
    assert stats.dropped_episodes == 2 and stats.incomplete_groups == 1
    # Refused tasks are not retried: no fresh env (server) per try, no env failure counted.
    assert stats.task_errors == 2 and stats.reset_retries == 0 and stats.env_errors == 0
    assert len(servers) == 4
    dropped = [t for t in trajectories if t.terminated_by.value == "env_error"]
    assert {t.task_id for t in dropped} == {"minidesk/nope/easy/1"} and len(dropped) == 2
    assert "HTTP 400: bad task: field 'task' = 'minidesk/nope/easy/1'" in caplog.text
    done = [t for t in trajectories if t.task_id == "minidesk/click_button/easy/1"]
    assert [t.terminated_by.value for t in done] == ["DONE", "DONE"]


def test_reset_retries_transient_failures_with_backoff() -> None:
    server = serve(lambda: CounterEnv(failing_resets=2), "127.0.0.1", 0, TOKEN, max_lifetime_s=60)
    try:
        env = OSWorldEnv(server.url, token=TOKEN, reset_retries=3, retry_backoff_s=0.05)
        started = time.perf_counter()
        _, info = env.reset(options={"task": "t"})
        assert time.perf_counter() - started >= 0.05 + 0.1  # backoff doubles
        assert info["task_id"] == "t" and server.host.backend.env.resets == 3
        env.close()

        server.host.backend.env.failing_resets, server.host.backend.env.resets = 10, 0
        env = OSWorldEnv(server.url, token=TOKEN, reset_retries=2, retry_backoff_s=0.01)
        with pytest.raises(EnvServerError, match=f"failed 2 times on env server {server.url}"):
            env.reset(options={"task": "t"})
        env.close()
    finally:
        server.shutdown()


def test_max_steps_truncates_and_evaluates_through_the_server() -> None:
    with local_env(EvalFreeEnv, max_steps=2, **FAST) as (env, _):
        env.reset(options={"task": "t"})
        assert env.step("x")[1:4] == (0.0, False, False)
        _, reward, terminated, truncated, info = env.step("x")
        assert (terminated, truncated) == (False, True)
        assert info["eval_result"] == reward == 0.75  # from POST /evaluate


def test_screen_size_mismatch_is_reported(counter_server) -> None:
    env = OSWorldEnv(counter_server.url, token=TOKEN, screen_size=(32, 32), **FAST)
    with pytest.raises(ValueError, match="64x48 screenshot; this env expects 32x32"):
        env.reset()


def test_long_instructions_are_cut_to_the_observation_size(counter_server) -> None:
    class LongInstruction(CounterEnv):
        def reset(self, **kwargs):
            obs, info = super().reset(**kwargs)
            return obs, {**info, "instruction": "é" * MAX_INSTRUCTION_BYTES}

    with local_env(LongInstruction, **FAST) as (env, _):
        obs, info = env.reset()
        assert obs in env.observation_space
        assert info["instruction"] == "é" * MAX_INSTRUCTION_BYTES
        assert decode_instruction(obs["instruction"]) == "é" * (MAX_INSTRUCTION_BYTES // 2)


def test_rllib_creator_spreads_envs_over_servers() -> None:
    class Context(dict):
        worker_index, vector_index = 2, 1

    servers = [serve(CounterEnv, "127.0.0.1", 0, TOKEN, max_lifetime_s=60) for _ in range(4)]
    try:
        config = Context(server_url=[s.url for s in servers], token=TOKEN, envs_per_env_runner=2)
        env = make_rllib_env(config)
        assert env.url == servers[3].url  # (2 - 1) * 2 + 1
        env.close()
    finally:
        for server in servers:
            server.shutdown()


def test_register_rllib_env() -> None:
    pytest.importorskip("ray")
    from ray.tune.registry import ENV_CREATOR, _global_registry

    from envs.osworld import register_rllib_env

    register_rllib_env()
    assert _global_registry.contains(ENV_CREATOR, "osworld")


def test_importing_the_client_does_not_import_ray() -> None:
    import subprocess
    import sys

    code = "import sys, envs.osworld, envs.server; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_minidesk_served_remotely_matches_minidesk_direct() -> None:
    """The expert's actions replayed through the server: the same screens, the same result."""
    import datetime as dt

    from envs.minidesk import FAMILIES, LEVELS, MiniDeskEnv, expert_action, task_id
    from rllib_arpo.core.actions import parse_response, to_pyautogui
    from rllib_arpo.core.coords import CoordinateSpace

    now = dt.datetime(2026, 11, 25, 9, 30)
    direct = MiniDeskEnv(now=now)
    space = CoordinateSpace.for_screen(*direct.screen_size)
    with local_env(lambda: MiniDeskEnv(now=now), **FAST) as (env, _):
        assert env.observation_space == direct.observation_space
        assert env.action_space.max_length == direct.action_space.max_length
        for family in FAMILIES[:3]:
            task = task_id(family, LEVELS[0], 7)
            obs_d, info_d = direct.reset(seed=0, options={"task": task})
            obs_r, info_r = env.reset(seed=0, options={"task": task})
            assert info_r["instruction"] == info_d["instruction"] and info_r["task_id"] == task
            np.testing.assert_array_equal(obs_r["screenshot"], obs_d["screenshot"])
            np.testing.assert_array_equal(obs_r["instruction"], obs_d["instruction"])
            done = False
            while not done:
                code = to_pyautogui(parse_response(expert_action(direct), space), space)
                obs_d, reward_d, term_d, trunc_d, info_d = direct.step(code)
                obs_r, reward_r, term_r, trunc_r, info_r = env.step(code)
                np.testing.assert_array_equal(obs_r["screenshot"], obs_d["screenshot"])
                assert (reward_r, term_r, trunc_r) == (reward_d, term_d, trunc_d)
                done = term_d or trunc_d
            assert info_r["eval_result"] == info_d["eval_result"] == 1.0, family
        check_env(env, skip_render_check=True)


def test_minidesk_by_name_through_python_m_envs_server() -> None:
    from remote_helpers import ServerProcess

    process = ServerProcess("--env", "minidesk", "--env-kwargs", '{"screen_size": [224, 168]}')
    try:
        env = OSWorldEnv(process.url, token=TOKEN, **FAST)
        assert env.screen_size == (224, 168) and env.server_env == "minidesk"
        obs, info = env.reset(options={"task": "minidesk/click_button/easy/1"})
        assert obs in env.observation_space and info["task_id"] == "minidesk/click_button/easy/1"
        _, reward, terminated, _, info = env.step("FAIL")
        assert terminated and reward == info["eval_result"] == 0.0
        env.close()
    finally:
        process.stop()


class socket_port:
    """A port that was free a moment ago (nothing listens on it afterwards)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *args: object) -> None:
        self.sock.close()
