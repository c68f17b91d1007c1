"""The VLM policy on Hugging Face transformers: loading, tiny checkpoints, sampling, log-probs.

No Ray here (``rllib_arpo/module.py`` is the RLlib glue). Public names are imported lazily so that
``import rllib_arpo.policy`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_policy": "rllib_arpo.policy.load",
    "PolicyLoadError": "rllib_arpo.policy.load",
    "Policy": "rllib_arpo.policy.model",
    "GenerationRequest": "rllib_arpo.policy.model",
    "GenerationResult": "rllib_arpo.policy.model",
    "TrajectoryInput": "rllib_arpo.policy.model",
    "TrajectoryLogprobs": "rllib_arpo.policy.model",
    "SamplingParams": "rllib_arpo.policy.generate",
    "LoraSpec": "rllib_arpo.policy.lora",
    "QuantizationRefused": "rllib_arpo.policy.lora",
    "write_tiny_checkpoint": "rllib_arpo.policy.tiny",
    "tiny_model_main": "rllib_arpo.policy.tiny",
    "TINY_SIZES": "rllib_arpo.policy.tiny",
    "export_checkpoint": "rllib_arpo.policy.export",
    "estimate_memory": "rllib_arpo.policy.memory",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rllib_arpo.policy' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
