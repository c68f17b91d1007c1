"""Policies as evaluation backends: what ``--policy`` names, behind one protocol (``EvalPolicy``).

- ``EnginePolicy``: a rollout engine (``rollout.engines``) answering one batched call per step:
  the ``hf`` engine over a local checkpoint directory or ``tiny``, or the ``openai`` engine over
  a vLLM server (``--policy http://... --checkpoint DIR``: token ids in and out, log-probs kept);
- ``ExpertPolicy``: MiniDesk's scripted expert, which reads the live env (a check of evaluators);
- ``OpenAIPolicy``: any OpenAI-compatible chat-completions URL (text in, text out), one
  concurrent call per episode and step.

``build_policy`` picks one from the ``--policy`` string.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rllib_arpo.core.coords import CoordinateSpace
from rllib_arpo.core.images import encode_png
from rllib_arpo.core.prompt import SYSTEM_PROMPT, computer_use_prompt
from rllib_arpo.evaluation.envs import TrackedEnv
from rllib_arpo.evaluation.errors import EvalError
from rllib_arpo.policy.paths import TINY_POLICY, resolve_policy_path
from rllib_arpo.rollout.generation import TurnRequest, TurnResponse

EXPERT_POLICY = "expert"
"""``--policy`` naming MiniDesk's scripted expert."""
OPENAI_SCHEMES = ("http://", "https://")
"""A ``--policy`` starting with one of these is an OpenAI-compatible chat-completions endpoint."""
MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""Longest chat-completions answer read; a longer one is an unusable answer."""
UNUSABLE_ANSWER = "unusable answer from the chat-completions endpoint"
"""Starts the text that stands for an answer the policy cannot read (a format error)."""
UI_TARS_HISTORY_IMAGES = 5
"""Screenshots sent per OpenAI call: UI-TARS' own OSWorld agent keeps the last 5."""


class EvalPolicy(Protocol):
    """What ``run_evaluation`` needs of a policy."""

    name: str

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """The frame the policy writes points in, for a ``width`` x ``height`` screen."""

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        """One answer per request; ``envs[i]`` is the env of ``requests[i]``."""

    def close(self) -> None:
        """Release resources."""


@dataclass(frozen=True)
class SamplingSettings:
    """Sampling of the model policies (the VLM and the OpenAI endpoint).

    Attributes:
        temperature: Softmax temperature; 0 = greedy.
        top_p: Nucleus mass.
        max_new_tokens: Longest answer per step.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 512


class EnginePolicy:
    """A rollout engine as an evaluation policy: one batched ``generate`` per step.

    Args:
        engine: An ``hf`` or ``openai`` engine (``rollout.engines.build_engine``).
        processor: The checkpoint's processor: the coordinate frame of its resized screenshots.
        name: What the results call the policy.
    """

    def __init__(self, engine: Any, processor: Any, name: str) -> None:
        self.engine = engine
        self.processor = processor
        self.name = name

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """The checkpoint's coordinate frame for this screen."""
        return self.processor.coordinate_space(width, height)

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        """One batched generation over ``requests`` (the envs are not needed)."""
        return self.engine.generate(requests)

    def close(self) -> None:
        """Releases the engine."""
        self.engine.close()


class ExpertPolicy:
    """MiniDesk's scripted expert (``envs.minidesk.expert``) as a policy: a check of evaluators."""

    name = EXPERT_POLICY

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """Screen pixels, the frame the expert writes in."""
        return CoordinateSpace.for_screen(width, height)

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        """The expert's next action on each env's live desktop.

        An expert that fails on one episode's task (stuck, or a task it cannot read) answers
        that episode with the reason, an unparsable answer: the episode ends as a format error
        recording it, and the others go on.
        """
        from envs.minidesk.expert import ExpertStuck, expert_action

        responses = []
        for env in envs:
            try:
                text = expert_action(env.env.unwrapped)
            except ExpertStuck as error:
                text = f"expert stuck: {error}"
            except Exception as error:  # noqa: BLE001 - one episode's failure, not the run's
                text = f"expert failed: {type(error).__name__}: {error}"
            responses.append(TurnResponse(text, [], []))
        return responses

    def close(self) -> None:
        """Nothing to release."""


