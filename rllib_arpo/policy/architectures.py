"""The model architectures a policy checkpoint may hold and the attention kernels it may run:
the one list that loading, export and ``ARPOConfig`` validation share."""

from __future__ import annotations

SUPPORTED_MODEL_TYPES = {
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
}
"""config.json ``model_type`` -> model class (UI-TARS-1.5 is qwen2_5_vl, UI-TARS v1 qwen2_vl)."""
PROCESSOR_CLASSES = {
    "qwen2_5_vl": "Qwen2_5_VLProcessor",
    "qwen2_vl": "Qwen2VLProcessor",
}
"""config.json ``model_type`` -> the processor class a checkpoint names (``processor_class``), as
the real UI-TARS files do: vLLM and ``AutoProcessor`` build it by that name. This project loads
its own ``UITarsProcessor`` whatever the files name (``policy.load.load_processor``)."""
ATTN_IMPLEMENTATIONS = ("sdpa", "eager", "flash_attention_2")
"""transformers' ``attn_implementation`` values a policy may load with (flash needs CUDA)."""
