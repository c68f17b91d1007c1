"""Tiny UI-TARS-shaped checkpoints, written offline, for tests, benchmarks and the CPU demo.

A tiny checkpoint is a real Qwen2.5-VL checkpoint directory (``config.json``, ``model.safetensors``,
``tokenizer.json``, ``tokenizer_config.json``, ``chat_template.jinja``, ``preprocessor_config.json``)
with random weights and a small tokenizer, so it loads through exactly the code path of
UI-TARS-1.5-7B (``rllib_arpo.policy.load.load_policy``). Nothing is downloaded.

What learned fastest in a probe on a 2-core CPU (../shared/reference/TINY-VLM-LEARNING.md) is the
default: the 1.4M model, ``rope_theta`` 10 (mrope gives width the lowest frequency band; at 1e4 the
rotation across a few image tokens is too small to tell positions apart) with ``mrope_section``
[4, 6, 6] (head_dim 32), and a tokenizer with phrase tokens and BPE merges on top of the byte level
(2x faster training and 4x faster group generation than pure bytes).

Tokenizer layout (ids): 0-255 the 256 byte-level symbols (GPT-2 byte order), 256-269 Qwen's 14
special tokens in Qwen's order, then the BPE merge products, then the phrase tokens (the structural
pieces of answers, and the fixed text of the system and computer-use prompts). The model's
vocabulary is rounded up to a multiple of 64, so, as in the real model (152,064 rows for 151,665
tokens), some ids decode to nothing; the sampler suppresses them.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rllib_arpo.core.coords import MAX_PIXELS, MIN_PIXELS
from rllib_arpo.core.prompt import SYSTEM_PROMPT, computer_use_prompt

logger = logging.getLogger(__name__)

QWEN_SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
"""Qwen2-VL's special tokens, in the order of the real vocabulary (ids 151643-151656 there)."""

PHRASE_TOKENS: tuple[str, ...] = (
    "Thought: ",
    "\nAction: ",
    ".\nAction: ",
    "Thought: I click the ",
    "Thought: I type ",
    "Thought: I press ",
    "Thought: I scroll ",
    "Thought: The task is done",
    "click(start_box='(",
    "left_double(start_box='(",
    "right_single(start_box='(",
    "drag(start_box='(",
    "scroll(start_box='(",
    ")', end_box='(",
    ")', direction='",
    ")')",
    "hotkey(key='",
    "type(content='",
    "finished(content='",
    "wait()",
    "call_user()",
    "')",
    " button",
    " icon",
    " field",
    " menu",
    " window",
    " the ",
)
"""Added (non-special) tokens: the structural pieces of UI-TARS answers in ``core.actions`` form.

Digits are not merged (Qwen's pre-tokenizer splits every digit), so a coordinate is one token per
digit, exactly as in the real vocabulary.
"""

DEFAULT_NUM_MERGES = 384
"""BPE merges learned from the prompt and answer corpus below (vocabulary about 700 tokens)."""

_WORDS = [
    "red",
    "green",
    "blue",
    "yellow",
    "orange",
    "purple",
    "black",
    "white",
    "gray",
    "pink",
    "cyan",
    "brown",
    "OK",
    "Cancel",
    "Save",
    "Open",
    "Close",
    "Submit",
    "Search",
    "Yes",
    "No",
    "Next",
    "Back",
    "Apply",
    "Delete",
    "Edit",
    "File",
    "Help",
    "button",
    "icon",
    "field",
    "menu",
    "window",
    "dialog",
    "tab",
    "link",
    "checkbox",
    "text",
    "box",
    "file",
    "folder",
    "terminal",
    "browser",
    "editor",
    "settings",
    "desktop",
    "document",
    "page",
    "list",
    "item",
    "title",
    "name",
    "email",
    "password",
]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Qwen2-VL's ChatML template (the form UI-TARS-1.5 ships), in Jinja."""


