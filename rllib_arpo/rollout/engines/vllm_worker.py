"""Methods added to vLLM's workers (``LLM(worker_extension_cls=...)``), called by
``llm.collective_rpc``: how new weights reach the model inside vLLM's engine processes.

This module is imported inside vLLM's worker processes (before they load the model); it
imports nothing of the project that needs a model, and only safetensors, torch and vLLM. On
import it registers the CPU ``gloo`` weight-transfer backend (``vllm_transfer``), so an engine
built with ``weight_transfer_config={"backend": "gloo"}`` finds it in its workers.
"""

from __future__ import annotations

from typing import Any

from rllib_arpo.rollout.engines.vllm_transfer import register_gloo_backend

register_gloo_backend()


class WeightSyncExtension:
    """Mixed into vLLM's worker class; ``self.model_runner`` is the worker's model runner."""

    def load_weights_from_file(self, path: str) -> int:
        """Load a safetensors file of trainer-named tensors into the live model.

        Goes through vLLM's in-place reload (``model_runner.reload_weights``): the model's
        ``load_weights`` maps transformers' names onto its fused layers (q/k/v into qkv_proj,
        gate/up into gate_up_proj) as when it loads a checkpoint, then each layer's
        post-load processing runs again (on CPU the linear weights are repacked for oneDNN and
        the plain copies dropped, so a bare ``load_weights`` would find empty parameters), and
        the encoder and multimodal caches are cleared.

        Returns:
            The number of tensors read.
        """
        from safetensors import safe_open

        with safe_open(path, framework="pt", device="cpu") as file:
            names = list(file.keys())
            # One tensor at a time off the (RAM-backed) file: a 2B model's 4.9 GB are not
            # copied whole into the worker on top of the file and the live weights.
            self.model_runner.reload_weights(
                weights_iterator=((name, file.get_tensor(name)) for name in names),
                is_checkpoint_format=True,
            )
        return len(names)

    def parameter_sums(self) -> dict[str, float]:
        """Each non-empty parameter's float64 sum, by vLLM's name (a fused parameter's sum is the
        sum of its parts' sums): a check that a sync reached the engine. On CPU, linear layers
        keep only a packed copy (their ``weight`` is empty, so left out): log-probs check those."""
        model: Any = self.model_runner.model
        return {
            name: float(param.detach().double().sum().item())
            for name, param in model.named_parameters()
            if param.numel() > 0
        }
