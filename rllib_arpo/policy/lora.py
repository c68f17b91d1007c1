"""4-bit (nf4) / int8 quantized bases and LoRA adapters on the language model.

- Quantization is for GPUs. On CPU, bitsandbytes int8 decodes about 13x slower than bf16 and is
  refused here; nf4 runs offline (slowly, through bitsandbytes' own CPU library): its fast CPU
  kernel would be fetched from the Hugging Face hub at import time through the ``kernels``
  package, which ``import_bitsandbytes_offline`` blocks, so nothing is ever downloaded.
- After an eval-mode forward on CPUs with AVX512-BF16, bitsandbytes repacks 4-bit weights and a
  following LoRA backward fails ("a view of a leaf Variable ... in-place operation");
  ``support_avx512bf16_for_cpu = False`` on every module avoids it.
- LoRA targets the language model's projections only (``LORA_TARGET_REGEX``); the vision tower
  and ``lm_head`` stay full precision and frozen. The adapter is all that needs syncing to rollout
  workers (``adapter_state_dict``).
"""

from __future__ import annotations

import importlib
import logging
import sys
import warnings
from dataclasses import dataclass, field

import torch

logger = logging.getLogger(__name__)

QUANTIZATIONS = (None, "nf4", "int8")
LORA_TARGET_REGEX = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
"""peft ``target_modules`` regex: every attention and MLP projection of the decoder."""
QUANT_SKIP_MODULES = ["model.visual", "visual", "lm_head"]
"""Kept in full precision under quantization."""
LORA_KEY_MARKER = "lora_"


@dataclass(frozen=True)
class LoraSpec:
    """LoRA adapter settings.

    Attributes:
        r: Rank of each adapter (UI-TARS-7B at r=16: about 40M trainable parameters).
        alpha: Scaling numerator (the update is scaled by alpha / r).
        target_modules: Regex or names of the wrapped linear layers.
        init_lora_weights: peft's init; True makes B = 0, so a fresh adapter is the base model.
    """

    r: int = 16
    alpha: int = 32
    target_modules: str | tuple[str, ...] = LORA_TARGET_REGEX
    init_lora_weights: bool | str = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ValueError(f"LoraSpec.r must be >= 1, got {self.r}")

    def to_peft_config(self):
        from peft import LoraConfig

        targets = self.target_modules
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=0.0,  # dropout is off everywhere: the PPO ratio must start at 1
            target_modules=targets if isinstance(targets, str) else list(targets),
            init_lora_weights=self.init_lora_weights,
            bias="none",
            **self.extra,
        )


class QuantizationRefused(RuntimeError):
    """A quantization setting that cannot run here (named with the reason and the way out)."""


def import_bitsandbytes_offline():
    """Import bitsandbytes so that it never reaches the network.

    On CPUs with AVX512-BF16, bitsandbytes' CPU backend calls ``kernels.get_kernel(...)`` at import
    time, which downloads a kernel from the Hugging Face hub. Hiding the ``kernels`` package while
    importing makes it fall back to its bundled library. If bitsandbytes was imported earlier
    elsewhere, it is used as it is.
    """
    if "bitsandbytes" in sys.modules:
        return sys.modules["bitsandbytes"]
    saved = sys.modules.get("kernels", None)
    had = "kernels" in sys.modules
    sys.modules["kernels"] = None  # type: ignore[assignment]  # makes `import kernels` fail
    cpu_ops_log = logging.getLogger("bitsandbytes.backends.cpu.ops")
    level = cpu_ops_log.level
    cpu_ops_log.setLevel(logging.ERROR)  # its "failed to load from kernels-community" is expected
    try:
        bnb = importlib.import_module("bitsandbytes")
        importlib.import_module("bitsandbytes.nn")
    finally:
        cpu_ops_log.setLevel(level)
        if had:
            sys.modules["kernels"] = saved  # type: ignore[assignment]
        else:
            sys.modules.pop("kernels", None)
    return bnb


def check_quantization(quantization: str | None, device: torch.device) -> None:
    """Raise ``QuantizationRefused`` for settings that cannot run on ``device``."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    if quantization == "int8" and device.type == "cpu":
        raise QuantizationRefused(
            "quantization='int8' on CPU is refused: bitsandbytes' CPU int8 path decodes about "
            "13x slower than bf16 (5.2 s/token on a 2B model). Use quantization=None with "
            "dtype=torch.bfloat16 on CPU, or int8/nf4 on a CUDA device."
        )


def quantization_config(quantization: str, compute_dtype: torch.dtype):
    """``transformers.BitsAndBytesConfig`` for "nf4" or "int8" (vision tower and lm_head skipped)."""
    from transformers import BitsAndBytesConfig

    import_bitsandbytes_offline()
    if quantization == "nf4":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype,
            llm_int8_skip_modules=QUANT_SKIP_MODULES,
        )
    if quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=QUANT_SKIP_MODULES)
    raise ValueError(f"quantization must be 'nf4' or 'int8', got {quantization!r}")


def disable_bnb_cpu_repacking(model: torch.nn.Module) -> None:
    """Set ``support_avx512bf16_for_cpu = False`` on every module (see the module docstring)."""
    for module in model.modules():
        if hasattr(module, "support_avx512bf16_for_cpu") or type(module).__module__.startswith(
            "bitsandbytes"
        ):
            module.support_avx512bf16_for_cpu = False


def apply_lora(model: torch.nn.Module, spec: LoraSpec) -> torch.nn.Module:
    """Wrap the language model's projections with LoRA adapters; freeze everything else.

    Returns:
        The ``peft.PeftModel``. Its base model (``.get_base_model()``) is the original
        ``...ForConditionalGeneration`` with LoRA layers injected in place.
    """
    import_bitsandbytes_offline()  # peft imports bitsandbytes when it is installed
    from peft import get_peft_model

    for parameter in model.parameters():
        parameter.requires_grad_(False)
    with warnings.catch_warnings():
        # peft 0.21 still calls transformers' deprecated `is_gradient_checkpointing`.
        warnings.filterwarnings(
            "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
        )
        peft_model = get_peft_model(model, spec.to_peft_config())
    for name, parameter in peft_model.named_parameters():
        parameter.requires_grad_(LORA_KEY_MARKER in name)
    return peft_model


def adapter_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The LoRA tensors of ``model`` (a base model with injected adapters), detached on CPU."""
    return {
        name: tensor.detach().to("cpu", copy=True)
        for name, tensor in model.state_dict().items()
        if LORA_KEY_MARKER in name
    }


def lora_parameter_count(model: torch.nn.Module) -> int:
    """Number of LoRA parameters (r x (in + out) per wrapped linear)."""
    return sum(p.numel() for n, p in model.named_parameters() if LORA_KEY_MARKER in n)
