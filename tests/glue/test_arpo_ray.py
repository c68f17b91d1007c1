"""ARPO end to end on RLlib: tiny warm-started policy, group runner, learner, checkpoints."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.ray


def arpo_config(policy_dir: Path, **overrides):
    from rllib_arpo.config import ARPOConfig

    env_config = overrides.pop("env_config", {})
    runners = overrides.pop("num_env_runners", 0)
    learners = overrides.pop("num_learners", 0)
    training = dict(
        group_size=4,
        tasks_per_iteration=2,
        max_steps_per_episode=3,
        max_new_tokens=40,
        policy_path=str(policy_dir),
        minibatch_size=64,
        lr=1e-3,
        drop_zero_advantage_groups=False,
        env_step_timeout_s=5.0,
    )
    training.update(overrides)
    return (
        ARPOConfig()
        .environment("arpo-target", env_config=env_config)
        .training(**training)
        .env_runners(num_env_runners=runners)
        .learners(num_learners=learners)
        .debugging(seed=0)
    )


def check_iteration(result: dict) -> None:
    learner = result["learners"]["default_policy"]
    # One minibatch per iteration: the first (only) update sees the sampling weights.
    for key in ("loss/ratio_mean", "loss/ratio_min", "loss/ratio_max"):
        assert learner[key] == pytest.approx(1.0, abs=1e-4), (key, learner[key])
    assert math.isfinite(learner["loss/policy"])
    assert math.isfinite(learner["loss/entropy"])
    for key in (
        "rollout/success_rate",
        "rollout/parse_error_rate",
        "reward/mean",
        "replay/size",
        "adv/zero_variance_group_frac",
        "train/num_trajectories",
        "throughput/env_steps_per_s",
        "throughput/tokens_per_s",
        "time/rollout_s",
        "time/learn_s",
        "time/sync_s",
    ):
        assert key in result, key
    for key in ("loss/clip_frac_low", "loss/clip_frac_high", "loss/approx_kl"):
        assert math.isfinite(learner[key]), key
    assert result["rollout/num_trajectories"] == 8


MINIDESK = {
    "env": "minidesk",
    "env_config": {"screen_size": [112, 112], "max_steps": 3},
    "tasks": [f"minidesk/click_button/grid112/{seed}" for seed in range(8)],
}


@pytest.mark.parametrize(
    "env, runners, learners",
    [
        ("arpo-target", 0, 0),
        ("minidesk", 0, 0),
        ("minidesk", 1, 0),
        ("minidesk", 0, 1),
    ],
    ids=["target-local", "minidesk-local", "minidesk-remote-runner", "minidesk-remote-learner"],
)
def test_two_iterations(ray_cluster, target_policy_dir, env, runners, learners) -> None:
    overrides = {}
    if env == "minidesk":
        overrides = {"env_config": MINIDESK["env_config"], "tasks": MINIDESK["tasks"]}
    config = arpo_config(
        target_policy_dir, num_env_runners=runners, num_learners=learners, **overrides
    )
    if env == "minidesk":
        config = config.environment("minidesk", env_config=MINIDESK["env_config"])
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(2)]
    finally:
        algo.stop()
    for result in results:
        check_iteration(result)
    assert results[-1]["training_iteration"] == 2
    if env == "arpo-target":
        # the warm-started policy writes valid actions most of the time
        assert results[-1]["rollout/parse_error_rate"] < 0.5
    else:
        assert any(k.startswith("success/click_button/grid112") for k in results[-1])


def test_faulty_env_is_counted_not_fatal(ray_cluster, target_policy_dir) -> None:
    config = arpo_config(
        target_policy_dir, env_config={"fault": "raise", "fault_every": 2}, env_max_retries=1
    )
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(2)]
    finally:
        algo.stop()
    failures = sum(r["env_runners"]["rollout/env_failures"] for r in results)
    assert failures > 0
    assert all(r["training_iteration"] == i + 1 for i, r in enumerate(results))


def module_weights(algo) -> dict[str, torch.Tensor]:
    module = algo.learner_group._learner.module["default_policy"]
    return {k: v.detach().clone() for k, v in module.policy.model.state_dict().items()}


def train_and_save(config, path: Path, iterations: int = 3) -> dict:
    """Trains ``iterations`` iterations, saves to ``path``; returns what a restore must give back."""
    algo = config.build_algo()
    try:
        for _ in range(iterations):
            algo.train()
        algo.save_to_path(path)
        assert len(algo.replay) > 0, "the warm-started policy succeeds sometimes: replay fills"
        return {
            "weights": module_weights(algo),
            "replay": algo.replay.get_state(),
            "rng": algo._rng.bit_generator.state,
            "cursor": algo._task_cursor,
            "curation": algo.curator.get_state(),
        }
    finally:
        algo.stop()


def assert_restored(restored, saved: dict, iteration: int) -> None:
    assert restored.iteration == iteration
    weights = module_weights(restored)
    assert all(torch.equal(weights[k], saved["weights"][k]) for k in saved["weights"])
    assert restored.replay.get_state() == saved["replay"]
    assert restored._rng.bit_generator.state == saved["rng"]
    assert restored._task_cursor == saved["cursor"]
    assert restored.curator.get_state() == saved["curation"]
    optimizer = restored.learner_group._learner.get_optimizer()
    assert optimizer.state, "AdamW moments were restored"


def test_checkpoint_restores_weights_optimizer_replay_and_rng(
    ray_cluster, target_policy_dir, tmp_path
) -> None:
    from rllib_arpo.algorithm import ARPO

    config = arpo_config(target_policy_dir, lr=3e-3, task_order="curated")
    saved = train_and_save(config, tmp_path / "ckpt")
    # 3 iterations x 2 groups of 4: every task's recent success is tracked and checkpointed.
    groups = [g for task in saved["curation"]["tasks"].values() for g in task]
    assert len(groups) == 6 and all(episodes == 4 for _, episodes in groups)
    restored = ARPO.from_checkpoint(tmp_path / "ckpt")
    try:
        assert_restored(restored, saved, iteration=3)
        result = restored.train()  # and training goes on
        assert result["curation/unseen_tasks"] == 0.0
        assert any(key.startswith("curation/task/") for key in result)
    finally:
        restored.stop()


def test_restore_in_on_algorithm_init_sets_the_driver_state(
    ray_cluster, target_policy_dir, tmp_path
) -> None:
    """RLlib's way to start a new run from a checkpoint, and what `rllib train --restore` does:
    `restore_from_path` in an `on_algorithm_init` callback, which RLlib calls at the end of its
    own setup, inside `ARPO.setup`."""
    # 3 of the 2 target tasks per iteration: after 3 iterations the task cursor is 1, not 0
    config = arpo_config(target_policy_dir, lr=3e-3, tasks_per_iteration=3)
    saved = train_and_save(config, tmp_path / "ckpt")
    assert saved["cursor"] != 0
    checkpoint = str(tmp_path / "ckpt")
    restored = (
        config.copy()
        .debugging(seed=1)  # a fresh generator would differ from the saved one
        .callbacks(on_algorithm_init=lambda algorithm, **_: algorithm.restore_from_path(checkpoint))
        .build_algo()
    )
    try:
        assert_restored(restored, saved, iteration=3)
        assert restored.train()["training_iteration"] == 4
    finally:
        restored.stop()


KILL_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, hashlib
    os.environ["RAY_AUTH_MODE"] = "disabled"
    import ray
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 * 1024 * 1024,
             log_to_driver=False)
    from rllib_arpo.registration import register
    register()
    sys.path.insert(0, {tests_dir!r})
    from test_arpo_ray import arpo_config, module_weights
    from pathlib import Path
    out = Path({out!r})
    algo = arpo_config(Path({policy!r}), lr=3e-3).build_algo()
    for i in range(1, 100):
        algo.train()
        ckpt = out / f"ckpt_{{i}}"
        algo.save_to_path(ckpt)
        digest = hashlib.sha256()
        for name, tensor in sorted(module_weights(algo).items()):
            digest.update(name.encode()); digest.update(tensor.numpy().tobytes())
        manifest = {{"iteration": algo.iteration, "weights": digest.hexdigest(),
                     "replay": json.dumps(algo.replay.get_state(), default=repr, sort_keys=True)}}
        (out / f"manifest_{{i}}.json").write_text(json.dumps(manifest))
    """
)


