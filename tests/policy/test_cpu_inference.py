"""bf16 CPU decoding from oneDNN-packed weights: same answers as the plain weights, kept fresh."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rllib_arpo.policy import GenerationRequest, SamplingParams
from rllib_arpo.policy.cpu_inference import packing_available

pytestmark = pytest.mark.skipif(not packing_available(), reason="PyTorch built without oneDNN")


def bf16_policy(path):
    from rllib_arpo.policy import load_policy

    return load_policy(path, device="cpu", dtype=torch.bfloat16)


def greedy(policy, screenshot, seed: int = 0):
    request = GenerationRequest(
        "Click OK.",
        [screenshot(112, 112, seed)],
        sampling=SamplingParams(temperature=0.0, max_new_tokens=16),
    )
    return policy.generate([request, request])


def test_packed_decoding_answers_like_the_plain_weights(tiny_dir, screenshot) -> None:
    plain, packed = bf16_policy(tiny_dir), bf16_policy(tiny_dir)
    layers = packed.enable_packed_decode()
    text_layers = packed.model.config.text_config.num_hidden_layers
    assert layers == 7 * text_layers + 1  # q k v o gate up down per layer, and the head
    for a, b in zip(greedy(plain, screenshot), greedy(packed, screenshot)):
        assert a.token_ids == b.token_ids
        assert np.allclose(a.logprobs, b.logprobs, atol=2e-2)  # bf16 rounding at most


def test_new_weights_are_repacked(tiny_dir, screenshot) -> None:
    packed, other = bf16_policy(tiny_dir), bf16_policy(tiny_dir)
    packed.enable_packed_decode()
    with torch.no_grad():  # a different policy: every language-model weight scaled
        for name, tensor in other.model.named_parameters():
            if "visual" not in name and tensor.ndim == 2:
                tensor.mul_(1.5)
    packed.set_state(other.get_state())
    for a, b in zip(greedy(other, screenshot, 3), greedy(packed, screenshot, 3)):
        assert np.allclose(a.logprobs, b.logprobs, atol=2e-2)


def test_fp32_and_training_passes_use_the_plain_weights(tiny_dir) -> None:
    from rllib_arpo.policy import load_policy

    assert load_policy(tiny_dir, device="cpu", dtype=torch.float32).enable_packed_decode() == 0
    packed = bf16_policy(tiny_dir)
    packed.enable_packed_decode()
    head = packed.model.lm_head
    x = torch.randn(1, head.in_features, dtype=torch.bfloat16, requires_grad=True)
    head(x).float().sum().backward()  # with grad enabled: the plain weight, differentiable
    assert x.grad is not None


def test_freed_memory_is_kept_for_reuse_where_glibc_allows() -> None:
    import platform

    from rllib_arpo.policy.cpu_inference import reuse_freed_memory

    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert reuse_freed_memory() is glibc
