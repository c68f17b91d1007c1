"""A documented estimate of training memory per trajectory length (one process, one device).

Terms (bytes; b = bytes per element of the weight dtype, T = tokens of one trajectory,
P = image patches = 4 x image tokens, h/I/n_l = hidden size / MLP width / layers, V = vocabulary):
- weights: parameters x b; under nf4 the decoder's linear weights take 0.5 byte + about 0.03 byte
  of block scales (double quantization) per parameter; vision tower, embeddings and lm_head stay b.
- gradients + AdamW: trainable parameters x (b + 2 x 4) (fp32 moments; with LoRA only adapters).
- decoder activations: without checkpointing, each layer keeps about (5h + 2 kv + 4I) elements per
  token (norm inputs, q/k/v, attention output, MLP gate/up/activation/down input; SDPA/flash keep no
  T x T scores); with checkpointing, h per token per layer plus one layer's full set.
- vision activations: the same rule over P patches with the vision widths when the vision tower
  trains (full fine-tune); with LoRA or a quantized base it is frozen and only one layer of one
  image is alive at a time.
- logits: at most ``LOGIT_CHUNK_TOKENS`` response positions x V x 4 bytes x 3 (fp32 logits,
  log-softmax, its gradient): chunks are recomputed in the backward pass, never all kept.
Allocator fragmentation and framework overhead (about 10-20%) are not included. This is an
estimate to pick ``max_pixels``, the token budget and checkpointing, not a measurement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from rllib_arpo.core.coords import MAX_PIXELS, MIN_PIXELS, smart_resize
from rllib_arpo.policy.logprobs import LOGIT_CHUNK_TOKENS

GIB = 1024**3
UITARS_15_7B_SHAPE = {
    "text_config": {
        "hidden_size": 3584,
        "intermediate_size": 18944,
        "num_hidden_layers": 28,
        "num_attention_heads": 28,
        "num_key_value_heads": 4,
        "vocab_size": 152064,
    },
    "vision_config": {
        "hidden_size": 1280,
        "intermediate_size": 3420,
        "depth": 32,
        "patch_size": 14,
        "spatial_merge_size": 2,
    },
}
"""UI-TARS-1.5-7B's shape (Qwen2.5-VL-7B), for estimates without loading it."""
NF4_BYTES_PER_PARAM = 0.5 + 0.03


@dataclass
class MemoryEstimate:
    """Bytes of each term (see the module docstring) and their total."""

    tokens: int
    image_tokens: int
    weights: float
    gradients_and_optimizer: float
    decoder_activations: float
    vision_activations: float
    logits: float

    @property
    def total(self) -> float:
        return (
            self.weights
            + self.gradients_and_optimizer
            + self.decoder_activations
            + self.vision_activations
            + self.logits
        )

    def as_gib(self) -> dict[str, float]:
        out = {k: v / GIB for k, v in asdict(self).items() if k not in ("tokens", "image_tokens")}
        out["total"] = self.total / GIB
        return out


def _get(config, name: str, default=None):
    return (
        getattr(config, name, default)
        if not isinstance(config, dict)
        else config.get(name, default)
    )


def estimate_memory(
    config,
    *,
    n_screenshots: int,
    screen_size: tuple[int, int] = (1920, 1080),
    response_tokens_per_step: int = 128,
    prompt_tokens: int = 300,
    dtype: torch.dtype = torch.bfloat16,
    lora_r: int | None = None,
    quantization: str | None = None,
    activation_checkpointing: bool = True,
    min_pixels: int = MIN_PIXELS,
    max_pixels: int = MAX_PIXELS,
) -> MemoryEstimate:
    """Estimate the memory of one teacher-forced training step over one trajectory.

    Args:
        config: A ``Qwen2_5_VLConfig`` (or Qwen2-VL), e.g. ``policy.model.config``.
        n_screenshots: Steps in the trajectory (ARPO: up to 15).
        screen_size: (width, height) of each screenshot before ``smart_resize``.
        response_tokens_per_step: Tokens of each assistant turn.
        prompt_tokens: System + computer-use prompt tokens (about 270 with the real tokenizer).
        dtype: Weight/activation dtype.
        lora_r: LoRA rank (None = full fine-tune).
        quantization: None or "nf4" (int8: counted as 1 byte per decoder linear weight).
        activation_checkpointing: Decoder activations recomputed in the backward pass.
        min_pixels: Image processor lower bound.
        max_pixels: Image processor upper bound (the main lever).

    Returns:
        A ``MemoryEstimate``.
    """
    text = _get(config, "text_config", config)
    vision = _get(config, "vision_config")
    h = _get(text, "hidden_size")
    inter = _get(text, "intermediate_size")
    layers = _get(text, "num_hidden_layers")
    heads = _get(text, "num_attention_heads")
    kv_heads = _get(text, "num_key_value_heads") or heads
    vocab = _get(text, "vocab_size")
    head_dim = h // heads
    kv = kv_heads * head_dim
    vh = _get(vision, "hidden_size")
    vi = _get(vision, "intermediate_size")
    vl = _get(vision, "depth")
    patch = _get(vision, "patch_size", 14)
    merge = _get(vision, "spatial_merge_size", 2)
    b = torch.finfo(dtype).bits // 8

    width, height = screen_size
    rh, rw = smart_resize(
        height, width, factor=patch * merge, min_pixels=min_pixels, max_pixels=max_pixels
    )
    image_tokens = (rh // (patch * merge)) * (rw // (patch * merge))
    patches = image_tokens * merge * merge
    response = response_tokens_per_step * n_screenshots
    tokens = prompt_tokens + n_screenshots * (image_tokens + 10) + response

    linear_per_layer = h * h + 2 * h * kv + h * h + 3 * h * inter  # q, k+v, o, gate/up/down
    decoder_linear = layers * linear_per_layer
    vision_params = (
        vl * (4 * vh * vh + 3 * vh * vi) + (merge * merge * vh) ** 2 + 3 * patch * patch * 2 * vh
    )
    other = 2 * vocab * h + vision_params + layers * 2 * h
    if quantization == "nf4":
        weights = decoder_linear * NF4_BYTES_PER_PARAM + other * b
    elif quantization == "int8":
        weights = decoder_linear * 1.0 + other * b
    else:
        weights = (decoder_linear + other) * b
    if lora_r:
        per_layer = lora_r * ((h + h) + 2 * (h + kv) + (h + h) + 2 * (h + inter) + (inter + h))
        trainable = layers * per_layer
        weights += trainable * b
    else:
        trainable = decoder_linear + other
    optimizer = trainable * (b + 8)

    per_token_layer = 5 * h + 2 * kv + 4 * inter
    if activation_checkpointing:
        decoder_act = tokens * (layers * h + per_token_layer) * b
    else:
        decoder_act = tokens * layers * per_token_layer * b
    per_patch_layer = 5 * vh + 4 * vi
    if lora_r or quantization:
        # Frozen vision tower: autograd keeps nothing of it; one layer of one image at a time.
        vision_act = patches * per_patch_layer * b
    elif activation_checkpointing:
        vision_act = n_screenshots * patches * (vl * vh + per_patch_layer) * b
    else:
        vision_act = n_screenshots * patches * vl * per_patch_layer * b
    logits = min(response, LOGIT_CHUNK_TOKENS) * vocab * 4 * 3
    return MemoryEstimate(
        tokens=tokens,
        image_tokens=image_tokens,
        weights=float(weights),
        gradients_and_optimizer=float(optimizer),
        decoder_activations=float(decoder_act),
        vision_activations=float(vision_act),
        logits=float(logits),
    )
