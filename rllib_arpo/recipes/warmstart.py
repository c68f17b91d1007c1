"""Supervised warm start: teach a policy the answer format (and what an expert does) from demos.

RL on a random-init small model is hopeless: it never writes a parseable action, so every group
scores -0.5 and carries no gradient. A few hundred supervised steps on scripted demonstrations
(``Thought: ...\\nAction: ...`` answers for screenshots) teach the format, after which ARPO has
groups with mixed rewards to learn from. The loss is the mean negative log-likelihood of the
demonstrated response tokens, computed by the same teacher-forced pass that ARPO trains with.

No Ray here; ``arpo warmstart`` and the test fixtures call ``warm_start``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Demo:
    """One demonstrated episode: the screenshots seen and the answer text for each."""

    instruction: str
    screenshots: Sequence[Any]
    responses: Sequence[str]

    def __post_init__(self) -> None:
        if len(self.screenshots) != len(self.responses) or not self.responses:
            raise ValueError(
                f"a demo needs one response per screenshot (got {len(self.screenshots)} "
                f"screenshots, {len(self.responses)} responses)"
            )


def response_token_ids(policy: Any, text: str) -> list[int]:
    """The token ids a policy would have sampled for ``text`` (ending with ``<|im_end|>``)."""
    return policy.builder.encode(text) + [policy.builder.im_end_id]


def demo_nll(policy: Any, demos: Sequence[Demo], token_budget: int = 16_384) -> torch.Tensor:
    """Mean negative log-likelihood per demonstrated token (differentiable)."""
    from rllib_arpo.policy.model import TrajectoryInput

    inputs = [
        TrajectoryInput(
            demo.instruction,
            list(demo.screenshots),
            [response_token_ids(policy, text) for text in demo.responses],
        )
        for demo in demos
    ]
    results = policy.trajectory_logprobs(inputs, temperature=1.0, token_budget=token_budget)
    logp = torch.cat([r.flat_logp() for r in results])
    return -logp.mean()


def warm_start(
    policy: Any,
    make_demos: Callable[[np.random.Generator, int], Sequence[Demo]],
    *,
    steps: int,
    batch_size: int = 16,
    lr: float = 3e-4,
    warmup_steps: int = 30,
    seed: int = 0,
    time_limit_s: float | None = None,
    on_step: Callable[[int, float], None] | None = None,
    losses_out: list[float] | None = None,
) -> list[float]:
    """Supervised fine-tuning of ``policy`` in place on freshly drawn demos each step.

    Args:
        policy: A loaded ``rllib_arpo.policy.Policy``.
        make_demos: ``(rng, n) -> n demos`` (e.g. MiniDesk's scripted expert on random seeds).
        steps: Optimizer steps.
        batch_size: Demos per step.
        lr: Peak AdamW learning rate (3e-4 learned grounding best on this CPU, see
            docs/reference on tiny VLMs; 1e-3 teaches the model to ignore the image).
        warmup_steps: Linear warm-up steps.
        seed: Seeds the demo draws.
        time_limit_s: Stop early after this many seconds.
        on_step: Called with (step, loss) after each step (progress bars).
        losses_out: A list to append each step's loss to (still filled if interrupted).

    Returns:
        The loss of every step taken.
    """
    rng = np.random.default_rng(seed)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / max(warmup_steps, 1))
    )
    losses: list[float] = [] if losses_out is None else losses_out
    started = time.perf_counter()
    for step in range(steps):
        loss = demo_nll(policy, make_demos(rng, batch_size))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            logger.info("warm start stopped at step %d: time limit %.0f s", step, time_limit_s)
            break
    return losses


def expert_demos(
    env: Any,
    tasks: Sequence[Any],
    expert: Callable[[Any], str],
    *,
    max_steps: int = 15,
) -> Callable[[np.random.Generator, int], list[Demo]]:
    """A ``make_demos`` for ``warm_start``: the scripted expert solving random tasks of a list.

    Each demo is one whole episode (every screenshot the expert saw and its answer text), run
    through the same action language and env interpreter a policy's answers go through.

    Args:
        env: A MiniDesk-like env (``reset(options={"task": ...})``, text actions).
        tasks: Task ids or dicts to draw from.
        expert: ``env -> UI-TARS answer text`` (e.g. ``envs.minidesk.expert.expert_action``).
        max_steps: Longest demo episode.
    """
    from rllib_arpo.core.actions import parse_response, to_pyautogui
    from rllib_arpo.core.coords import CoordinateSpace

    def make_demos(rng: np.random.Generator, n: int) -> list[Demo]:
        demos: list[Demo] = []
        while len(demos) < n:
            task = tasks[int(rng.integers(len(tasks)))]
            observation, info = env.reset(seed=int(rng.integers(2**31)), options={"task": task})
            screenshots, responses = [], []
            for _ in range(max_steps):
                screenshot = observation["screenshot"]
                text = expert(env)
                screenshots.append(screenshot)
                responses.append(text)
                space = CoordinateSpace.for_screen(screenshot.shape[1], screenshot.shape[0])
                parsed = parse_response(text, space)
                if not parsed.ok:
                    raise RuntimeError(f"the expert wrote an unparsable answer: {parsed.error}")
                observation, _, terminated, truncated, _ = env.step(to_pyautogui(parsed, space))
                if terminated or truncated:
                    break
            demos.append(Demo(info["instruction"], screenshots, responses))
        return demos

    return make_demos