@dataclass(frozen=True)
class TinySize:
    """Shape of one tiny model. head_dim is 32 everywhere, so mrope [4, 6, 6] fits all sizes.

    Attributes:
        text_hidden: Hidden size of the language model.
        text_layers: Decoder layers.
        text_heads: Attention heads (head_dim = text_hidden / text_heads = 32).
        text_kv_heads: Key/value heads (grouped-query attention as in the real model).
        text_intermediate: MLP width.
        vision_hidden: Hidden size of the vision tower.
        vision_layers: Vision blocks.
        vision_heads: Vision attention heads.
        vision_intermediate: Vision MLP width.
    """

    text_hidden: int
    text_layers: int
    text_heads: int
    text_kv_heads: int
    text_intermediate: int
    vision_hidden: int
    vision_layers: int
    vision_heads: int
    vision_intermediate: int


TINY_SIZES: dict[str, TinySize] = {
    "0.2m": TinySize(64, 2, 2, 1, 128, 32, 1, 1, 64),
    "1.4m": TinySize(128, 4, 4, 2, 352, 96, 2, 2, 192),
    "4m": TinySize(256, 4, 8, 2, 704, 128, 4, 4, 384),
    "25m": TinySize(512, 8, 16, 4, 1280, 192, 6, 6, 768),
}
"""Nominal sizes; the exact count (a few percent off the name) is logged and written to
``tiny_model.json`` in the checkpoint."""

DEFAULT_TINY_SIZE = "1.4m"
ROPE_THETA = 10.0
MROPE_SECTION = (4, 6, 6)
VOCAB_MULTIPLE = 64


def _bytes_to_unicode() -> dict[int, str]:
    # GPT-2's reversible byte -> printable character map, as used by Qwen's byte-level BPE.
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


def _pretokenizer():
    from tokenizers import Regex, pre_tokenizers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def prompt_phrases() -> list[str]:
    """The fixed text of the system and computer-use prompts, as whole phrase tokens.

    The computer-use prompt is about 1,100 bytes around the instruction; as two phrase tokens it
    costs the tiny models 2 tokens instead of about 400, which is most of a one-screenshot context.
    """
    marker = "\x00INSTRUCTION\x00"
    before, after = computer_use_prompt(marker).split(marker)
    return [p for p in (SYSTEM_PROMPT, before, after) if len(p.strip()) >= 8]


