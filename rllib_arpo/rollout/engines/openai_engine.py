"""The ``openai`` engine: a vLLM server started elsewhere (``vllm serve``), tokens in, tokens out.

Each request is one POST to the server's token endpoint (``/inference/v1/generate``; start the
server with ``--enable-scale-out``): the prompt goes as token ids, built by the learner's
``ConversationBuilder`` with one ``<|image_pad|>`` per screenshot, the screenshots as PNG data
URIs beside it, and the server expands the pads exactly as the ``vllm`` engine does. The answer
comes back as token ids with their log-probs and the prompt the server ran, so nothing is ever
re-tokenized: earlier answers go into the next prompt as the ids they were sampled as.

What the server must be started with to sample the trainer's distribution (docs/engines.md):
``--generation-config vllm`` (ignore the checkpoint's sampling defaults) and
``--logprobs-mode processed_logprobs`` (log-probs after temperature and the vision-token mask).
Vision tokens and the output rows past the tokenizer (the checkpoint's ``vocab_size``) get a
logit bias of -1e9: the trainer's mask.

It serves fixed weights: ``update_weights`` refuses (training with a server would need its
runtime LoRA loading), so this engine evaluates. Requests of one ``generate`` call are sent
concurrently; the server batches them.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rllib_arpo.core.images import encode_png
from rllib_arpo.policy.conversation import ConversationBuilder
from rllib_arpo.rollout.engines.base import EngineSettings, single_pad_prompt
from rllib_arpo.rollout.generation import TurnRequest, TurnResponse, WeightUpdate

GENERATE_PATH = "/inference/v1/generate"
RETRIES = 3
"""Tries of one request before the call fails (a 4xx fails at once)."""
MAX_ANSWER_BYTES = 64 * 1024 * 1024
SUPPRESSED_LOGIT_BIAS = -1e9
"""Logit bias of the ids the trainer never samples (vision tokens, ids past the tokenizer)."""


class EndpointError(RuntimeError):
    """An HTTP endpoint that could not be reached or kept answering with an error."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"{url} failed: {problem}")
        self.url, self.problem = url, problem


def post_with_retries(
    url: str, data: bytes, headers: dict[str, str], *, timeout_s: float, read_limit: int
) -> bytes:
    """POST ``data``; the answer's body, at most ``read_limit`` bytes of it.

    ``RETRIES`` tries with exponential back-off for network errors and 5xx answers; a 4xx is
    final at once. Raises ``EndpointError`` (with the last problem) when no try answered.
    """
    problem = ""
    for attempt in range(RETRIES):
        call = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(call, timeout=timeout_s) as reply:
                return reply.read(read_limit)
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}: {error.read(300).decode('utf-8', 'replace')}"
            if error.code < 500:
                break
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            problem = str(getattr(error, "reason", error)) or type(error).__name__
        time.sleep(0.5 * 2**attempt)
    raise EndpointError(url, problem)


class EngineServerError(RuntimeError):
    """The server could not be reached, refused a request, or answered something unreadable."""