def test_kill_9_then_resume_from_last_checkpoint(ray_cluster, target_policy_dir, tmp_path) -> None:
    import hashlib

    from rllib_arpo.algorithm import ARPO

    script = tmp_path / "train.py"
    script.write_text(
        KILL_SCRIPT.format(
            tests_dir=str(Path(__file__).parent), out=str(tmp_path), policy=str(target_policy_dir)
        )
    )
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 240
        while not (tmp_path / "manifest_2.json").exists():
            assert process.poll() is None, "training subprocess died on its own"
            assert time.time() < deadline, "no second checkpoint within 240 s"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # kill -9, mid-run (iteration 3 is under way)
        process.wait()
    manifests = sorted(tmp_path.glob("manifest_*.json"), key=lambda p: int(p.stem.split("_")[1]))
    last = manifests[-1]
    number = int(last.stem.split("_")[1])
    expected = json.loads(last.read_text())

    algo = ARPO.from_checkpoint(tmp_path / f"ckpt_{number}")
    try:
        digest = hashlib.sha256()
        for name, tensor in sorted(module_weights(algo).items()):
            digest.update(name.encode())
            digest.update(tensor.numpy().tobytes())
        assert algo.iteration == expected["iteration"] == number
        assert digest.hexdigest() == expected["weights"]
        replay = json.dumps(algo.replay.get_state(), default=repr, sort_keys=True)
        assert replay == expected["replay"]
        assert np.isfinite(algo.train()["learners"]["default_policy"]["loss/policy"])
    finally:
        algo.stop()


@pytest.mark.slow
def test_arpo_learns_the_target_task(ray_cluster, target_policy_dir) -> None:
    """The whole loop improves a policy: clicking inside the target goes from chance to most."""
    config = arpo_config(
        target_policy_dir,
        group_size=8,
        tasks_per_iteration=4,
        minibatch_size=32,
        lr=1e-4,
        drop_zero_advantage_groups=True,
    )
    algo = config.build_algo()
    try:
        success = [algo.train()["rollout/success_rate"] for _ in range(100)]
    finally:
        algo.stop()
    first, last = np.mean(success[:15]), np.mean(success[-15:])
    print(f"target success: first 15 iterations {first:.2f}, last 15 {last:.2f}")
    assert last > first + 0.25, (first, last)
    assert last > 0.7, (first, last)
