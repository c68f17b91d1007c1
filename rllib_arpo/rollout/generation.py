"""What the rollout loop asks of a policy: one batched generation over all live episodes.

The loop builds one ``TurnRequest`` per live episode and gets one ``TurnResponse`` back (text,
sampled token ids, the sampler's log-probs, the weight version that sampled them);
``GenerateFn`` is the whole contract, so the loop never sees which model, process or machine
answers. A ``RolloutEngine`` (``rollout.engines``: hf, vllm, openai) is a ``GenerateFn`` that
also takes new weights (``WeightUpdate``); ``policy_generate_fn`` adapts a loaded
``rllib_arpo.policy`` model in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rllib_arpo.core.coords import CoordinateSpace


@dataclass(frozen=True)
class TurnRequest:
    """What the policy sees before one step of one episode.

    Attributes:
        instruction: The task's instruction.
        screenshots: Every screenshot of the episode so far (uint8 HxWx3), oldest first.
        previous_responses: Sampled token ids of the earlier assistant turns, in order.
    """

    instruction: str
    screenshots: Sequence[np.ndarray]
    previous_responses: Sequence[Sequence[int]]


@dataclass(frozen=True)
class TurnResponse:
    """One sampled answer: text, token ids, the sampler's per-token log-probs, and the version of
    the weights that sampled it (None where the producer has no versions: an expert, an
    endpoint serving fixed weights)."""

    text: str
    token_ids: Sequence[int]
    logprobs: Sequence[float]
    weight_version: int | None = None


@dataclass(frozen=True)
class WeightUpdate:
    """New weights for a rollout engine.

    Attributes:
        version: The version they become; versions only go up (an engine refuses an older one).
        tensors: Parameter name (the trainer's ``Policy.get_state`` names) -> CPU tensor.
        adapter_only: True when ``tensors`` is a LoRA adapter (the base never changes).
    """

    version: int
    tensors: dict[str, Any]
    adapter_only: bool = False

    def nbytes(self) -> int:
        """Bytes of the tensors (what one sync ships to each engine)."""
        return sum(int(t.numel()) * int(t.element_size()) for t in self.tensors.values())


class RolloutEngine(Protocol):
    """Generation shared by env runners: ``generate`` is a ``GenerateFn``; weights move in by
    ``update_weights``. An engine never mixes versions within one ``generate`` call."""

    kind: str

    @property
    def processor(self) -> Any:
        """The checkpoint's processor (tokenizer; the coordinate frame of resized screenshots)."""

    @property
    def weight_version(self) -> int:
        """The version of the weights ``generate`` samples with now."""

    def generate(self, requests: list[TurnRequest]) -> list[TurnResponse]:
        """One answer per request, in order, each tagged with ``weight_version``."""

    def update_weights(self, update: WeightUpdate) -> None:
        """Load ``update`` (raises ``ValueError`` on an older version)."""

    def close(self) -> None:
        """Release the engine's processes and memory."""


GenerateFn = Callable[[list[TurnRequest]], list[TurnResponse]]
"""One batched generation over all live episodes (the policy's side of the loop)."""
SpaceFn = Callable[[int, int], CoordinateSpace]
"""(screen width, screen height) -> the coordinate space of the policy's resized screenshots."""


def policy_generate_fn(policy: Any, sampling: Any = None) -> GenerateFn:
    """``GenerateFn`` over a loaded ``rllib_arpo.policy.Policy`` with fixed ``SamplingParams``
    (None: the policy softmax, T=1, top_k=0, top_p=1)."""
    from rllib_arpo.policy.model import GenerationRequest

    def generate(requests: list[TurnRequest]) -> list[TurnResponse]:
        results = policy.generate(
            [
                GenerationRequest(
                    r.instruction, list(r.screenshots), list(r.previous_responses), sampling
                )
                for r in requests
            ]
        )
        return [TurnResponse(r.text, r.token_ids, r.logprobs) for r in results]

    return generate
