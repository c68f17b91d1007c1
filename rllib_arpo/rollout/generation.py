"""What the rollout loop asks of a policy: one batched generation over all live episodes.

The loop builds one ``TurnRequest`` per live episode and gets one ``TurnResponse`` back (text,
sampled token ids, the sampler's log-probs); ``GenerateFn`` is the whole contract, so the loop
never sees which model, process or machine answers. ``policy_generate_fn`` adapts a loaded
``rllib_arpo.policy`` model in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
    """One sampled answer: text, token ids and the sampler's per-token log-probs."""

    text: str
    token_ids: Sequence[int]
    logprobs: Sequence[float]


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
