"""The model architectures a policy checkpoint may hold and the attention kernels it may run:
the one list that loading, export and ``ARPOConfig`` validation share."""

from __future__ import annotations

SUPPORTED_MODEL_TYPES = {
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
}
"""config.json ``model_type`` -> model class (UI-TARS-1.5 is qwen2_5_vl, UI-TARS v1 qwen2_vl)."""
ATTN_IMPLEMENTATIONS = ("sdpa", "eager", "flash_attention_2")
"""transformers' ``attn_implementation`` values a policy may load with (flash needs CUDA)."""
