"""ARPOConfig: defaults, presets, validation messages that name the field, round trips."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from rllib_arpo.config import ARPOConfig


def test_defaults_are_the_papers_numbers() -> None:
    config = ARPOConfig()
    assert (config.group_size, config.max_steps_per_episode) == (8, 15)
    assert (config.clip_ratio_low, config.clip_ratio_high, config.dual_clip_ratio) == (
        0.2,
        0.3,
        3.0,
    )
    assert config.format_penalty_weight == 0.5
    assert (config.replay_capacity_per_task, config.replay_success_threshold) == (8, 0.1)
    assert (config.replay_trigger_std, config.replay_trigger_mean) == (0.05, 0.2)
    assert (config.lr, config.grad_clip, config.num_epochs) == (1e-6, 1.0, 1)
    assert config.kl_coeff == 0.0 and config.entropy_coeff == 0.0
    assert config.loss_aggregation == "seq-mean-token-mean"
    assert config.use_replay is True
    config.validate()


def test_presets() -> None:
    reference = ARPOConfig().arpo_reference()
    assert reference.tasks_per_iteration == 16 and reference.minibatch_size == 64
    assert reference.max_new_tokens == 8192 and reference.recompute_old_logp is True
    assert reference.drop_zero_advantage_groups is False and reference.policy_dtype == "bfloat16"
    grpo = ARPOConfig().arpo_reference().grpo()
    assert grpo.use_replay is False and grpo.tasks_per_iteration == 16


def test_arpo_is_the_same_call_as_training() -> None:
    config = ARPOConfig().arpo(group_size=4, use_replay=False, lr=3e-5)
    assert (config.group_size, config.use_replay, config.lr) == (4, False, 3e-5)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("group_size", 1, "group_size must be an int >= 2"),
        ("group_size", 2.5, "group_size must be an int >= 2"),
        ("clip_ratio_low", 1.5, "clip_ratio_low must be in (0, 1)"),
        ("clip_ratio_high", -0.1, "clip_ratio_high must be > 0"),
        ("dual_clip_ratio", 0.5, "dual_clip_ratio must be > 1 or None"),
        ("loss_aggregation", "mean", "loss_aggregation must be one of"),
        ("replay_priority_mode", "random", "replay_priority_mode must be one of"),
        ("replay_num_inject", 8, "replay_num_inject must be an int in [1, group_size)"),
        ("temperature", 0.0, "temperature must be > 0"),
        ("top_p", 1.5, "top_p must be in (0, 1]"),
        ("minibatch_unit", "episodes", "minibatch_unit must be one of"),
        ("quantization", "fp4", "quantization must be one of"),
        ("coordinate_convention", "percent", "coordinate_convention must be one of"),
        ("task_order", "shuffled", "task_order must be one of"),
        ("curation_window", 0, "curation_window must be an int >= 1"),
        ("curation_floor", 0.0, "curation_floor must be in (0, 1]"),
        ("max_pixels", 10, "need 1 <= min_pixels <= max_pixels"),
        ("use_replay", "yes", "use_replay must be True or False"),
        ("max_policy_lag", -1, "max_policy_lag must be an int >= 0"),
        ("max_policy_lag", 1, "set num_env_runners >= 1"),  # the default: no remote runners
    ],
)
def test_validate_names_the_bad_field(field: str, value: object, message: str) -> None:
    config = ARPOConfig().training(**{field: value})
    with pytest.raises(ValueError, match=re.escape(message)):
        config.validate()


def test_quantization_needs_lora() -> None:
    with pytest.raises(ValueError, match="set lora_rank >= 1"):
        ARPOConfig().training(quantization="nf4").validate()
    ARPOConfig().training(quantization="nf4", lora_rank=16).validate()


def test_round_trip_through_dict_keeps_arpo_fields() -> None:
    config = ARPOConfig().training(group_size=4, replay_priority_mode="surprise", lora_rank=8)
    restored = ARPOConfig.from_dict(config.to_dict())
    assert (restored.group_size, restored.replay_priority_mode, restored.lora_rank) == (
        4,
        "surprise",
        8,
    )


def test_policy_model_config_matches_the_module() -> None:
    from rllib_arpo.module import VLMModuleConfig

    config = ARPOConfig().training(policy_path="/models/x", lora_rank=8, policy_dtype="bfloat16")
    module_config = VLMModuleConfig.from_dict(config.policy_model_config())
    assert module_config.checkpoint_path == "/models/x"
    assert module_config.lora == {"r": 8, "alpha": 32}
    assert module_config.dtype == "bfloat16"


def test_arpo_is_registered_on_import() -> None:
    # A fresh interpreter: registrations made before a ray.init/shutdown cycle do not outlive it.
    code = (
        "from ray.tune.registry import get_trainable_cls\n"
        "from rllib_arpo.algorithm import ARPO\n"
        "assert get_trainable_cls('ARPO') is ARPO\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_task_lists_come_as_lists_or_osworld_files(tmp_path) -> None:
    from rllib_arpo.rollout.tasks import resolve_task_list as load_task_list

    assert load_task_list(["a", {"id": "b"}]) == ["a", {"id": "b"}]
    path = tmp_path / "tasks.json"
    path.write_text('{"chrome": ["x", "y"], "gimp": ["z"]}')
    assert load_task_list(str(path)) == ["x", "y", "z"]
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"config.tasks: task list .*tasks.json is not valid JSON"):
        load_task_list(str(path))