def tokenizer_corpus() -> list[str]:
    """The fixed texts the BPE merges are learned from: the prompt and UI-TARS-style answers."""
    texts = [SYSTEM_PROMPT, computer_use_prompt("Click the OK button.")]
    for i, word in enumerate(_WORDS):
        x, y = 14 + 28 * (i % 8), 14 + 28 * ((i // 8) % 8)
        texts.append(f"Click the {word} button.")
        texts.append(f"Thought: I click the {word} button.\nAction: click(start_box='({x},{y})')")
        texts.append(f"Thought: I type {word} into the text field.\nAction: type(content='{word}')")
        texts.append(f"Open the {word} menu and select the {word} item in the window.")
    return texts


def train_bpe_merges(texts: list[str], num_merges: int) -> list[tuple[str, str]]:
    """Learn byte-level BPE merges, deterministically (ties broken by the pair's text).

    Args:
        texts: Training texts (pre-tokenized with Qwen2's regex and byte-level map).
        num_merges: Most merges to learn; fewer when no pair occurs twice.

    Returns:
        Merges in priority order, as pairs of byte-level symbols.
    """
    pre = _pretokenizer()
    word_counts: Counter[str] = Counter()
    for text in texts:
        for piece, _ in pre.pre_tokenize_str(text):
            word_counts[piece] += 1
    words = {word: list(word) for word in word_counts}
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        pair_counts: Counter[tuple[str, str]] = Counter()
        for word, symbols in words.items():
            count = word_counts[word]
            for pair in itertools.pairwise(symbols):
                pair_counts[pair] += count
        if not pair_counts:
            break
        best = max(pair_counts.items(), key=lambda item: (item[1], _neg_key(item[0])))
        pair, count = best
        if count < 2:
            break
        merges.append(pair)
        merged = pair[0] + pair[1]
        for word, symbols in words.items():
            if len(symbols) < 2:
                continue
            out: list[str] = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
                    out.append(merged)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            words[word] = out
    return merges


def _neg_key(pair: tuple[str, str]) -> tuple[int, ...]:
    # max() with this key prefers the lexicographically smallest pair among equal counts.
    return tuple(-ord(c) for c in pair[0] + "\x00" + pair[1])


def build_tiny_tokenizer(num_merges: int = DEFAULT_NUM_MERGES, phrases: bool = True):
    """A Qwen2 byte-level BPE tokenizer with Qwen's special tokens, built in-process.

    Args:
        num_merges: BPE merges learned from ``tokenizer_corpus()`` (0 = pure bytes).
        phrases: Add ``PHRASE_TOKENS`` as added tokens.

    Returns:
        A ``transformers.Qwen2Tokenizer`` with the chat template set.
    """
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    byte_map = _bytes_to_unicode()
    vocab: dict[str, int] = {byte_map[b]: b for b in range(256)}
    for token in QWEN_SPECIAL_TOKENS:  # Qwen's order, right after the bytes
        vocab[token] = len(vocab)
    merges = train_bpe_merges(tokenizer_corpus(), num_merges) if num_merges > 0 else []
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=list(merges),
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        errors="replace",
        model_max_length=32768,
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": [AddedToken(t, special=True) for t in QWEN_SPECIAL_TOKENS]}
    )
    if phrases:
        phrase_list = list(PHRASE_TOKENS) + prompt_phrases()
        tokenizer.add_tokens([AddedToken(p, special=False, normalized=False) for p in phrase_list])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


ARCHITECTURES = {
    "qwen2_5_vl": ("Qwen2_5_VLConfig", "Qwen2_5_VLForConditionalGeneration"),
    "qwen2_vl": ("Qwen2VLConfig", "Qwen2VLForConditionalGeneration"),
}
"""Tiny architectures: Qwen2.5-VL (UI-TARS-1.5, the default) and Qwen2-VL (UI-TARS v1)."""


def tiny_config(size: str, tokenizer, architecture: str = "qwen2_5_vl"):
    """The config of a tiny model whose special ids come from ``tokenizer``.

    Args:
        size: One of ``TINY_SIZES``.
        tokenizer: From ``build_tiny_tokenizer``.
        architecture: "qwen2_5_vl" (default) or "qwen2_vl".
    """

    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; valid: {sorted(ARCHITECTURES)}")
    if size not in TINY_SIZES:
        raise ValueError(f"unknown tiny size {size!r}; valid sizes: {sorted(TINY_SIZES)}")
    shape = TINY_SIZES[size]
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    vocab_size = -(-len(tokenizer) // VOCAB_MULTIPLE) * VOCAB_MULTIPLE
    text_config = {
        "vocab_size": vocab_size,
        "hidden_size": shape.text_hidden,
        "intermediate_size": shape.text_intermediate,
        "num_hidden_layers": shape.text_layers,
        "num_attention_heads": shape.text_heads,
        "num_key_value_heads": shape.text_kv_heads,
        "max_position_embeddings": 32768,
        "rms_norm_eps": 1e-6,
        "attention_dropout": 0.0,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": ROPE_THETA,
            "mrope_section": list(MROPE_SECTION),
        },
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    }
    vision_config = {
        "depth": shape.vision_layers,
        "hidden_size": shape.vision_hidden,
        "intermediate_size": shape.vision_intermediate,
        "num_heads": shape.vision_heads,
        "out_hidden_size": shape.text_hidden,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
        "fullatt_block_indexes": [shape.vision_layers - 1],
        "tokens_per_second": 2,
    }
    config_name, model_name = ARCHITECTURES[architecture]
    if architecture == "qwen2_vl":
        vision_config = {
            "depth": shape.vision_layers,
            "embed_dim": shape.vision_hidden,
            "hidden_size": shape.text_hidden,
            "mlp_ratio": shape.vision_intermediate // shape.vision_hidden,
            "num_heads": shape.vision_heads,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        }
    return _vl_config(config_name, model_name, text_config, vision_config, ids)


def _vl_config(config_name: str, model_name: str, text_config: dict, vision_config: dict, ids):
    """A Qwen2(.5)-VL config with the tokenizer's vision ids and untied embeddings."""
    import transformers

    return getattr(transformers, config_name)(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
        architectures=[model_name],
    )


def write_tiny_checkpoint(
    path: str | Path,
    size: str = DEFAULT_TINY_SIZE,
    seed: int = 0,
    *,
    num_merges: int = DEFAULT_NUM_MERGES,
    phrases: bool = True,
    min_pixels: int = MIN_PIXELS,
    max_pixels: int = MAX_PIXELS,
    architecture: str = "qwen2_5_vl",
) -> Path:
    """Write a random-weight, UI-TARS-shaped Qwen2.5-VL checkpoint directory.

    The same (size, seed, num_merges, phrases) always gives the same files' contents.

    Args:
        path: Directory to create (may exist; files in it are overwritten).
        size: One of ``TINY_SIZES`` ("0.2m", "1.4m", "4m", "25m").
        seed: Seed of the weight initialisation.
        num_merges: BPE merges of the tokenizer (0 = pure byte level).
        phrases: Add the phrase tokens to the tokenizer.
        min_pixels: Image processor's lower bound on pixels per screenshot (``core.coords``).
        max_pixels: Image processor's upper bound on pixels per screenshot (``core.coords``).
        architecture: "qwen2_5_vl" (UI-TARS-1.5) or "qwen2_vl" (UI-TARS v1).

    Returns:
        The checkpoint directory.
    """
    import torch
    import transformers

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(num_merges=num_merges, phrases=phrases)
    config = tiny_config(size, tokenizer, architecture)
    model_cls = getattr(transformers, ARCHITECTURES[architecture][1])
    fork_devices: list = []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        model = model_cls._from_config(config, attn_implementation="sdpa", dtype=torch.float32)
    n_params = _save_model_and_processor(
        out, model, tokenizer, min_pixels, max_pixels, architecture
    )
    info = {
        "size": size,
        "seed": seed,
        "parameters": n_params,
        "tokenizer_tokens": len(tokenizer),
        "vocab_size": config.text_config.vocab_size,
        "num_merges": num_merges,
        "phrases": phrases,
        "architecture": architecture,
    }
    (out / "tiny_model.json").write_text(json.dumps(info, indent=2) + "\n")
    logger.info("wrote tiny %s model (%d parameters) to %s", size, n_params, out)
    return out


UI_TARS_2B_SHAPE = {
    "text": {
        "vocab_size": 151936,
        "hidden_size": 1536,
        "intermediate_size": 8960,
        "num_hidden_layers": 28,
        "num_attention_heads": 12,
        "num_key_value_heads": 2,
    },
    "vision": {"depth": 32, "embed_dim": 1280, "num_heads": 16, "mlp_ratio": 4},
    "rope_theta": 1_000_000.0,
    "mrope_section": (16, 24, 24),
}
"""Qwen2-VL-2B's dimensions (UI-TARS-2B is that model fine-tuned), untied embeddings: 2.44B
parameters. Random weights: for timing a real-size step (bench/), never for learning."""


def write_ui_tars_2b_shaped_checkpoint(
    path: str | Path, seed: int = 0, *, dtype: str = "bfloat16"
) -> Path:
    """Write a random-init checkpoint with Qwen2-VL-2B's dimensions and the tiny tokenizer.

    Built on the meta device and filled with N(0, 0.02) in place (a default init of 2.4B
    parameters takes minutes on a CPU); vision and special-token ids as in ``tiny_config``.

    Args:
        path: Directory to create.
        seed: Seed of the fill.
        dtype: Saved weight dtype (bf16: 4.9 GB on disk).

    Returns:
        The checkpoint directory.
    """
    import torch
    import transformers

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    shape = UI_TARS_2B_SHAPE
    text_config = {
        **shape["text"],
        "max_position_embeddings": 32768,
        "rms_norm_eps": 1e-6,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": shape["rope_theta"],
            "mrope_section": list(shape["mrope_section"]),
        },
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    }
    vision_config = {
        **shape["vision"],
        "hidden_size": shape["text"]["hidden_size"],
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
    }
    config = _vl_config(
        *ARCHITECTURES["qwen2_vl"], text_config=text_config, vision_config=vision_config, ids=ids
    )
    torch_dtype = getattr(torch, dtype)
    with torch.device("meta"):
        model = transformers.Qwen2VLForConditionalGeneration._from_config(
            config, attn_implementation="sdpa", dtype=torch_dtype
        )
    model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if name.endswith("inv_freq"):
                continue
            if tensor.dim() == 1 and "norm" in name:
                tensor.fill_(1.0)
            elif tensor.is_floating_point():
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.02)
        for module in model.modules():  # rotary tables were never computed on meta
            if hasattr(module, "inv_freq") and hasattr(module, "rope_init_fn"):
                inv_freq, _ = module.rope_init_fn(module.config, torch.device("cpu"))
                module.inv_freq = inv_freq
                module.original_inv_freq = inv_freq
    n_params = _save_model_and_processor(out, model, tokenizer, MIN_PIXELS, MAX_PIXELS, "qwen2_vl")
    info = {"shape": "ui-tars-2b", "seed": seed, "parameters": n_params, "dtype": dtype}
    (out / "tiny_model.json").write_text(json.dumps(info, indent=2) + "\n")
    logger.info("wrote a UI-TARS-2B-shaped model (%d parameters) to %s", n_params, out)
    return out


