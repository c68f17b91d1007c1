"""Loading a local Qwen2-VL / Qwen2.5-VL (UI-TARS) checkpoint directory as a ``Policy``.

Accepted layouts: what ``save_pretrained`` writes in transformers 5.x (nested ``text_config``), the
real UI-TARS-1.5-7B files (flat config, sharded safetensors with an index, ``vocab.json`` +
``merges.txt`` + ``tokenizer.json``, ``preprocessor_config.json`` with min/max pixels) and the
tiny checkpoints of ``policy.tiny``. Nothing is downloaded: every ``from_pretrained`` runs with
``local_files_only=True``.

Every problem with the directory is reported at once, in one ``PolicyLoadError`` naming the path
and what is missing or wrong.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from rllib_arpo.policy.architectures import ATTN_IMPLEMENTATIONS, SUPPORTED_MODEL_TYPES
from rllib_arpo.policy.cpu_inference import patch_embedding_as_matmul
from rllib_arpo.policy.lora import LoraSpec, check_quantization

if TYPE_CHECKING:
    from rllib_arpo.policy.model import Policy

logger = logging.getLogger(__name__)

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


class PolicyLoadError(RuntimeError):
    """A checkpoint directory that cannot be loaded as a policy.

    Attributes:
        path: The directory given.
        problems: What is missing or wrong, one item each.
    """

    def __init__(self, path: str | os.PathLike, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        listed = "; ".join(self.problems)
        super().__init__(f"cannot load a Qwen2-VL/Qwen2.5-VL policy from {self.path}: {listed}")


def check_checkpoint_dir(path: str | os.PathLike) -> dict:
    """Validate a checkpoint directory without loading weights.

    Returns:
        The parsed ``config.json``.

    Raises:
        PolicyLoadError: listing every missing file or wrong setting.
    """
    root = Path(path)
    if not root.exists():
        raise PolicyLoadError(root, ["the directory does not exist"])
    if not root.is_dir():
        raise PolicyLoadError(root, ["the path is not a directory"])
    problems: list[str] = []
    config: dict = {}
    config_file = root / "config.json"
    if not config_file.is_file():
        problems.append("config.json is missing")
    else:
        try:
            config = json.loads(config_file.read_text())
        except (OSError, ValueError) as error:
            problems.append(f"config.json is not valid JSON ({error})")
        else:
            model_type = config.get("model_type")
            if model_type not in SUPPORTED_MODEL_TYPES:
                problems.append(
                    f"config.json describes model_type {model_type!r} (architectures "
                    f"{config.get('architectures')}), not one of {sorted(SUPPORTED_MODEL_TYPES)}"
                )
    weights = [name for name in WEIGHT_FILES if (root / name).is_file()]
    if not weights:
        problems.append(f"no weights (none of {', '.join(WEIGHT_FILES)})")
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if index_name in weights:
            try:
                shards = set(json.loads((root / index_name).read_text())["weight_map"].values())
            except (OSError, ValueError, KeyError) as error:
                problems.append(f"{index_name} is unreadable ({error})")
                continue
            absent = sorted(s for s in shards if not (root / s).is_file())
            if absent:
                problems.append(f"weight shards listed in {index_name} are missing: {absent}")
    has_fast = (root / "tokenizer.json").is_file()
    has_bpe = (root / "vocab.json").is_file() and (root / "merges.txt").is_file()
    if not (has_fast or has_bpe):
        problems.append("tokenizer files are missing (tokenizer.json, or vocab.json + merges.txt)")
    if not _image_processor_dict(root):
        problems.append(
            "image processor settings are missing (preprocessor_config.json, or "
            "processor_config.json with an 'image_processor' entry)"
        )
    if problems:
        raise PolicyLoadError(root, problems)
    return config


def checkpoint_vocab_size(path: str | os.PathLike) -> int:
    """Rows of the checkpoint's output layer (``text_config.vocab_size``; more than the
    tokenizer's ids)."""
    config = check_checkpoint_dir(path)
    return int((config.get("text_config") or {}).get("vocab_size") or config["vocab_size"])