class OpenAIPolicy:
    """An OpenAI-compatible chat-completions endpoint (e.g. vLLM serving UI-TARS-1.5).

    Each step of each episode is one request, sent concurrently (the server batches them): the
    conversation of ``core.prompt`` (system turn, instruction prompt, then per step a user turn
    with the screenshot as a base64 PNG ``image_url`` and the model's earlier answer), the
    screenshots of only the last ``history_images`` steps. No token ids or log-probs come back;
    trajectories store the text.

    Failures: an endpoint that cannot be reached or answers an HTTP error stops the run
    (``EvalError``, after ``openai_engine.RETRIES`` tries; a 4xx at once). An answer that arrives but
    cannot be read (not JSON, nested too deeply, too long, no ``choices[0].message.content``
    str) is that episode's: its text becomes ``UNUSABLE_ANSWER: <why>``, which does not parse,
    so the episode ends as a format error recording why.

    Args:
        url: ``http://host:port/v1`` or the full ``.../chat/completions`` URL.
        model: The served model name.
        sampling: Temperature, top_p, max tokens.
        api_key: Sent as a bearer token when given.
        timeout_s: Limit on one call.
        history_images: Screenshots per call (the most recent ones).
        convention: Coordinates the model writes: "absolute" (UI-TARS-1.5) or "relative1000".
        max_concurrency: Calls in flight at once.
    """

    def __init__(
        self,
        url: str,
        *,
        model: str,
        sampling: SamplingSettings,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        history_images: int = UI_TARS_HISTORY_IMAGES,
        convention: str = "absolute",
        max_concurrency: int = 16,
    ) -> None:
        url = url.rstrip("/")
        self.url = url if url.endswith("/chat/completions") else url + "/chat/completions"
        self.name = f"{model}@{self.url}"
        self.model = model
        self.sampling = sampling
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.history_images = max(1, history_images)
        self.convention = convention
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_concurrency))

    def coordinate_space(self, width: int, height: int) -> CoordinateSpace:
        """The frame of ``convention`` for this screen."""
        return CoordinateSpace.for_screen(width, height, convention=self.convention)  # type: ignore[arg-type]

    def messages(self, request: TurnRequest, history: Sequence[str]) -> list[dict[str, Any]]:
        """The chat of one request: ``core.prompt``'s layout with images as data URIs.

        Args:
            request: The episode's instruction and screenshots so far.
            history: The model's earlier answers in this episode, oldest first.
        """
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": computer_use_prompt(request.instruction)},
        ]
        shots = list(request.screenshots)
        first_image = max(0, len(shots) - self.history_images)
        for index, shot in enumerate(shots):
            if index >= first_image:
                png = base64.b64encode(encode_png(shot)).decode("ascii")
                url = "data:image/png;base64," + png
                messages.append(
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
                )
            if index < len(history):
                messages.append({"role": "assistant", "content": history[index]})
        return messages

    def generate(self, requests: list[TurnRequest], envs: list[TrackedEnv]) -> list[TurnResponse]:
        """One concurrent call per request; each env supplies its episode's answer history."""
        payloads = [self.messages(r, list(e.history)) for r, e in zip(requests, envs)]
        texts = list(self._pool.map(self._complete, payloads))
        return [TurnResponse(text, [], []) for text in texts]

    def _complete(self, messages: list[dict[str, Any]]) -> str:
        body = json.dumps(
            {
                "model": self.model,
                "messages": messages,
                "temperature": self.sampling.temperature,
                "top_p": self.sampling.top_p,
                "max_tokens": self.sampling.max_new_tokens,
            }
        ).encode()
        from rllib_arpo.rollout.engines.openai_engine import EndpointError, post_with_retries

        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            raw = post_with_retries(
                self.url,
                body,
                headers,
                timeout_s=self.timeout_s,
                read_limit=MAX_ANSWER_BYTES + 1,
            )
        except EndpointError as error:
            raise EvalError(
                f"chat-completions endpoint {self.url} failed: {error.problem}"
            ) from None
        return answer_text(raw)

    def close(self) -> None:
        """Stops the call pool (calls in flight are not waited for)."""
        self._pool.shutdown(wait=False)


