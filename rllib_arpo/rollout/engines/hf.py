"""The ``hf`` engine: the project's own KV-cache sampling loop (``policy.generate``) as an engine.

Log-probs are those of the trainer's own forward (fp32: equal to the teacher-forced pass to
~1e-6), so with this engine nothing needs correcting. It runs inside an env runner (the default:
``num_engines=0``) or in engine actors shared by all runners.
"""

from __future__ import annotations

from typing import Any

from rllib_arpo.policy.generate import SamplingParams
from rllib_arpo.rollout.engines.base import EngineSettings, check_newer, chunks
from rllib_arpo.rollout.generation import (
    TurnRequest,
    TurnResponse,
    WeightUpdate,
    policy_generate_fn,
)


class HFEngine:
    """A loaded ``rllib_arpo.policy.Policy`` that samples with fixed ``SamplingParams``.

    Args:
        policy: The policy (its weights are the engine's).
        sampling: How to sample.
        max_batch: Most requests per batched generation call.
        version: The version of the weights ``policy`` holds now.
        reuse_turns: Keep each episode's KV cache for its next turn (``policy.turn_cache``;
            cleared on every weight update).
        cpu_tuning: On a CPU: decode bf16 from oneDNN-packed weights (repacked on every
            weight update) and keep freed memory for reuse (``policy.cpu_inference``).
    """

    kind = "hf"

    def __init__(
        self,
        policy: Any,
        sampling: SamplingParams,
        *,
        max_batch: int = 64,
        version: int = 0,
        reuse_turns: bool = True,
        cpu_tuning: bool = True,
    ) -> None:
        self.policy = policy
        if reuse_turns and policy.turn_cache is None:
            policy.enable_turn_cache()
        if cpu_tuning and policy.device.type == "cpu":
            from rllib_arpo.policy.cpu_inference import reuse_freed_memory

            reuse_freed_memory()
            if not policy.packed_decode_layers:
                policy.enable_packed_decode()
        self.sampling = sampling
        self.max_batch = max_batch
        self._version = version
        self._generate = policy_generate_fn(policy, sampling)

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> HFEngine:
        from rllib_arpo.policy.load import load_policy
        from rllib_arpo.policy.lora import LoraSpec

        policy = load_policy(
            settings.checkpoint_path,
            dtype=settings.dtype,
            device=settings.device,
            quantization=settings.quantization,
            lora=LoraSpec(**settings.lora) if settings.lora else None,
            min_pixels=settings.min_pixels,
            max_pixels=settings.max_pixels,
        )
        policy.set_seed(settings.seed)
        return cls(policy, settings.sampling, max_batch=settings.max_batch)

    @property
    def processor(self) -> Any:
        """The checkpoint's processor (the coordinate frame of its resized screenshots)."""
        return self.policy.processor

    @property
    def weight_version(self) -> int:
        return self._version

    def generate(self, requests: list[TurnRequest]) -> list[TurnResponse]:
        """Batched sampling, ``max_batch`` requests per model call, tagged with the version."""
        out: list[TurnResponse] = []
        for part in chunks(list(requests), self.max_batch):
            for response in self._generate(part):
                out.append(
                    TurnResponse(
                        response.text, response.token_ids, response.logprobs, self._version
                    )
                )
        return out

    def update_weights(self, update: WeightUpdate) -> None:
        """Copy the tensors into the policy (``Policy.set_state``: adapter or full weights)."""
        check_newer(self._version, update.version)
        self.policy.set_state(update.tensors)
        self._version = update.version

    def parameter_sums(self) -> dict[str, float]:
        """Each weight's float64 sum, by the policy's names (what a sync check compares)."""
        return {
            name: float(tensor.double().sum())
            for name, tensor in self.policy.model.state_dict().items()
        }

    def close(self) -> None:
        """Nothing to release (the policy goes with the engine)."""