def _image_processor_dict(root: Path) -> dict | None:
    pre = root / "preprocessor_config.json"
    if pre.is_file():
        try:
            return json.loads(pre.read_text())
        except (OSError, ValueError):
            return None
    proc = root / "processor_config.json"
    if proc.is_file():
        try:
            return json.loads(proc.read_text()).get("image_processor")
        except (OSError, ValueError):
            return None
    return None


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` -> cuda when available, else cpu."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available")
    return resolved


def default_dtype(device: torch.device) -> torch.dtype:
    """bf16 on GPUs; fp32 on CPU (bf16 gives no speedup on small CPU models and exactness tests
    need fp32; for a 2B+ model on CPU, pass ``dtype=torch.bfloat16`` explicitly)."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def choose_attn_implementation(device: torch.device, dtype: torch.dtype) -> str:
    """flash_attention_2 on CUDA with bf16/fp16 when flash-attn is installed, else sdpa."""
    if device.type == "cuda" and dtype in (torch.bfloat16, torch.float16):
        try:
            import flash_attn  # noqa: F401
        except ImportError:
            return "sdpa"
        return "flash_attention_2"
    return "sdpa"


def load_processor(
    path: str | os.PathLike, min_pixels: int | None = None, max_pixels: int | None = None
):
    """The checkpoint's ``UITarsProcessor`` (tokenizer, image processor, chat template) alone.

    What a process that builds prompts but holds no weights needs (an env runner beside a
    rollout engine, the vLLM engine's prompt builder).

    Raises:
        PolicyLoadError: the tokenizer or image processor files do not load.
    """
    from transformers import AutoTokenizer

    from rllib_arpo.policy.processor import UITarsProcessor, load_image_processor

    root = Path(path).expanduser()
    try:
        tokenizer = AutoTokenizer.from_pretrained(root, local_files_only=True)
        image_processor = load_image_processor(root, min_pixels, max_pixels)
    except Exception as error:
        raise PolicyLoadError(
            root, [f"the tokenizer/image processor do not load ({error})"]
        ) from error
    chat_template = getattr(tokenizer, "chat_template", None)
    template_file = root / "chat_template.jinja"
    if chat_template is None and template_file.is_file():
        chat_template = template_file.read_text()
    return UITarsProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template
    )


def load_policy(
    path: str | os.PathLike,
    *,
    dtype: torch.dtype | str | None = None,
    quantization: str | None = None,
    lora: LoraSpec | None = None,
    device: str | torch.device | None = None,
    attn_implementation: str | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    activation_checkpointing: bool = False,
) -> Policy:
    """Load a checkpoint directory as a ``Policy`` (model, processor, conversation builder).

    Args:
        path: Local checkpoint directory (never a hub name: nothing is downloaded).
        dtype: Weight dtype; default bf16 on CUDA, fp32 on CPU. Strings like "bfloat16" work.
        quantization: None, "nf4" (4-bit base for LoRA training) or "int8". int8 is refused on
            CPU; nf4 on CPU runs offline but slowly (see ``policy.lora``).
        lora: LoRA adapter settings; None trains (or serves) the full model.
        device: "cpu", "cuda", "cuda:1", ...; default cuda when available.
        attn_implementation: "sdpa", "eager" or "flash_attention_2"; default
            ``choose_attn_implementation``.
        min_pixels: Override of the image processor's lower pixel bound per screenshot.
        max_pixels: Override of the upper bound (the main memory lever for long trajectories).
        activation_checkpointing: Recompute decoder activations in the backward pass.

    Returns:
        A ``rllib_arpo.policy.model.Policy``.

    Raises:
        PolicyLoadError: missing/wrong path, another architecture, missing processor files, or
            weights that do not load.
        QuantizationRefused: a quantization that cannot run on this device.
    """
    import transformers

    from rllib_arpo.policy.lora import (
        apply_lora,
        disable_bnb_cpu_repacking,
        quantization_config,
    )
    from rllib_arpo.policy.model import Policy, enable_activation_checkpointing

    root = Path(path).expanduser()
    config = check_checkpoint_dir(root)
    target = resolve_device(device)
    check_quantization(quantization, target)
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    dtype = dtype or default_dtype(target)
    attn = attn_implementation or choose_attn_implementation(target, dtype)
    if attn not in ATTN_IMPLEMENTATIONS:
        raise ValueError(f"attn_implementation must be one of {ATTN_IMPLEMENTATIONS}, got {attn!r}")
    if attn == "flash_attention_2" and target.type != "cuda":
        raise ValueError("attn_implementation='flash_attention_2' needs a CUDA device")

    processor = load_processor(root, min_pixels, max_pixels)

    model_cls = getattr(transformers, SUPPORTED_MODEL_TYPES[config["model_type"]])
    kwargs: dict = {"dtype": dtype, "attn_implementation": attn, "local_files_only": True}
    if quantization is not None:
        kwargs["quantization_config"] = quantization_config(quantization, dtype)
    if target.type == "cuda":
        # Straight onto the device (a 7B model never sits in host memory first; needs accelerate,
        # the `gpu` extra).
        kwargs["device_map"] = {"": str(target)}
    try:
        model = model_cls.from_pretrained(root, **kwargs)
    except Exception as error:
        raise PolicyLoadError(
            root, [f"the weights do not load ({type(error).__name__}: {error})"]
        ) from error
    if "device_map" not in kwargs:
        model.to(target)
    if target.type == "cpu":
        disable_bnb_cpu_repacking(model)
        patch_embedding_as_matmul(model)  # oneDNN's bf16 Conv3d is ~90x slower (cpu_inference)
    _dropout_off(model)
    peft_model = None
    if lora is not None:
        peft_model = apply_lora(model, lora)
        if target.type == "cpu":
            disable_bnb_cpu_repacking(model)
        _dropout_off(model)
    elif quantization is not None:
        for parameter in model.parameters():
            parameter.requires_grad_(False)  # a quantized base is frozen; train it with LoRA
    if activation_checkpointing:
        enable_activation_checkpointing(model)
    model.eval()
    logger.info(
        "loaded %s from %s (%s, %s, quantization=%s, lora=%s, attn=%s)",
        type(model).__name__,
        root,
        target,
        dtype,
        quantization,
        lora,
        attn,
    )
    return Policy(
        model=model,
        processor=processor,
        source_path=root,
        device=target,
        dtype=dtype,
        quantization=quantization,
        lora=lora,
        peft_model=peft_model,
        activation_checkpointing=activation_checkpointing,
    )


def _dropout_off(model: torch.nn.Module) -> None:
    # The teacher-forced pass must equal the sampler's forward: no dropout anywhere, in any mode.
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        if hasattr(module, "attention_dropout") and isinstance(module.attention_dropout, float):
            module.attention_dropout = 0.0
