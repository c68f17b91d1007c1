"""``envs/registration.py``: every env's gymnasium id on ``import envs``, RLlib names on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import envs
from envs.registration import ENVS

REPO = Path(__file__).resolve().parents[2]


def test_import_envs_registers_every_gym_id_without_heavy_imports() -> None:
    code = (
        "import sys, envs, gymnasium; "
        "print(all(i in gymnasium.registry for i in ('MiniDesk-v0', 'OSWorld-v0', 'MiniWoB-v0'))); "
        "print(sorted(m for m in ('selenium', 'envs.osworld', 'envs.miniwob', 'envs.minidesk', 'ray') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.split("\n")[:2] == ["True", "[]"]


def test_entry_points_name_the_env_classes() -> None:
    assert {e.gym_id for e in ENVS} == {"MiniDesk-v0", "OSWorld-v0", "MiniWoB-v0"}
    for entry in ENVS:
        assert gym.spec(entry.gym_id).entry_point == entry.entry_point
    assert envs.RLLIB_ENV_NAME == "minidesk"


def test_unknown_rllib_name_lists_the_choices() -> None:
    pytest.importorskip("ray")
    from envs.registration import register_rllib_env

    with pytest.raises(ValueError, match="minidesk, osworld, miniwob"):
        register_rllib_env("nope")


def test_rllib_registration_is_lazy_and_callable() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, envs, envs.minidesk; print('ray' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


@pytest.mark.ray
def test_rllib_register_env() -> None:
    import ray
    from ray.tune.registry import ENV_CREATOR, _global_registry

    from envs import RLLIB_ENV_NAME, register_rllib_envs

    ray.init(num_cpus=1, include_dashboard=False, ignore_reinit_error=True)
    try:
        register_rllib_envs()
        creator = _global_registry.get(ENV_CREATOR, RLLIB_ENV_NAME)
        env = creator({"screen_size": [112, 112]})
        obs, _ = env.reset(options={"task": "minidesk/click_button/grid112/0"})
        assert obs["screenshot"].shape == (112, 112, 3)
    finally:
        ray.shutdown()


def test_minidesk_with_simulated_latency_waits_before_steps_and_resets() -> None:
    import time

    from envs.latency import SimulatedLatency
    from envs.registration import make_minidesk

    env = make_minidesk({"step_latency_s": 0.05, "reset_latency_s": 0.1, "max_steps": 2})
    assert isinstance(env, SimulatedLatency)
    started = time.perf_counter()
    env.reset(options={"task": "minidesk/click_button/easy/0"})
    reset_s = time.perf_counter() - started
    started = time.perf_counter()
    env.step("WAIT")
    step_s = time.perf_counter() - started
    assert reset_s >= 0.1 and step_s >= 0.05
    assert env.unwrapped.task_id == "minidesk/click_button/easy/0"
    with pytest.raises(ValueError, match="step_latency_s must be a number of seconds >= 0"):
        make_minidesk({"step_latency_s": -1})
