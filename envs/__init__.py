"""Environments for rllib-arpo. ``MiniDesk-v0`` is registered with gymnasium on import.

RLlib registration is a function (importing ray is slow): call ``register_rllib_envs()`` after
``ray.init`` (registrations live in the cluster) to register ``"minidesk"`` with
``ray.tune.registry.register_env``; its ``env_config`` keys are ``MiniDeskEnv``'s arguments.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

MINIDESK_ENV_ID = "MiniDesk-v0"
RLLIB_ENV_NAME = "minidesk"

if MINIDESK_ENV_ID not in gym.registry:
    gym.register(id=MINIDESK_ENV_ID, entry_point="envs.minidesk.env:MiniDeskEnv")


def make_minidesk(env_config: dict[str, Any] | None = None):
    """``MiniDeskEnv(**env_config)``; accepts RLlib's ``EnvContext`` (a dict)."""
    from envs.minidesk.env import MiniDeskEnv

    config = dict(env_config or {})
    if "screen_size" in config:
        config["screen_size"] = tuple(config["screen_size"])
    return MiniDeskEnv(**config)


def register_rllib_envs() -> None:
    """Register ``"minidesk"`` in Ray Tune's env registry (imports ray; call after ray.init)."""
    from ray.tune.registry import register_env

    register_env(RLLIB_ENV_NAME, make_minidesk)


__all__ = ["MINIDESK_ENV_ID", "RLLIB_ENV_NAME", "make_minidesk", "register_rllib_envs"]
