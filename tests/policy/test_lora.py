"""4-bit + LoRA trains one step on CPU (offline), only adapters change; adapter-only sync; export."""

from __future__ import annotations

import sys

import pytest
import torch

from rllib_arpo.policy import (
    GenerationRequest,
    LoraSpec,
    SamplingParams,
    TrajectoryInput,
    load_policy,
)
from rllib_arpo.policy.lora import lora_parameter_count

RANK = 4


def _one_step(pol, screenshot) -> dict[str, torch.Tensor]:
    request = GenerationRequest(
        "Click OK.", [screenshot(112, 112, 1)], sampling=SamplingParams(max_new_tokens=8)
    )
    (result,) = pol.generate([request], seed=0)
    before = {k: v.detach().clone() for k, v in pol.model.state_dict().items()}
    optimizer = torch.optim.AdamW(pol.trainable_parameters(), lr=1e-2)
    (out,) = pol.trajectory_logprobs(
        [TrajectoryInput(request.instruction, request.screenshots, [result.token_ids])]
    )
    assert (out.logp[0].detach() - torch.tensor(result.logprobs)).abs().max() < 1e-5
    loss = -out.flat_logp().mean()
    loss.backward()
    optimizer.step()
    return before


def test_nf4_lora_trains_one_step_on_cpu_offline(tiny_dir, tmp_path, screenshot):
    pol = load_policy(tiny_dir, device="cpu", quantization="nf4", lora=LoraSpec(r=RANK, alpha=8))
    import bitsandbytes as bnb

    assert "kernels" not in sys.modules or sys.modules["kernels"] is not None
    four_bit = [m for m in pol.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(four_bit) == 7 * pol.model.config.text_config.num_hidden_layers  # LM linears only
    assert all(not m.support_avx512bf16_for_cpu for m in four_bit)
    trainable = {n for n, p in pol.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)

    before = _one_step(pol, screenshot)
    after = pol.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "the step changed nothing"
    assert all("lora_" in k for k in changed), sorted(
        changed - {k for k in changed if "lora_" in k}
    )[:5]
    # B starts at zero, so after one step every B has moved.
    assert {k for k in before if "lora_B" in k} <= changed

    # Export merges the adapter into a full-precision copy of the base: a plain checkpoint.
    from transformers import Qwen2_5_VLForConditionalGeneration

    plain = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        pol.export(tmp_path / "merged"), local_files_only=True
    )
    assert not any("lora_" in n for n, _ in plain.named_parameters())
    assert all(p.dtype == torch.float32 for p in plain.parameters())


def test_fresh_adapter_is_the_base_model(policy, tiny_dir, screenshot):
    lora_policy = load_policy(tiny_dir, device="cpu", lora=LoraSpec(r=RANK))
    request = GenerationRequest(
        "Click OK.",
        [screenshot(112, 112, 2)],
        sampling=SamplingParams(temperature=0.0, max_new_tokens=8),
    )
    assert lora_policy.generate([request])[0].token_ids == policy.generate([request])[0].token_ids


def test_adapter_only_sync_is_smaller_by_the_expected_factor(tiny_dir, screenshot):
    pol = load_policy(tiny_dir, device="cpu", lora=LoraSpec(r=RANK))
    adapter = pol.get_state()
    full = pol.get_state(adapter_only=False)
    assert set(adapter) <= set(full) and all("lora_" in k for k in adapter)
    assert all(isinstance(v, torch.Tensor) for v in adapter.values())

    text = pol.model.config.text_config
    h, inter, layers = text.hidden_size, text.intermediate_size, text.num_hidden_layers
    kv = text.num_key_value_heads * (h // text.num_attention_heads)
    # r x (in + out) for q, k, v, o, gate, up, down in every decoder layer.
    expected_lora = (
        layers * RANK * ((h + h) + 2 * (h + kv) + (h + h) + 2 * (h + inter) + (inter + h))
    )
    assert lora_parameter_count(pol.model) == expected_lora
    base_params = sum(p.numel() for n, p in pol.model.named_parameters() if "lora_" not in n)

    def nbytes(state):
        return sum(t.numel() * t.element_size() for t in state.values())

    factor = nbytes(full) / nbytes(adapter)
    assert factor == pytest.approx((base_params + expected_lora) / expected_lora, rel=1e-9)
    assert factor > 10

    # The adapter is enough to bring a second worker in sync.
    for p in pol.trainable_parameters():
        p.data.normal_(0, 0.05)
    worker = load_policy(tiny_dir, device="cpu", lora=LoraSpec(r=RANK))
    worker.set_state(pol.get_state())
    request = GenerationRequest(
        "Click OK.",
        [screenshot(112, 112, 3)],
        sampling=SamplingParams(temperature=0.0, max_new_tokens=6),
    )
    a, b = pol.generate([request])[0], worker.generate([request])[0]
    assert a.token_ids == b.token_ids and a.logprobs == pytest.approx(b.logprobs, abs=1e-6)
    with pytest.raises(KeyError):
        worker.set_state({"not.a.key": torch.zeros(1)})


def test_export_merges_lora_into_a_standard_checkpoint(tiny_dir, tmp_path, screenshot):
    from transformers import Qwen2_5_VLForConditionalGeneration

    pol = load_policy(tiny_dir, device="cpu", lora=LoraSpec(r=RANK))
    for p in pol.trainable_parameters():
        p.data.normal_(0, 0.05)
    out = pol.export(tmp_path / "export")
    plain = Qwen2_5_VLForConditionalGeneration.from_pretrained(out, local_files_only=True)
    assert not any("lora_" in n for n, _ in plain.named_parameters())
    exported = load_policy(out, device="cpu")
    request = GenerationRequest(
        "Click OK.", [screenshot(112, 112, 4)], sampling=SamplingParams(max_new_tokens=8)
    )
    (result,) = pol.generate([request], seed=1)
    trajectory = [TrajectoryInput(request.instruction, request.screenshots, [result.token_ids])]
    (a,) = exported.trajectory_logprobs(trajectory)
    assert (a.flat_logp().detach() - torch.tensor(result.logprobs)).abs().max() < 1e-5


def test_export_full_model(policy, tiny_dir, tmp_path):
    out = policy.export(tmp_path / "full")
    for name in ("config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json"):
        assert (out / name).is_file()
    again = load_policy(out, device="cpu")
    for (name, a), (_, b) in zip(
        again.model.state_dict().items(), policy.model.state_dict().items()
    ):
        assert torch.equal(a, b), name
    # The pixel bounds it ran with travel along.
    small = load_policy(tiny_dir, device="cpu", max_pixels=112 * 112)
    exported = load_policy(small.export(tmp_path / "small"), device="cpu")
    assert exported.processor.max_pixels == 112 * 112
