"""load_policy: real layouts load; bad paths and wrong checkpoints give one clear error."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from rllib_arpo.policy import LoraSpec, PolicyLoadError, QuantizationRefused, load_policy
from rllib_arpo.policy.load import check_checkpoint_dir


@pytest.fixture
def broken(tiny_dir, tmp_path):
    """``broken(*remove, config=None)``: a copy of the tiny checkpoint with files removed/replaced."""

    def make(*remove: str, config: dict | None = None):
        target = tmp_path / "ckpt"
        shutil.copytree(tiny_dir, target)
        for name in remove:
            (target / name).unlink()
        if config is not None:
            (target / "config.json").write_text(json.dumps(config))
        return target

    return make


def _error(path) -> PolicyLoadError:
    with pytest.raises(PolicyLoadError) as info:
        load_policy(path, device="cpu")
    assert str(path) in str(info.value)
    return info.value


def test_missing_path(tmp_path):
    error = _error(tmp_path / "nope")
    assert "does not exist" in str(error)


def test_path_is_a_file(tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"")
    assert "not a directory" in str(_error(target))


def test_empty_directory_lists_everything_missing(tmp_path):
    error = _error(tmp_path)
    text = str(error)
    assert "config.json is missing" in text
    assert "no weights" in text
    assert "tokenizer files are missing" in text
    assert "image processor settings are missing" in text
    assert len(error.problems) == 4


def test_other_architecture(broken):
    llama = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64}
    error = _error(broken(config=llama))
    assert "model_type 'llama'" in str(error) and "LlamaForCausalLM" in str(error)


def test_missing_processor_files(broken):
    error = _error(broken("preprocessor_config.json", "processor_config.json"))
    assert error.problems == [
        (
            "image processor settings are missing (preprocessor_config.json, or "
            "processor_config.json with an 'image_processor' entry)"
        )
    ]


def test_missing_tokenizer(tiny_dir, tmp_path):
    target = tmp_path / "no-tok"
    shutil.copytree(tiny_dir, target)
    (target / "tokenizer.json").unlink()
    assert "tokenizer files are missing" in str(_error(target))


def test_missing_weights_and_shards(tiny_dir, tmp_path):
    target = tmp_path / "no-weights"
    shutil.copytree(tiny_dir, target)
    (target / "model.safetensors").unlink()
    assert "no weights" in str(_error(target))
    index = {"metadata": {}, "weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}}
    (target / "model.safetensors.index.json").write_text(json.dumps(index))
    assert "model-00001-of-00002.safetensors" in str(_error(target))


def test_corrupt_weights(broken):
    target = broken()
    (target / "model.safetensors").write_bytes(b"not a safetensors file")
    assert "the weights do not load" in str(_error(target))


def test_old_flat_config_layout_loads(tiny_dir, tmp_path, policy):
    """The real UI-TARS-1.5 config.json keeps the text settings at the top level."""
    target = tmp_path / "flat"
    shutil.copytree(tiny_dir, target)
    config = json.loads((target / "config.json").read_text())
    text = config.pop("text_config")
    flat = {**{k: v for k, v in text.items() if k != "model_type"}, **config}
    rope = flat.pop("rope_parameters")
    flat["rope_theta"] = rope["rope_theta"]
    flat["rope_scaling"] = {"type": "mrope", "mrope_section": rope["mrope_section"]}
    (target / "config.json").write_text(json.dumps(flat))
    loaded = load_policy(target, device="cpu")
    assert (
        loaded.model.config.text_config.hidden_size == policy.model.config.text_config.hidden_size
    )
    assert loaded.model.config.text_config.rope_parameters["mrope_section"] == [4, 6, 6]
    for (name, a), (_, b) in zip(
        loaded.model.state_dict().items(), policy.model.state_dict().items()
    ):
        assert torch.equal(a, b), name


def test_check_checkpoint_dir_returns_config(tiny_dir):
    assert check_checkpoint_dir(tiny_dir)["model_type"] == "qwen2_5_vl"


def test_int8_on_cpu_is_refused(tiny_dir):
    with pytest.raises(QuantizationRefused, match="13x slower"):
        load_policy(tiny_dir, device="cpu", quantization="int8")


def test_bad_settings(tiny_dir):
    with pytest.raises(ValueError, match="quantization must be one of"):
        load_policy(tiny_dir, device="cpu", quantization="fp8")
    with pytest.raises(ValueError, match="needs a CUDA device"):
        load_policy(tiny_dir, device="cpu", attn_implementation="flash_attention_2")
    with pytest.raises(ValueError, match="LoraSpec.r"):
        LoraSpec(r=0)


def test_pixel_bounds_override(tiny_dir):
    loaded = load_policy(tiny_dir, device="cpu", max_pixels=112 * 112)
    assert loaded.processor.max_pixels == 112 * 112
    assert loaded.image_token_count(1920, 1080) <= 16
    space = loaded.coordinate_space(1920, 1080)
    assert space.resized_width * space.resized_height <= 112 * 112


def test_qwen2_vl_checkpoint_loads_and_matches(tmp_path, screenshot):
    """UI-TARS v1 is Qwen2-VL: same loader, same exact log-probs."""
    from rllib_arpo.policy import GenerationRequest, SamplingParams, TrajectoryInput
    from rllib_arpo.policy.tiny import write_tiny_checkpoint

    path = write_tiny_checkpoint(tmp_path / "qwen2vl", size="0.2m", architecture="qwen2_vl")
    loaded = load_policy(path, device="cpu")
    assert type(loaded.model).__name__ == "Qwen2VLForConditionalGeneration"
    requests = [
        GenerationRequest(
            "Click OK.", [screenshot(112, 112, 1)], sampling=SamplingParams(max_new_tokens=8)
        ),
        GenerationRequest(
            "Click OK.", [screenshot(224, 84, 2)], sampling=SamplingParams(max_new_tokens=8)
        ),
    ]
    results = loaded.generate(requests, seed=0)
    outs = loaded.trajectory_logprobs(
        [
            TrajectoryInput(q.instruction, q.screenshots, [r.token_ids])
            for q, r in zip(requests, results)
        ]
    )
    for out, result in zip(outs, results):
        assert (out.flat_logp().detach() - torch.tensor(result.logprobs)).abs().max() < 1e-5


def _to_real_tokenizer_layout(target) -> None:
    # vocab.json + merges.txt + added_tokens_decoder, no tokenizer.json (Qwen's slow-tokenizer files).
    fast = json.loads((target / "tokenizer.json").read_text())
    (target / "vocab.json").write_text(json.dumps(fast["model"]["vocab"], ensure_ascii=False))
    merges = ["#version: 0.2"] + [" ".join(m) for m in fast["model"]["merges"]]
    (target / "merges.txt").write_text("\n".join(merges) + "\n")
    config = json.loads((target / "tokenizer_config.json").read_text())
    config["added_tokens_decoder"] = {
        str(t["id"]): {
            "content": t["content"],
            "special": t["special"],
            "normalized": t["normalized"],
            "lstrip": False,
            "rstrip": False,
            "single_word": False,
        }
        for t in fast["added_tokens"]
    }
    (target / "tokenizer_config.json").write_text(json.dumps(config))
    (target / "tokenizer.json").unlink()


def test_real_uitars_file_layout_loads(tiny_dir, tmp_path, policy, screenshot):
    """UI-TARS-1.5-7B's files: sharded safetensors + index, vocab.json + merges.txt, and a
    preprocessor_config.json with 4.x keys (min/max_pixels, no ``size``), no processor_config."""
    from rllib_arpo.policy import GenerationRequest, SamplingParams, TrajectoryInput

    target = tmp_path / "real-layout"
    shutil.copytree(tiny_dir, target)
    (target / "model.safetensors").unlink()
    policy.model.save_pretrained(target, max_shard_size="2MB")
    assert (target / "model.safetensors.index.json").is_file()
    _to_real_tokenizer_layout(target)
    (target / "processor_config.json").unlink()
    real = {
        "min_pixels": 3136,
        "max_pixels": 12845056,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2_5_VLProcessor",
    }
    (target / "preprocessor_config.json").write_text(json.dumps(real))

    loaded = load_policy(target, device="cpu")
    assert (loaded.processor.min_pixels, loaded.processor.max_pixels) == (3136, 12845056)
    assert loaded.image_token_count(1920, 1080) == (1092 // 28) * (1932 // 28)
    text = "Thought: I click the red button.\nAction: click(start_box='(84,28)')<|im_end|>"
    assert loaded.tokenizer(text)["input_ids"] == policy.tokenizer(text)["input_ids"]
    request = GenerationRequest(
        "Click OK.", [screenshot(112, 112, 1)], sampling=SamplingParams(max_new_tokens=8)
    )
    (result,) = policy.generate([request], seed=0)
    (out,) = loaded.trajectory_logprobs(
        [TrajectoryInput("Click OK.", request.screenshots, [result.token_ids])]
    )
    assert (out.flat_logp().detach() - torch.tensor(result.logprobs)).abs().max() < 1e-5


def test_a_cpu_policy_embeds_patches_by_one_matmul(policy, screenshot) -> None:
    """The vision tower's non-overlapping Conv3d runs as a matmul on a CPU (oneDNN's bf16 Conv3d
    is ~90x slower): same output as the convolution, same parameters and checkpoint names."""
    from rllib_arpo.policy.cpu_inference import MatmulPatchConv3d, patch_embedding_as_matmul

    conv = policy.model.model.visual.patch_embed.proj
    assert type(conv) is MatmulPatchConv3d  # swapped at load
    patches = torch.randn(7, *conv.weight.shape[1:])  # (patches, C, T, P, P)
    with torch.no_grad():
        expected = torch.nn.functional.conv3d(patches, conv.weight, conv.bias, stride=conv.stride)
        assert torch.allclose(conv(patches), expected, atol=1e-5)
    assert "model.visual.patch_embed.proj.weight" in policy.model.state_dict()

    overlapping = torch.nn.Conv3d(3, 4, kernel_size=3, stride=1)  # not a patch embedding
    assert patch_embedding_as_matmul(torch.nn.Sequential(overlapping)) == 0
    assert type(overlapping) is torch.nn.Conv3d