def answer_text(raw: bytes) -> str:
    """The text of a chat-completions answer body, ``choices[0].message.content``.

    An answer that cannot be read gives ``UNUSABLE_ANSWER: <why>`` instead (never raises): the
    episode it belongs to ends as a format error that records why.

    Args:
        raw: The answer's body (at most ``MAX_ANSWER_BYTES`` + 1 bytes of it).
    """
    if len(raw) > MAX_ANSWER_BYTES:
        return f"{UNUSABLE_ANSWER}: longer than {MAX_ANSWER_BYTES} bytes"
    try:
        answer = json.loads(raw)
    except RecursionError:
        return f"{UNUSABLE_ANSWER}: JSON nested too deeply"
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        return f"{UNUSABLE_ANSWER}: not JSON ({type(error).__name__}: {error})"
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as error:
        return f"{UNUSABLE_ANSWER}: no choices[0].message.content ({type(error).__name__}: {error})"
    if content is None:
        return ""
    if not isinstance(content, str):
        return f"{UNUSABLE_ANSWER}: content is {type(content).__name__}, not a str"
    return content


def build_policy(
    spec: str,
    *,
    sampling: SamplingSettings,
    seed: int = 0,
    device: str | None = None,
    model: str = "ui-tars",
    api_key: str | None = None,
    coords: str = "absolute",
    checkpoint: str | None = None,
) -> EvalPolicy:
    """A policy from ``--policy``: a checkpoint dir, ``tiny``, ``expert`` or an http(s) URL.

    Args:
        spec: The ``--policy`` value.
        sampling: Sampling of the model policies.
        seed: Seed of a local model's sampler.
        device: A local model's device (default: cuda if any).
        model: An endpoint's served model name.
        api_key: An endpoint's bearer key.
        coords: An endpoint's coordinate convention ("absolute" or "relative1000").
        checkpoint: With a URL: the served checkpoint's local directory; the URL is then a vLLM
            server with ``--enable-scale-out``, asked in token ids (the ``openai`` engine).

    Raises:
        EvalError: a path that does not exist or does not load.
    """
    from rllib_arpo.policy.generate import SamplingParams
    from rllib_arpo.policy.load import PolicyLoadError
    from rllib_arpo.rollout.engines import EngineSettings, build_engine

    if spec == EXPERT_POLICY:
        return ExpertPolicy()
    if spec.startswith(OPENAI_SCHEMES) and checkpoint is None:
        return OpenAIPolicy(
            spec, model=model, sampling=sampling, api_key=api_key, convention=coords
        )
    local = checkpoint if spec.startswith(OPENAI_SCHEMES) else spec
    if local != TINY_POLICY and not Path(str(local)).expanduser().is_dir():
        raise EvalError(
            f"policy {local!r} is not a checkpoint directory; use a local checkpoint path, "
            f"'{TINY_POLICY}', '{EXPERT_POLICY}' or an http(s):// chat-completions URL"
        )
    settings = EngineSettings(
        kind="openai" if spec.startswith(OPENAI_SCHEMES) else "hf",
        checkpoint_path=resolve_policy_path(local),
        sampling=SamplingParams(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_new_tokens=sampling.max_new_tokens,
        ),
        device=device,
        seed=seed,
        url=spec if spec.startswith(OPENAI_SCHEMES) else None,
        model=model,
    )
    try:
        engine = build_engine(settings)
    except PolicyLoadError as error:
        raise EvalError(" ".join(str(error).split())) from None
    name = f"{model}@{spec}" if settings.url else str(settings.checkpoint_path)
    return EnginePolicy(engine, engine.processor, name)
