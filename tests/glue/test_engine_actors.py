"""Engine actors shared by CPU env runners: two runners, one engine, weight sync, versions.

The hf case runs in the training venv; the vllm case in the vLLM venv (``-m vllm``), through
the real vLLM engine on CPU.
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def engine_config(policy_dir, engine: str, weight_transfer: str = "object_store"):
    from rllib_arpo.config import ARPOConfig

    return (
        ARPOConfig()
        .environment("arpo-target")
        .training(
            group_size=4,
            tasks_per_iteration=4,
            max_steps_per_episode=3,
            max_new_tokens=40,
            policy_path=str(policy_dir),
            minibatch_size=64,
            lr=1e-3,
            drop_zero_advantage_groups=False,
            env_step_timeout_s=30.0,
            engine=engine,
            num_engines=1,
            num_cpus_per_engine=1,
            weight_transfer=weight_transfer,
        )
        .env_runners(num_env_runners=2, num_cpus_per_env_runner=1)
        .learners(num_learners=0)
        .debugging(seed=0)
    )


VLLM_NAMES = [
    (r"^model\.language_model\.", "language_model.model."),
    (r"^model\.visual\.", "visual."),
    (r"^lm_head\.", "language_model.lm_head."),
    (r"\.(q|k|v)_proj\.", ".qkv_proj."),
    (r"\.mlp\.(gate|up)_proj\.", ".mlp.gate_up_proj."),
]
"""transformers' Qwen2.5-VL parameter names -> vLLM's (fused q/k/v and gate/up)."""


def expected_sums(state: dict, engine: str) -> dict[str, float]:
    """Per engine parameter, the float64 sum of the learner tensors it is made of."""
    sums: dict[str, float] = {}
    for name, tensor in state.items():
        if engine == "vllm":
            for pattern, replacement in VLLM_NAMES:
                name = re.sub(pattern, replacement, name)
        sums[name] = sums.get(name, 0.0) + float(tensor.double().sum())
    return sums


def learner_state(algo) -> dict:
    from rllib_arpo.algorithm import learner_policy_state

    return learner_policy_state(algo.learner_group)


def assert_engine_serves_the_learners_weights(algo, engine: str) -> None:
    """After a sync, the engine's parameters sum to the learner's (each fused vLLM parameter
    to the sum of its parts)."""
    import ray

    own = ray.get(algo.engines.handles[0].parameter_sums.remote())
    want = expected_sums(learner_state(algo), engine)
    checked = [name for name in own if name in want]
    assert len(checked) >= (len(want) if engine == "hf" else 10)
    for name in checked:
        assert own[name] == pytest.approx(want[name], rel=1e-6, abs=1e-6), name


@pytest.mark.parametrize(
    "engine, transfer",
    [
        ("hf", "object_store"),
        # Broadcast from the learner. vLLM's object-store path: tests/glue/test_async.py.
        pytest.param("vllm", "gloo", marks=pytest.mark.vllm),
    ],
)
def test_two_cpu_runners_share_one_engine_that_follows_the_learner(
    engine_cluster, target_policy_dir, engine, transfer
) -> None:
    algo = engine_config(target_policy_dir, engine, transfer).build_algo()
    try:
        # Env runners hold no weights: no module, no checkpoint component.
        assert algo.env_runner_group.foreach_env_runner(
            lambda r: (r.module is None, r.get_checkpointable_components()),
            local_env_runner=False,
        ) == [(True, []), (True, [])]
        shared = 0
        for iteration in range(2):
            result = algo.train()
            # Every step of every trajectory was sampled by the version served this iteration.
            assert result["rollout/policy_version_min"] == iteration
            assert result["rollout/policy_version_max"] == iteration
            assert result["rollout/mixed_version_trajectories"] == 0
            assert result["rollout/num_trajectories"] == 16
            assert result["sync/weight_version"] == iteration + 1
            assert result["sync/bytes"] > 0
            assert result["engine/batches"] >= 1
            shared += result["engine/shared_batches"]
            assert_engine_serves_the_learners_weights(algo, engine)
            if engine != "hf":
                assert result["mismatch/mean_abs_delta_logp"] < 1e-2  # recomputed on the learner
        assert shared >= 1  # the engine batched requests of both runners together
    finally:
        algo.stop()


def test_the_runners_are_cpu_only_and_the_engine_bundle_is_requested() -> None:
    from rllib_arpo.algorithm import ARPO

    config = engine_config("tiny", "hf").training(num_engines=2, num_gpus_per_engine=1)
    bundles = ARPO.default_resource_request(config).bundles
    assert bundles[-2:] == [{"CPU": 1.0, "GPU": 1.0}, {"CPU": 1.0, "GPU": 1.0}]
    assert bundles[1:3] == [{"CPU": 1.0}, {"CPU": 1.0}]  # the two env runners: no GPU


@pytest.mark.parametrize(
    "engine, transfer",
    [("hf", "object_store"), pytest.param("vllm", "gloo", marks=pytest.mark.vllm)],
)
def test_a_restored_run_serves_the_restored_weights_under_their_version(
    engine_cluster, target_policy_dir, tmp_path, engine, transfer
) -> None:
    import ray

    config = engine_config(target_policy_dir, engine, transfer)
    algo = config.build_algo()
    try:
        algo.train()
        saved = expected_sums(learner_state(algo), engine)
        algo.save_to_path(str(tmp_path / "checkpoint"))
    finally:
        algo.stop()
    restored = config.build_algo()
    try:
        restored.restore_from_path(str(tmp_path / "checkpoint"))
        assert restored.engines.version == 1
        own = ray.get(restored.engines.handles[0].parameter_sums.remote())
        checked = [name for name in own if name in saved]
        assert len(checked) >= (len(saved) if engine == "hf" else 10)
        for name in checked:
            assert own[name] == pytest.approx(saved[name], rel=1e-6, abs=1e-6), name
        result = restored.train()
        assert result["rollout/policy_version_min"] == 1  # sampled by the restored weights
        assert result["sync/weight_version"] == 2
    finally:
        restored.stop()
