"""CUDA code paths: bf16 default, attention choice, exact fp32 log-probs, nf4 + LoRA step.

Skipped without a CUDA device; run with ``pytest -m gpu tests/policy``.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

from rllib_arpo.policy import (
    GenerationRequest,
    LoraSpec,
    SamplingParams,
    TrajectoryInput,
    load_policy,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _requests(screenshot):
    sizes = [(112, 112), (224, 168), (84, 308)]
    return [
        GenerationRequest(
            f"Task {i}.", [screenshot(w, h, i)], sampling=SamplingParams(max_new_tokens=16)
        )
        for i, (w, h) in enumerate(sizes)
    ]


def _max_diff(policy, requests, results):
    trajectories = [
        TrajectoryInput(q.instruction, q.screenshots, [r.token_ids])
        for q, r in zip(requests, results)
    ]
    outs = policy.trajectory_logprobs(trajectories)
    return max(
        (o.flat_logp().detach().float().cpu() - torch.tensor(r.logprobs)).abs().max().item()
        for o, r in zip(outs, results)
    )


def test_cuda_defaults_bf16_and_attention_choice(tiny_dir):
    policy = load_policy(tiny_dir, device="cuda")
    assert policy.dtype == torch.bfloat16
    assert next(policy.model.parameters()).device.type == "cuda"
    expected = "flash_attention_2" if importlib.util.find_spec("flash_attn") else "sdpa"
    assert policy.model.config._attn_implementation == expected


def test_cuda_fp32_logprobs_match(tiny_dir, screenshot):
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        policy = load_policy(
            tiny_dir, device="cuda", dtype=torch.float32, attn_implementation="sdpa"
        )
        requests = _requests(screenshot)
        results = policy.generate(requests, seed=0)
        assert _max_diff(policy, requests, results) < 1e-4
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


def test_cuda_bf16_logprobs_close_and_ratio_near_one(tiny_dir, screenshot):
    policy = load_policy(tiny_dir, device="cuda", dtype=torch.bfloat16)
    requests = _requests(screenshot)
    results = policy.generate(requests, seed=1)
    assert _max_diff(policy, requests, results) < 0.1  # bf16: prefill/decode kernels differ


def test_cuda_nf4_lora_one_step_changes_only_adapters(tiny_dir, screenshot):
    policy = load_policy(tiny_dir, device="cuda", quantization="nf4", lora=LoraSpec(r=4))
    (request,) = _requests(screenshot)[:1]
    (result,) = policy.generate([request], seed=2)
    before = {k: v.detach().clone() for k, v in policy.model.state_dict().items()}
    optimizer = torch.optim.AdamW(policy.trainable_parameters(), lr=1e-2)
    (out,) = policy.trajectory_logprobs(
        [TrajectoryInput(request.instruction, request.screenshots, [result.token_ids])]
    )
    (-out.flat_logp().mean()).backward()
    optimizer.step()
    after = policy.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all("lora_" in k for k in changed)
