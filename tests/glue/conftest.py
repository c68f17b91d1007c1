"""Fixtures for the Ray glue tests: a warm-started tiny policy and a small Ray cluster."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rllib_arpo.core.actions import Action, format_response

TARGET_INSTRUCTION = "Click the white square (target-a)."


def target_demos(rng: np.random.Generator, n: int):
    """Click a random pixel (inside the target half the time), then finish: the format, and a
    policy that succeeds sometimes, so groups have mixed rewards."""
    from envs.testing import TargetEnv
    from rllib_arpo.recipes.warmstart import Demo

    screen = TargetEnv()._obs()["screenshot"]
    demos = []
    for _ in range(n):
        high = 28 if rng.random() < 0.5 else 56
        x, y = int(rng.integers(0, high)), int(rng.integers(0, high))
        task = "target-a" if rng.random() < 0.5 else "target-b"
        demos.append(
            Demo(
                f"Click the white square ({task}).",
                [screen, screen],
                [
                    format_response(Action("click", start=(x, y)), "I click the square."),
                    format_response(Action("finished", content=""), "Done."),
                ],
            )
        )
    return demos


@pytest.fixture(scope="session")
def target_policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 0.2M tiny model taught the answer format on the target env (120 SFT steps, ~20 s)."""
    import torch

    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.policy.tiny import write_tiny_checkpoint
    from rllib_arpo.recipes.warmstart import warm_start

    torch.manual_seed(0)
    base = write_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "base", size="0.2m", seed=0)
    policy = load_policy(base)
    warm_start(policy, target_demos, steps=120, batch_size=8, lr=3e-3, seed=0)
    return Path(policy.export(tmp_path_factory.mktemp("tiny") / "warm"))


def _local_cluster(num_cpus: int):
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        object_store_memory=256 * 1024 * 1024,
        log_to_driver=False,
        ignore_reinit_error=True,
    )
    from rllib_arpo.registration import register

    register()
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray with 2 CPUs (this box's)."""
    yield from _local_cluster(2)


@pytest.fixture(scope="module")
def engine_cluster():
    """4 logical CPUs: the driver and its local learner, two env runners, one engine actor."""
    yield from _local_cluster(4)