class OpenAIEngine:
    """Tokens in, tokens out against a vLLM server (see the module docstring).

    Settings used: ``url`` (``http://host:port``), ``model`` (the served name),
    ``checkpoint_path`` (the same checkpoint's tokenizer, for prompt ids), ``sampling``,
    ``max_batch`` (requests in flight at once), ``options["timeout_s"]`` (per request, 600).
    """

    kind = "openai"

    def __init__(self, settings: EngineSettings) -> None:
        from rllib_arpo.policy.load import checkpoint_vocab_size, load_processor

        if not settings.url:
            raise ValueError("engine='openai' needs the server's url (http://host:port)")
        self.base_url = settings.url.rstrip("/").removesuffix("/v1")
        self.settings = settings
        self.timeout_s = float(settings.options.get("timeout_s", 600.0))
        self.processor = load_processor(
            settings.checkpoint_path, settings.min_pixels, settings.max_pixels
        )
        self.tokenizer = self.processor.tokenizer
        self.builder = ConversationBuilder(self.tokenizer)
        suppressed = self.builder.never_sampled(checkpoint_vocab_size(settings.checkpoint_path))
        sampling = settings.sampling
        self.sampling_params = {
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k,
            "max_tokens": sampling.max_new_tokens,
            "min_tokens": sampling.min_new_tokens,
            "logprobs": 0,
            "stop_token_ids": list(self.builder.eos_token_ids),
            "logit_bias": {str(i): SUPPRESSED_LOGIT_BIAS for i in suppressed},
            "skip_special_tokens": False,
        }
        if settings.seed is not None:
            self.sampling_params["seed"] = int(settings.seed)
        self._pool = ThreadPoolExecutor(max_workers=max(1, settings.max_batch))

    @property
    def weight_version(self) -> int:
        return 0

    def prompt_token_ids(self, request: TurnRequest) -> list[int]:
        """One ``<|image_pad|>`` per screenshot; the server expands each to its image's tokens."""
        return single_pad_prompt(self.builder, request)

    def body(self, request: TurnRequest) -> dict[str, Any]:
        """The JSON body of one request."""
        parts = [
            {
                "type": "image_url",
                "url": "data:image/png;base64,"
                + base64.b64encode(encode_png(shot)).decode("ascii"),
            }
            for shot in request.screenshots
        ]
        return {
            "model": self.settings.model,
            "token_ids": self.prompt_token_ids(request),
            "content_parts": parts,
            "sampling_params": self.sampling_params,
            "return_token_ids": True,
            "output_mode": "tokens",
        }

    def generate(self, requests: list[TurnRequest]) -> list[TurnResponse]:
        """All requests in flight together (at most ``max_batch``); answers in order."""
        answers = list(self._pool.map(self.post, [self.body(r) for r in requests]))
        return [self.response(answer) for answer in answers]

    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """One request; returns the server's JSON answer (``EngineServerError`` if none)."""
        url = self.base_url + GENERATE_PATH
        try:
            raw = post_with_retries(
                url,
                json.dumps(body).encode(),
                {"Content-Type": "application/json"},
                timeout_s=self.timeout_s,
                read_limit=MAX_ANSWER_BYTES + 1,
            )
        except EndpointError as error:
            raise EngineServerError(str(error)) from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise EngineServerError(f"{url}: answer longer than {MAX_ANSWER_BYTES} bytes")
        try:
            return json.loads(raw)
        except ValueError as error:  # not JSON
            raise EngineServerError(f"{url}: answer is not JSON ({error})") from None

    def response(self, answer: dict[str, Any]) -> TurnResponse:
        """A ``TurnResponse`` from one answer (``EngineServerError`` if it lacks what we need)."""
        try:
            choice = answer["choices"][0]
            token_ids = [int(t) for t in choice["token_ids"]]
            content = (choice.get("logprobs") or {}).get("content") or []
            logprobs = [float(entry["logprob"]) for entry in content]
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise EngineServerError(
                f"answer without choices[0].token_ids and log-probs ({type(error).__name__}: "
                f"{error})"
            ) from None
        if len(logprobs) != len(token_ids):
            raise EngineServerError(f"{len(logprobs)} log-probs for {len(token_ids)} tokens")
        finished = bool(token_ids) and token_ids[-1] in self.builder.eos_token_ids
        text = self.tokenizer.decode(
            token_ids[:-1] if finished else token_ids, skip_special_tokens=False
        )
        return TurnResponse(text, token_ids, logprobs, None)

    def update_weights(self, update: WeightUpdate) -> None:
        raise ValueError(
            "engine='openai' serves the fixed weights of a server started elsewhere; training "
            "needs engine='hf' or 'vllm'"
        )

    def close(self) -> None:
        """Stops the request pool (the server keeps running: it is not ours)."""
        self._pool.shutdown(wait=False)
