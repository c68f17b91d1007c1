"""Export a trained policy as a standard Hugging Face checkpoint (``from_pretrained``, vLLM).

- Full fine-tune (no LoRA, no quantization): the model's weights as they are.
- LoRA: the base is loaded again from the policy's source directory in full precision (a 4-bit
  base cannot be merged without loss), the trained adapter is loaded into it and merged
  (``merge_and_unload``), and the plain model is saved.
Tokenizer, image processor settings and chat template files are copied from the source
checkpoint, so the export has the same layout as what it was loaded from; the image processor's
min/max pixels are those the policy ran with.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

PROCESSOR_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "preprocessor_config.json",
    "processor_config.json",
    "chat_template.json",
    "chat_template.jinja",
    "generation_config.json",
)


def _write_pixel_bounds(path: Path, policy) -> None:
    # The bounds the policy was trained with (load_policy may have overridden the source's).
    settings = json.loads(path.read_text()) if path.is_file() else {}
    lo, hi = policy.processor.min_pixels, policy.processor.max_pixels
    settings.update({"min_pixels": lo, "max_pixels": hi})
    if "size" in settings:
        settings["size"] = {"shortest_edge": lo, "longest_edge": hi}
    settings.setdefault("image_processor_type", "Qwen2VLImageProcessor")
    path.write_text(json.dumps(settings, indent=2) + "\n")


def export_checkpoint(policy, out_dir: str | Path, *, dtype: torch.dtype | None = None) -> Path:
    """Write ``policy`` as a plain Qwen2(.5)-VL checkpoint directory.

    Args:
        policy: A ``Policy`` from ``load_policy``.
        out_dir: Directory to write (created).
        dtype: Saved weight dtype; default the policy's dtype (bf16 for a quantized policy on GPU,
            fp32 on CPU).

    Returns:
        ``out_dir``.
    """
    import transformers

    from rllib_arpo.policy.architectures import SUPPORTED_MODEL_TYPES
    from rllib_arpo.policy.lora import apply_lora
    from rllib_arpo.policy.processor import name_standard_processor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dtype = dtype or policy.dtype
    if policy.lora is None and policy.quantization is None:
        model = policy.model
    else:
        model_type = policy.model.config.model_type
        model_cls = getattr(transformers, SUPPORTED_MODEL_TYPES[model_type])
        model = model_cls.from_pretrained(
            policy.source_path, dtype=dtype, attn_implementation="sdpa", local_files_only=True
        )
        if policy.lora is not None:
            peft_model = apply_lora(model, policy.lora)
            adapter = policy.get_state(adapter_only=True)
            own = model.state_dict()
            with torch.no_grad():
                for key, value in adapter.items():
                    own[key].copy_(value.to(own[key].dtype))
            model = peft_model.merge_and_unload()
        for parameter in model.parameters():
            parameter.requires_grad_(True)
    model.save_pretrained(out)
    for name in PROCESSOR_FILES:
        source = policy.source_path / name
        if source.is_file():
            shutil.copyfile(source, out / name)
    _write_pixel_bounds(out / "preprocessor_config.json", policy)
    name_standard_processor(out, model.config.model_type)
    logger.info("exported %s (lora merged: %s) to %s", type(model).__name__, policy.lora, out)
    return out
