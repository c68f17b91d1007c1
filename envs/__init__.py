"""Environments for rllib-arpo: MiniDesk, OSWorld (an env server's client) and MiniWoB++.

Importing ``envs`` registers the gymnasium ids ``MiniDesk-v0``, ``OSWorld-v0`` and ``MiniWoB-v0``
(string entry points: nothing heavy is imported until an env is made). RLlib registration is a
function (importing ray is slow): call ``register_rllib_envs()`` after ``ray.init`` to register
``"minidesk"``, ``"osworld"`` and ``"miniwob"`` with ``ray.tune.registry.register_env``; their
``env_config`` keys are the env classes' arguments. See ``envs/registration.py``.
"""

from __future__ import annotations

from envs.registration import (
    MINIDESK_ENV_ID,
    MINIDESK_RLLIB_NAME,
    MINIWOB_ENV_ID,
    OSWORLD_ENV_ID,
    make_minidesk,
    register_gym_envs,
    register_rllib_envs,
)

RLLIB_ENV_NAME = MINIDESK_RLLIB_NAME
"""MiniDesk's RLlib env name (``make_minidesk`` is its creator)."""

register_gym_envs()

__all__ = [
    "MINIDESK_ENV_ID",
    "MINIWOB_ENV_ID",
    "OSWORLD_ENV_ID",
    "RLLIB_ENV_NAME",
    "make_minidesk",
    "register_rllib_envs",
]
