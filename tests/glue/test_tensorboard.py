"""A plain algo.train() writes ARPO's TensorBoard scalars, an episode image and its text."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ray


def test_event_files_hold_scalars_an_image_and_text(ray_cluster, target_policy_dir) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from rllib_arpo.config import ARPOConfig

    config = (
        ARPOConfig()
        .environment("arpo-target")
        .training(
            group_size=4,
            tasks_per_iteration=2,
            max_steps_per_episode=3,
            max_new_tokens=40,
            policy_path=str(target_policy_dir),
            lr=1e-3,
        )
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        algo.train()
        algo.train()
        logdir = algo.logdir
    finally:
        algo.stop()
    events = EventAccumulator(f"{logdir}/arpo", size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    for name in (
        "rollout/success_rate",
        "reward/mean",
        "replay/size",
        "loss/ratio_mean",
        "loss/entropy",
        "time/rollout_s",
        "success/target-a",
        "success/target-b",
    ):
        assert name in scalars, (name, sorted(scalars))
    assert len(events.Scalars("rollout/success_rate")) == 2
    images = events.Images("episode/strip")
    assert images and images[-1].width > 224 and images[-1].height > 100
    assert "episode/answers/text_summary" in events.Tags()["tensors"]
