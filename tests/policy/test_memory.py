"""The memory estimate: exact on weights, the documented figures for UI-TARS-1.5-7B."""

from __future__ import annotations

import pytest
import torch

from rllib_arpo.policy.memory import GIB, UITARS_15_7B_SHAPE, estimate_memory


def test_weight_bytes_of_the_tiny_model_are_close(policy):
    estimate = estimate_memory(policy.model.config, n_screenshots=1, dtype=torch.float32)
    actual = sum(p.numel() * p.element_size() for p in policy.model.parameters())
    assert estimate.weights == pytest.approx(actual, rel=0.05)


def test_uitars_7b_figures():
    full = estimate_memory(UITARS_15_7B_SHAPE, n_screenshots=1)
    assert full.weights / GIB == pytest.approx(15.4, abs=0.2)  # bf16 weights
    assert (full.weights + full.gradients_and_optimizer) / GIB == pytest.approx(93, rel=0.03)
    nf4 = estimate_memory(UITARS_15_7B_SHAPE, n_screenshots=1, quantization="nf4", lora_r=16)
    assert 6.0 <= nf4.weights / GIB <= 6.8
    assert 35e6 < nf4.gradients_and_optimizer / (2 + 8) < 45e6  # about 40M LoRA parameters


def test_levers_reduce_memory():
    base = {"n_screenshots": 15, "quantization": "nf4", "lora_r": 16}
    long = estimate_memory(UITARS_15_7B_SHAPE, **base, activation_checkpointing=False)
    checkpointed = estimate_memory(UITARS_15_7B_SHAPE, **base, activation_checkpointing=True)
    small = estimate_memory(UITARS_15_7B_SHAPE, **base, max_pixels=1280 * 28 * 28)
    assert checkpointed.decoder_activations < long.decoder_activations / 5
    assert small.tokens < checkpointed.tokens and small.total < checkpointed.total
    assert (
        estimate_memory(UITARS_15_7B_SHAPE, n_screenshots=5).total
        < estimate_memory(UITARS_15_7B_SHAPE, n_screenshots=15).total
    )
