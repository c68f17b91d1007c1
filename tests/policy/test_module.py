"""VLMTorchRLModule: built in setup() from model_config; forwards; torch-tensor (bf16-safe) state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("ray.rllib")

from ray.rllib.core.columns import Columns

from rllib_arpo.module import (
    ENTROPY,
    FINISHED,
    LOGP,
    LOSS_MASK,
    STATE_KEY,
    TOKEN_IDS,
    TOKEN_LOGP,
    TRAJECTORIES,
    VLMModuleConfig,
    vlm_module_spec,
)


def _obs(screenshot, n=3):
    return [
        {"instruction": f"Click button {i}.", "screenshots": [screenshot(112, 56 * (i + 1), i)]}
        for i in range(n)
    ]


def test_exploration_then_train_matches(tiny_dir, screenshot):
    module = vlm_module_spec(
        {
            "checkpoint_path": str(tiny_dir),
            "exploration_sampling": {"max_new_tokens": 10},
            "seed": 0,
        }
    ).build()
    out = module.forward_exploration({Columns.OBS: _obs(screenshot)})
    actions = out[Columns.ACTIONS]
    assert (
        isinstance(actions, np.ndarray) and actions.dtype == object and isinstance(actions[0], str)
    )
    assert out[TOKEN_IDS][0].dtype == np.int32 and out[TOKEN_LOGP][0].dtype == np.float32
    assert np.allclose(out[Columns.ACTION_LOGP], [lp.sum() for lp in out[TOKEN_LOGP]])
    assert out[FINISHED].dtype == bool

    trajectories = [
        {
            "instruction": o["instruction"],
            "screenshots": o["screenshots"],
            "responses": [ids.tolist()],
        }
        for o, ids in zip(_obs(screenshot), out[TOKEN_IDS])
    ]
    train = module.forward_train({TRAJECTORIES: trajectories})
    assert (
        train[LOGP].requires_grad
        and train[LOGP].shape == train[ENTROPY].shape == train[LOSS_MASK].shape
    )
    for row, logp in enumerate(out[TOKEN_LOGP]):
        n = len(logp)
        assert train[LOSS_MASK][row].sum() == n
        assert torch.allclose(train[LOGP][row, :n].detach(), torch.from_numpy(logp), atol=1e-5)
    old = torch.zeros_like(train[LOGP])
    for row, logp in enumerate(out[TOKEN_LOGP]):
        old[row, : len(logp)] = torch.from_numpy(logp)
    ratio = torch.where(
        train[LOSS_MASK], torch.exp(train[LOGP].detach() - old), torch.ones_like(old)
    )
    assert torch.allclose(ratio, torch.ones_like(ratio), atol=1e-5)


def test_inference_is_greedy_and_deterministic(tiny_dir, screenshot):
    module = vlm_module_spec(
        {
            "checkpoint_path": str(tiny_dir),
            "inference_sampling": {"temperature": 0.0, "max_new_tokens": 6},
        }
    ).build()
    a = module.forward_inference({Columns.OBS: _obs(screenshot, 2)})
    b = module.forward_inference({Columns.OBS: _obs(screenshot, 2)})
    assert [x.tolist() for x in a[TOKEN_IDS]] == [x.tolist() for x in b[TOKEN_IDS]]


def test_bf16_state_passes_as_torch_tensors(tiny_dir, screenshot):
    config = {"checkpoint_path": str(tiny_dir), "dtype": "bfloat16"}
    source, target = vlm_module_spec(config).build(), vlm_module_spec(config).build()
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.01)
    state = source.get_state()
    tensors = list(state[STATE_KEY].values())
    assert all(isinstance(t, torch.Tensor) for t in tensors)
    assert any(t.dtype == torch.bfloat16 for t in tensors)
    target.set_state(state)
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        assert torch.equal(a, b), name


def test_lora_module_syncs_the_adapter_only(tiny_dir):
    module = vlm_module_spec(
        {"checkpoint_path": str(tiny_dir), "lora": {"r": 4, "alpha": 8}}
    ).build()
    state = module.get_state()[STATE_KEY]
    assert state and all("lora_" in k for k in state)
    full = sum(p.numel() * p.element_size() for p in module.parameters())
    assert module.sync_bytes() * 10 < full


def test_config_errors(tiny_dir):
    with pytest.raises(ValueError, match="unknown VLMTorchRLModule model_config keys"):
        VLMModuleConfig.from_dict({"checkpoint_path": str(tiny_dir), "temprature": 1.0})
    with pytest.raises(ValueError, match="checkpoint_path"):
        VLMModuleConfig.from_dict({})
