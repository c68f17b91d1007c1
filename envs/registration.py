"""The project's envs by name: gymnasium ids and RLlib env names, registered in one way.

``register_gym_envs()`` (run on ``import envs``) registers every gymnasium id with a string entry
point, so it imports neither an env module nor its heavy dependencies (Selenium, the OSWorld
client); ``gymnasium.make`` imports the env when it is made. ``register_rllib_envs()`` registers
the RLlib names with ``ray.tune.registry.register_env`` (it imports ray; call it after
``ray.init``, registrations live in the cluster); ``env_config`` holds the env's arguments.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

MINIDESK_ENV_ID, MINIDESK_RLLIB_NAME = "MiniDesk-v0", "minidesk"
OSWORLD_ENV_ID, OSWORLD_RLLIB_NAME = "OSWorld-v0", "osworld"
MINIWOB_ENV_ID, MINIWOB_RLLIB_NAME = "MiniWoB-v0", "miniwob"


@dataclass(frozen=True)
class EnvEntry:
    """One project env.

    Attributes:
        gym_id: Its gymnasium id (``gymnasium.make(gym_id, **kwargs)``).
        rllib_name: Its RLlib env name (``config.environment(rllib_name, env_config=...)``).
        entry_point: ``"module:Class"`` of the env, imported only when the env is made.
        creator: ``"module:function"`` of its RLlib env creator (``env_config -> env``).
    """

    gym_id: str
    rllib_name: str
    entry_point: str
    creator: str


ENVS = (
    EnvEntry(
        MINIDESK_ENV_ID, MINIDESK_RLLIB_NAME, "envs.minidesk.env:MiniDeskEnv", "envs:make_minidesk"
    ),
    EnvEntry(
        OSWORLD_ENV_ID, OSWORLD_RLLIB_NAME, "envs.osworld:OSWorldEnv", "envs.osworld:make_rllib_env"
    ),
    EnvEntry(
        MINIWOB_ENV_ID, MINIWOB_RLLIB_NAME, "envs.miniwob:MiniWoBEnv", "envs.miniwob:make_rllib_env"
    ),
)
"""Every env of the project (the ``rllib.envs`` entry points of setup.cfg name the same creators)."""


def register_gym_envs() -> None:
    """Register every gymnasium id of ``ENVS`` that is not registered yet."""
    for entry in ENVS:
        if entry.gym_id not in gym.registry:
            gym.register(id=entry.gym_id, entry_point=entry.entry_point)


def register_rllib_env(name: str, creator: Callable[[Any], Any] | None = None) -> None:
    """Register the env ``name`` (an ``EnvEntry.rllib_name``) in Ray Tune's env registry.

    Args:
        name: The RLlib env name.
        creator: The env creator; default: the entry's ``creator``, imported now.
    """
    from ray.tune.registry import register_env

    if creator is None:
        entries = {entry.rllib_name: entry for entry in ENVS}
        if name not in entries:
            raise ValueError(f"unknown env {name!r}; expected one of {', '.join(entries)}")
        module_name, _, attr = entries[name].creator.partition(":")
        creator = getattr(importlib.import_module(module_name), attr)
    register_env(name, creator)


def register_rllib_envs() -> None:
    """Register every RLlib env name of ``ENVS`` (imports ray; call after ``ray.init``)."""
    for entry in ENVS:
        register_rllib_env(entry.rllib_name)


def make_minidesk(env_config: dict[str, Any] | None = None) -> Any:
    """RLlib creator of MiniDesk: ``MiniDeskEnv(**env_config)``; accepts RLlib's ``EnvContext``
    (a dict) and a JSON list as ``screen_size``. ``step_latency_s`` / ``reset_latency_s`` wrap
    it in ``envs.latency.SimulatedLatency`` (a stand-in for VMs: ``bench/async.py``)."""
    from envs.latency import make_with_latency
    from envs.minidesk.env import MiniDeskEnv

    config = dict(env_config or {})
    if "screen_size" in config:
        config["screen_size"] = tuple(config["screen_size"])
    return make_with_latency(lambda rest: MiniDeskEnv(**rest), config)
