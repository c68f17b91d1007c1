"""The hf engine and the engine interface: versions, weight updates, batching, checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rllib_arpo.policy.generate import SamplingParams
from rllib_arpo.policy.load import load_policy
from rllib_arpo.rollout.engines import EngineSettings, build_engine
from rllib_arpo.rollout.engines.hf import HFEngine
from rllib_arpo.rollout.generation import TurnRequest, WeightUpdate


def screen(seed: int, width: int = 200, height: int = 150) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def requests(n: int) -> list[TurnRequest]:
    return [TurnRequest("click ok", [screen(i)], []) for i in range(n)]


def test_responses_carry_the_version_and_updates_replace_the_weights(tiny_pair) -> None:
    seed0, seed1 = tiny_pair
    engine = build_engine(
        EngineSettings(
            kind="hf", checkpoint_path=str(seed0), sampling=SamplingParams(max_new_tokens=8), seed=0
        )
    )
    assert isinstance(engine, HFEngine) and engine.weight_version == 0
    assert {r.weight_version for r in engine.generate(requests(3))} == {0}

    target = load_policy(seed1).get_state()
    update = WeightUpdate(3, target)
    assert update.nbytes() == sum(t.numel() * t.element_size() for t in target.values())
    engine.update_weights(update)
    own = engine.policy.model.state_dict()
    assert all(torch.equal(own[k], v) for k, v in target.items())
    assert {r.weight_version for r in engine.generate(requests(2))} == {3}
    with pytest.raises(ValueError, match="older than the version served"):
        engine.update_weights(WeightUpdate(2, target))


def test_max_batch_splits_generation_calls(tiny_pair) -> None:
    policy = load_policy(tiny_pair[0])
    calls = []
    original = policy.generate

    def spy(batch, **kwargs):
        calls.append(len(batch))
        return original(batch, **kwargs)

    policy.generate = spy
    engine = HFEngine(policy, SamplingParams(max_new_tokens=4), max_batch=2)
    out = engine.generate(requests(5))
    assert len(out) == 5 and calls == [2, 2, 1]


def test_tiny_checkpoints_name_the_standard_processor(tiny_pair) -> None:
    # vLLM and transformers' Auto classes build the processor by this name.
    for name in ("processor_config.json", "tokenizer_config.json", "preprocessor_config.json"):
        settings = json.loads((tiny_pair[0] / name).read_text())
        assert settings.get("processor_class", "Qwen2_5_VLProcessor") == "Qwen2_5_VLProcessor"


def test_the_committed_warm_start_names_the_standard_processor() -> None:
    from rllib_arpo.policy.paths import WARMSTART_POLICY, resolve_policy_path

    root = resolve_policy_path(WARMSTART_POLICY)
    text = " ".join(path.read_text() for path in Path(root).glob("*.json"))
    assert "UITarsProcessor" not in text


def test_settings_from_the_config_match_the_learners() -> None:
    from rllib_arpo.config import ARPOConfig

    config = ARPOConfig().training(
        engine="hf", num_engines=2, temperature=0.7, max_new_tokens=33, max_pixels=200_000
    )
    settings = config.engine_settings()
    assert settings.sampling == SamplingParams(temperature=0.7, max_new_tokens=33)
    assert settings.max_pixels == 200_000 and settings.kind == "hf"
    assert settings.checkpoint_path == config.policy_model_config()["checkpoint_path"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"engine": "vllm"}, "num_engines >= 1"),
        ({"engine": "openai"}, "cannot follow training"),
        ({"engine": "sglang"}, "engine"),
        ({"tis_cap": 0}, "tis_cap"),
        ({"num_engines": -1}, "num_engines"),
        ({"weight_transfer": "rdma"}, "weight_transfer"),
        ({"weight_transfer": "gloo"}, "engine='vllm', num_engines >= 1"),  # hf engine
        (
            {"weight_transfer": "gloo", "engine": "vllm", "num_engines": 1, "lora_rank": 8},
            "no LoRA",
        ),
        (
            {"weight_transfer": "nccl", "engine": "vllm", "num_engines": 1},  # CPU engines
            "on CPUs use 'gloo'",
        ),
    ],
)
def test_bad_engine_settings_are_refused_by_name(overrides, message) -> None:
    from rllib_arpo.config import ARPOConfig

    problem = ARPOConfig().training(**overrides).find_problem()
    assert problem is not None and message in problem


def test_a_broadcast_transfer_between_gpus_is_accepted_and_reaches_the_engines() -> None:
    from rllib_arpo.config import ARPOConfig

    config = (
        ARPOConfig()
        .training(engine="vllm", num_engines=2, num_gpus_per_engine=1, weight_transfer="nccl")
        .learners(num_learners=1, num_gpus_per_learner=1)
    )
    assert config.find_problem() is None
    assert config.engine_settings().weight_transfer == "nccl"


def test_weight_update_bytes_count_bf16_as_two() -> None:
    update = WeightUpdate(1, {"a": torch.zeros(3, 4, dtype=torch.bfloat16), "b": torch.zeros(2)})
    assert update.nbytes() == 3 * 4 * 2 + 2 * 4