def _save_model_and_processor(
    out: Path, model, tokenizer, min_pixels: int, max_pixels: int, architecture: str
) -> int:
    """Save weights, tokenizer, chat template and image processor files; returns the params."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    from rllib_arpo.policy.processor import UITarsProcessor, name_standard_processor

    model.generation_config.do_sample = True
    model.generation_config.temperature = 1.0
    model.generation_config.top_k = 0
    model.generation_config.top_p = 1.0
    model.generation_config.eos_token_id = [
        tokenizer.convert_tokens_to_ids("<|im_end|>"),
        tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    ]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    processor = UITarsProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE
    )
    processor.save_pretrained(out)
    # The real checkpoints' file, in the 4.x key layout (5.x also reads ``size``).
    preprocessor = image_processor.to_dict()
    preprocessor.update(
        {
            "min_pixels": min_pixels,
            "max_pixels": max_pixels,
            "image_processor_type": "Qwen2VLImageProcessor",
            "processor_class": "UITarsProcessor",  # named as the real files by the next call
        }
    )
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")
    name_standard_processor(out, architecture)
    return sum(p.numel() for p in model.parameters())


def tiny_model_main(out_dir: str | Path, size: str = DEFAULT_TINY_SIZE, seed: int = 0) -> dict:
    """Entry point for ``arpo tiny-model``: write the checkpoint, return a summary for printing.

    Args:
        out_dir: Directory to write.
        size: One of ``TINY_SIZES``.
        seed: Weight seed.

    Returns:
        ``{"path", "size", "seed", "parameters", "tokenizer_tokens", "vocab_size", ...}``.
    """
    path = write_tiny_checkpoint(out_dir, size=size, seed=seed)
    info = json.loads((path / "tiny_model.json").read_text())
    info["path"] = str(path)
    return info
