"""Registers ARPO and the project's envs with Ray Tune / RLlib (done on import of the package).

Registrations live in the Ray cluster's key-value store: call ``register()`` again after every
``ray.init`` (the `rllib` CLI and the test fixtures do).
"""

from __future__ import annotations

from typing import Any

ALGORITHM_NAME = "ARPO"


def register_envs() -> None:
    """RLlib env names: every env of ``envs.registration.ENVS`` ("minidesk", "osworld",
    "miniwob") and "arpo-target" (the smoke and fault-injection env of the tests)."""
    from ray.tune.registry import register_env

    from envs import register_rllib_envs
    from envs.testing import make_target_env

    register_rllib_envs()
    register_env("arpo-target", make_target_env)


def register() -> type:
    """Registers ARPO as a Tune trainable and the envs; returns the ARPO class.

    Also the target of the ``rllib.algorithms`` entry point, so ``rllib train --algo ARPO`` and
    ``tune.Tuner("ARPO", ...)`` find it.
    """
    from ray.tune.registry import register_trainable

    from rllib_arpo.algorithm import ARPO

    register_trainable(ALGORITHM_NAME, ARPO)
    register_envs()
    return ARPO


def arpo_algorithm() -> Any:
    """Entry point for the ``rllib.algorithms`` plugin group."""
    return register()
