"""Tiny checkpoints: sizes, determinism, tokenizer layout (Qwen specials, phrases, BPE merges)."""

from __future__ import annotations

import json

import pytest
import torch

from rllib_arpo.core.actions import format_response, parse_response
from rllib_arpo.core.prompt import computer_use_prompt
from rllib_arpo.policy.conversation import IM_END
from rllib_arpo.policy.tiny import (
    PHRASE_TOKENS,
    QWEN_SPECIAL_TOKENS,
    TINY_SIZES,
    build_tiny_tokenizer,
    tiny_config,
    tiny_model_main,
    tokenizer_corpus,
    train_bpe_merges,
    write_tiny_checkpoint,
)

NOMINAL = {"0.2m": 0.2e6, "1.4m": 1.4e6, "4m": 4e6, "25m": 25e6}


@pytest.fixture(scope="module")
def tokenizer():
    return build_tiny_tokenizer()


def test_files_are_a_real_checkpoint_layout(tiny_dir):
    for name in (
        "config.json",
        "model.safetensors",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "chat_template.jinja",
        "preprocessor_config.json",
    ):
        assert (tiny_dir / name).is_file(), name
    config = json.loads((tiny_dir / "config.json").read_text())
    assert config["model_type"] == "qwen2_5_vl"
    assert config["architectures"] == ["Qwen2_5_VLForConditionalGeneration"]
    rope = config["text_config"]["rope_parameters"]
    assert rope["rope_theta"] == 10.0 and rope["mrope_section"] == [4, 6, 6]
    assert json.loads((tiny_dir / "tiny_model.json").read_text())["parameters"] == pytest.approx(
        1.4e6, rel=0.1
    )


@pytest.mark.parametrize("size", sorted(TINY_SIZES))
def test_sizes_match_their_names(size, tokenizer):
    from transformers import Qwen2_5_VLForConditionalGeneration

    with torch.device("meta"):  # shapes only, no memory
        model = Qwen2_5_VLForConditionalGeneration(tiny_config(size, tokenizer))
    count = sum(p.numel() for p in model.parameters())
    assert count == pytest.approx(NOMINAL[size], rel=0.15), count


def test_deterministic_by_seed(tmp_path):
    a = write_tiny_checkpoint(tmp_path / "a", size="0.2m", seed=1)
    b = write_tiny_checkpoint(tmp_path / "b", size="0.2m", seed=1)
    c = write_tiny_checkpoint(tmp_path / "c", size="0.2m", seed=2)
    for name in ("model.safetensors", "tokenizer.json", "config.json", "preprocessor_config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()


def test_cli_entry_point_returns_a_summary(tmp_path):
    info = tiny_model_main(tmp_path / "cli", size="0.2m", seed=0)
    assert info["path"] == str(tmp_path / "cli") and info["size"] == "0.2m"
    assert info["parameters"] == pytest.approx(0.2e6, rel=0.2)
    with pytest.raises(ValueError, match="valid sizes"):
        tiny_model_main(tmp_path / "bad", size="7b")


def test_special_tokens_in_qwen_order(tokenizer):
    ids = [tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS]
    assert ids == list(range(256, 256 + 14))
    assert tokenizer.eos_token == IM_END and tokenizer.pad_token == "<|endoftext|>"


def test_answers_and_prompt_are_short_and_lossless(tokenizer):
    answer = "Thought: I click the red button.\nAction: click(start_box='(84,28)')"
    ids = tokenizer(answer + IM_END, add_special_tokens=False)["input_ids"]
    assert len(ids) <= 14  # 67 bytes
    assert tokenizer.decode(ids) == answer + IM_END
    prompt = computer_use_prompt("Click the OK button.")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert len(prompt_ids) < 12 and tokenizer.decode(prompt_ids) == prompt
    text = format_response(parse_response(answer).actions, "I type.")
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert all(tokenizer.convert_tokens_to_ids(p) is not None for p in PHRASE_TOKENS)
    weird = "Ünïcödé ✓ 123 {braces} <|box_start|>(1,2)<|box_end|>"
    assert tokenizer.decode(tokenizer(weird)["input_ids"]) == weird


def test_bpe_is_deterministic_and_pure_bytes_works():
    corpus = tokenizer_corpus()
    assert train_bpe_merges(corpus, 50) == train_bpe_merges(corpus, 50)
    byte_level = build_tiny_tokenizer(num_merges=0, phrases=False)
    assert len(byte_level) == 256 + 14
    assert byte_level.decode(byte_level("abc")["input_ids"]) == "abc"
