"""The policy: a Qwen2(.5)-VL model and its processor, with batched sampling and teacher-forced log-probs.

``Policy`` is plain Python (no Ray): ``rllib_arpo/module.py`` wraps it in an RLlib RLModule.
Build one with ``rllib_arpo.policy.load.load_policy``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rllib_arpo.policy.conversation import Conversation, ConversationBuilder
from rllib_arpo.policy.generate import SamplingParams, decode, sample
from rllib_arpo.policy.logprobs import (
    DEFAULT_TOKEN_BUDGET,
    collate,
    micro_batches,
    response_logprobs,
)
from rllib_arpo.policy.lora import LoraSpec, adapter_state_dict
from rllib_arpo.policy.processor import ImageLike, UITarsProcessor, to_pil

logger = logging.getLogger(__name__)


@dataclass
class GenerationRequest:
    """One environment's next step.

    Attributes:
        instruction: The task instruction.
        screenshots: Every screenshot of the episode so far, the current one last (one more than
            ``history``).
        history: Sampled token ids of the previous responses, in order.
        sampling: Sampling settings; None = the policy softmax (T=1, top_k=0, top_p=1).
    """

    instruction: str
    screenshots: Sequence[ImageLike]
    history: Sequence[Sequence[int]] = ()
    sampling: SamplingParams | None = None


@dataclass
class GenerationResult:
    """One sampled response.

    Attributes:
        text: Decoded response, end token removed (special tokens such as box markers kept).
        token_ids: Sampled ids, the end token included when there is one.
        logprobs: Log-prob of each sampled id under the policy softmax at the temperature used.
        finished: False when the response hit ``max_new_tokens`` without an end token.
        prompt_tokens: Length of the prompt it was sampled from.
    """

    text: str
    token_ids: list[int]
    logprobs: list[float]
    finished: bool
    prompt_tokens: int


@dataclass
class TrajectoryInput:
    """One whole trajectory for the teacher-forced pass.

    Attributes:
        instruction: The task instruction.
        screenshots: One per step.
        responses: The sampled token ids of each step (same count as ``screenshots``).
    """

    instruction: str
    screenshots: Sequence[ImageLike]
    responses: Sequence[Sequence[int]]


@dataclass
class TrajectoryLogprobs:
    """Teacher-forced results of one trajectory.

    Attributes:
        logp: Per turn, (n_tokens,) log-probs of the sampled tokens (differentiable).
        entropy: Per turn, (n_tokens,) entropy of the policy softmax.
    """

    logp: list[torch.Tensor]
    entropy: list[torch.Tensor] = field(default_factory=list)

    def flat_logp(self) -> torch.Tensor:
        """All turns' log-probs concatenated, (sum of n_tokens,)."""
        return torch.cat(self.logp) if self.logp else torch.zeros(0)

    def flat_entropy(self) -> torch.Tensor:
        return torch.cat(self.entropy) if self.entropy else torch.zeros(0)


def _as_trajectory(item: Any) -> TrajectoryInput:
    if isinstance(item, TrajectoryInput):
        return item
    if isinstance(item, dict):
        responses = item.get("responses", item.get("response_token_ids"))
        return TrajectoryInput(item["instruction"], item["screenshots"], responses)
    if hasattr(item, "steps") and hasattr(item, "instruction"):  # a core.trajectory.Trajectory
        steps = list(item.steps)
        return TrajectoryInput(
            item.instruction,
            [getattr(step, "screenshot_png", None) or step.screenshot for step in steps],
            [step.response_token_ids for step in steps],
        )
    return TrajectoryInput(item.instruction, item.screenshots, item.responses)


def _prompt_key(request: GenerationRequest, images: list) -> tuple:
    """Equal keys = token-for-token equal prompts (instruction, history, screenshot pixels)."""
    pixels = tuple(
        (image.size, hashlib.blake2b(image.tobytes(), digest_size=16).digest()) for image in images
    )
    history = tuple(tuple(int(t) for t in response) for response in request.history)
    return (request.instruction, history, pixels)


def _as_request(item: Any) -> GenerationRequest:
    if isinstance(item, GenerationRequest):
        return item
    if isinstance(item, dict):
        return GenerationRequest(
            item["instruction"],
            item["screenshots"],
            item.get("history", item.get("history_token_ids", ())),
            item.get("sampling"),
        )
    raise TypeError(f"a generation request must be a GenerationRequest or dict, got {type(item)}")


def _checkpointing_method(model: Any, action: str) -> Any:
    # transformers 5.24 (the project's pin) says "activation_checkpointing_*"; older 5.x (the
    # vLLM venv's 5.19, GPU images' 5.17) says "gradient_checkpointing_*".
    method = getattr(model, f"activation_checkpointing_{action}", None)
    return method or getattr(model, f"gradient_checkpointing_{action}")


def enable_activation_checkpointing(model: Any) -> None:
    """Recompute decoder activations in backward (non-reentrant checkpoints)."""
    _checkpointing_method(model, "enable")({"use_reentrant": False})


class Policy:
    """A loaded vision-language policy (see ``load_policy``).

    Attributes:
        model: The ``...ForConditionalGeneration`` (LoRA layers injected in place when on).
        peft_model: The ``peft.PeftModel`` wrapper when LoRA is on (save/merge helpers), else None.
        processor: ``UITarsProcessor`` (image processor + tokenizer + chat template).
        tokenizer: The tokenizer.
        builder: ``ConversationBuilder``: the one place token ids are built.
        suppress_mask: (V,) bool: vision tokens and ids past the tokenizer, never sampled.
    """

    def __init__(
        self,
        *,
        model,
        processor: UITarsProcessor,
        source_path: Path,
        device: torch.device,
        dtype: torch.dtype,
        quantization: str | None = None,
        lora: LoraSpec | None = None,
        peft_model=None,
        activation_checkpointing: bool = False,
    ) -> None:
        self.model = model
        self.peft_model = peft_model
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.source_path = Path(source_path)
        self.device = device
        self.dtype = dtype
        self.quantization = quantization
        self.lora = lora
        self.activation_checkpointing = activation_checkpointing
        self.builder = ConversationBuilder(self.tokenizer)
        vocab = model.get_output_embeddings().weight.shape[0]
        suppress = torch.zeros(vocab, dtype=torch.bool)
        suppress[self.builder.never_sampled(vocab)] = True
        self.suppress_mask = suppress.to(device)
        self.merge_size = int(processor.image_processor.merge_size)
        self.generator: torch.Generator | None = None
        self.turn_cache = None  # a policy.turn_cache.TurnCache once enable_turn_cache is called
        self.packed_decode_layers = 0  # linears with a packed bf16 CPU copy (policy.cpu_inference)

    def set_seed(self, seed: int | None) -> None:
        """Give ``generate`` its own seeded CPU generator (None: back to torch's global one)."""
        self.generator = (
            None if seed is None else torch.Generator(device="cpu").manual_seed(int(seed))
        )

    # ------------------------------------------------------------------ images and conversations

    def image_token_count(self, width: int, height: int) -> int:
        """Image tokens of a ``width`` x ``height`` screenshot after ``smart_resize``.

        Computed by the image processor's own rule, so it always equals what ``_images`` yields
        (tests check that rule against ``core.coords.smart_resize``).
        """
        patches = self.processor.image_processor.get_number_of_image_patches(height, width)
        return int(patches) // self.merge_size**2

    def coordinate_space(self, screen_width: int, screen_height: int):
        """The ``core.coords.CoordinateSpace`` matching this processor's pixel bounds."""
        return self.processor.coordinate_space(screen_width, screen_height)

    def _images(self, images: list) -> tuple[torch.Tensor, torch.Tensor]:
        processed = self.processor.process_images(images)
        return processed["pixel_values"], processed["image_grid_thw"]

    def rollout_conversation(
        self, request: GenerationRequest, counts: Sequence[int]
    ) -> Conversation:
        return self.builder.build(
            request.instruction, counts, request.history, add_generation_prompt=True
        )

    def training_conversation(
        self, trajectory: TrajectoryInput, counts: Sequence[int]
    ) -> Conversation:
        return self.builder.build(
            trajectory.instruction, counts, trajectory.responses, add_generation_prompt=False
        )

    # ------------------------------------------------------------------------------ sampling

    def generate(
        self,
        batch: Sequence[GenerationRequest | dict],
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> list[GenerationResult]:
        """Sample one response per request, batched (left padding; any image sizes).

        Requests with equal sampling settings share one batched call.

        Args:
            batch: The requests.
            seed: Seeds a fresh generator (reproducible sampling); ignored if ``generator``.
            generator: Random source; default ``self.generator`` (see ``set_seed``), else torch's
                global one.

        Returns:
            One result per request, in order.
        """
        requests = [_as_request(item) for item in batch]
        if not requests:
            return []
        if generator is None and seed is not None:
            generator = torch.Generator(device="cpu").manual_seed(int(seed))
        generator = generator or self.generator
        groups: dict[SamplingParams, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.sampling or SamplingParams(), []).append(index)
        results: list[GenerationResult | None] = [None] * len(requests)
        was_training = self.model.training
        self.model.eval()
        try:
            for params, indices in groups.items():
                for index, result in zip(
                    indices, self._generate_group([requests[i] for i in indices], params, generator)
                ):
                    results[index] = result
        finally:
            self.model.train(was_training)
        return results  # type: ignore[return-value]

    def _generate_group(
        self, requests: list[GenerationRequest], params: SamplingParams, generator
    ) -> list[GenerationResult]:
        # Identical prompts (a GRPO group's first step: G envs reset to the same task) are
        # preprocessed and prefilled once; their rows fan out before the first token is drawn.
        unique: dict[tuple, int] = {}
        expand: list[int] = []
        unique_requests: list[GenerationRequest] = []
        unique_images: list[list] = []
        for request in requests:
            if len(request.screenshots) != len(request.history) + 1:
                raise ValueError(
                    f"a request needs one screenshot more than its history: "
                    f"{len(request.screenshots)} screenshot(s), {len(request.history)} response(s)"
                )
            images = [to_pil(image) for image in request.screenshots]
            key = _prompt_key(request, images)
            if key not in unique:
                unique[key] = len(unique_requests)
                unique_requests.append(request)
                unique_images.append(images)
            expand.append(unique[key])
        fan_out = expand if len(unique_requests) < len(requests) else None
        if self.turn_cache is not None:
            conversations, (tokens, logps, finished) = self._sample_reusing_turns(
                unique_requests, unique_images, expand, params, generator
            )
        else:
            pixels, grids = self._images([image for row in unique_images for image in row])
            counts = (grids.prod(-1) // self.merge_size**2).tolist()
            conversations, cursor = [], 0
            for request in unique_requests:
                n = len(request.screenshots)
                conversations.append(
                    self.rollout_conversation(request, counts[cursor : cursor + n])
                )
                cursor += n
            model_batch = collate(
                self.model,
                conversations,
                [pixels],
                [grids],
                pad_token_id=self.builder.pad_token_id,
                padding_side="left",
                device=self.device,
            )
            tokens, logps, finished = sample(
                self.model,
                model_batch,
                params,
                suppress_mask=self.suppress_mask,
                eos_token_ids=self.builder.eos_token_ids,
                generator=generator,
                expand=fan_out,
            )
        results = []
        for row, ids, lps, done in zip(expand, tokens, logps, finished):
            text_ids = ids[:-1] if done else ids
            text = self.tokenizer.decode(text_ids, skip_special_tokens=False)
            results.append(GenerationResult(text, ids, lps, bool(done), len(conversations[row])))
        return results

    def _sample_reusing_turns(
        self,
        requests: list[GenerationRequest],
        images: list[list],
        expand: list[int],
        params: SamplingParams,
        generator,
    ) -> tuple[list[Conversation], tuple[list, list, list]]:
        """``sample`` where each request may continue its episode's cached turn
        (``policy.turn_cache``): only screenshots and tokens after it are encoded and prefilled.
        Every output row's cache is stored for its next turn."""
        from rllib_arpo.policy.turn_cache import (
            CachedTurn,
            image_digest,
            images_in_prefix,
            prefill_with_turns,
            turn_key,
            usable,
        )

        cache = self.turn_cache
        digests = [[image_digest(image) for image in row] for row in images]
        grids = [[self._image_grid(image) for image in row] for row in images]
        conversations, reused, new_images, looked_up = [], [], [], []
        for request, row_images, row_digests, row_grids in zip(requests, images, digests, grids):
            counts = [int(g.prod()) // self.merge_size**2 for g in row_grids]
            conversation = self.rollout_conversation(request, counts)
            key = turn_key(request.instruction, request.history, row_digests[:-1])
            entry = usable(cache.get(key), conversation)
            looked_up.append(key)
            held = images_in_prefix(conversation, len(entry.ids)) if entry is not None else 0
            conversations.append(conversation)
            reused.append(entry)
            new_images.extend(row_images[held:])
        cache.count(reused, [len(c) for c in conversations])
        new_pixels, new_grids = self._images(new_images)
        start = prefill_with_turns(
            self.model,
            conversations,
            reused,
            torch.stack([g for row in grids for g in row]),
            new_pixels,
            new_grids,
            pad_token_id=self.builder.pad_token_id,
            device=self.device,
        )
        for key in looked_up:  # superseded by the turns stored below
            cache.discard(key)
        decoded = decode(
            self.model,
            start,
            params,
            suppress_mask=self.suppress_mask,
            eos_token_ids=self.builder.eos_token_ids,
            generator=generator,
            expand=expand if len(requests) < len(expand) else None,
            keep_kv=True,
        )
        for row, tokens, kv in zip(expand, decoded.tokens, decoded.row_kv):
            request = requests[row]
            ids = (*conversations[row].input_ids, *tokens[:-1])
            if kv[0][0].shape[2] != len(ids):
                raise RuntimeError(
                    f"turn cache: a row's KV holds {kv[0][0].shape[2]} columns for {len(ids)} ids"
                )
            key = turn_key(request.instruction, [*request.history, tokens], digests[row])
            cache.put(key, CachedTurn(ids, kv))
        return conversations, (decoded.tokens, decoded.logprobs, decoded.finished)

    def _image_grid(self, image) -> torch.Tensor:
        """(3,) grid (t, h, w) in patches of one screenshot after ``smart_resize``, computed
        from its size alone (equal to the image processor's ``image_grid_thw``)."""
        width, height = self.processor.resized_size(*image.size)
        patch = int(self.processor.image_processor.patch_size)
        return torch.tensor([1, height // patch, width // patch], dtype=torch.long)

    def enable_packed_decode(self) -> int:
        """bf16 on a CPU: decode steps read oneDNN-packed copies of the language model's
        weights (``policy.cpu_inference``; about 1.6x faster per token, twice the memory of those
        weights). Rollout policies only. Returns how many layers were packed (0: not bf16 CPU)."""
        from rllib_arpo.policy.cpu_inference import pack_for_decode

        self.packed_decode_layers = pack_for_decode(self.model)
        return self.packed_decode_layers

    def enable_turn_cache(self, max_bytes: int | None = None) -> None:
        """Reuse each episode's KV cache from turn to turn in ``generate``
        (``policy.turn_cache``); None bytes: the default bound. Rollout policies only."""
        from rllib_arpo.policy.turn_cache import TURN_CACHE_BYTES, TurnCache

        self.turn_cache = TurnCache(TURN_CACHE_BYTES if max_bytes is None else max_bytes)

    # ------------------------------------------------------------------ teacher-forced pass

    def iter_trajectory_logprobs(
        self,
        trajectories: Sequence[Any],
        *,
        temperature: float = 1.0,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
    ) -> Iterator[tuple[list[int], list[TrajectoryLogprobs]]]:
        """Teacher-forced log-probs, one micro-batch at a time (for gradient accumulation).

        Yields ``(indices, results)``; call ``backward`` on a loss of ``results`` before taking
        the next micro-batch, so only one micro-batch's activations are alive at a time.
        Runs with grad enabled unless the caller disabled it; dropout is off in every mode.

        Args:
            trajectories: ``TrajectoryInput``s, dicts with the same keys, or records with
                ``instruction`` and ``steps`` (``screenshot``, ``response_token_ids``).
            temperature: The sampling temperature the tokens were drawn at.
            token_budget: Most padded tokens (rows x longest) per micro-batch.
        """
        items = [_as_trajectory(t) for t in trajectories]
        images = [[to_pil(image) for image in item.screenshots] for item in items]
        counts = [[self.image_token_count(*image.size) for image in row] for row in images]
        conversations = [self.training_conversation(t, c) for t, c in zip(items, counts)]
        mode = self.model.training
        # Activation checkpointing only acts in train mode; dropout is zero, so modes agree.
        self.model.train(self.activation_checkpointing)
        try:
            for group in micro_batches([len(c) for c in conversations], token_budget):
                flat = [image for index in group for image in images[index]]
                pixels, grids = self._images(flat)
                batch = collate(
                    self.model,
                    [conversations[i] for i in group],
                    [pixels],
                    [grids],
                    pad_token_id=self.builder.pad_token_id,
                    padding_side="right",
                    device=self.device,
                )
                per_row = response_logprobs(
                    self.model,
                    batch,
                    [conversations[i] for i in group],
                    temperature=temperature,
                    suppress_mask=self.suppress_mask,
                )
                yield group, [TrajectoryLogprobs(logp, ent) for logp, ent in per_row]
        finally:
            self.model.train(mode)

    def trajectory_logprobs(
        self,
        trajectories: Sequence[Any],
        *,
        temperature: float = 1.0,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
    ) -> list[TrajectoryLogprobs]:
        """Teacher-forced per-turn log-probs and entropies of whole trajectories, in input order.

        All micro-batches' graphs stay alive until the results are dropped; for long trajectories
        use ``iter_trajectory_logprobs`` and step backward per micro-batch.
        """
        results: list[TrajectoryLogprobs | None] = [None] * len(trajectories)
        for group, values in self.iter_trajectory_logprobs(
            trajectories, temperature=temperature, token_budget=token_budget
        ):
            for index, value in zip(group, values):
                results[index] = value
        return results  # type: ignore[return-value]

    def set_activation_checkpointing(self, enabled: bool) -> None:
        """Turn decoder activation checkpointing on or off."""
        if enabled:
            enable_activation_checkpointing(self.model)
        else:
            _checkpointing_method(self.model, "disable")()
            # transformers leaves its input-grad hook behind (a local function: unpicklable).
            self.model.disable_input_require_grads()
        self.activation_checkpointing = enabled

    # --------------------------------------------------------------------------- parameters

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters the optimizer updates (only the adapters when LoRA is on)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def get_state(
        self, adapter_only: bool | None = None, live: bool = False
    ) -> dict[str, torch.Tensor]:
        """Weights as torch tensors on CPU (bf16 kept as bf16).

        Args:
            adapter_only: Only the LoRA tensors; default True when LoRA is on. This is what a
                weight sync to rollout workers needs.
            live: The full weights themselves, on the model's device, not copies: what a
                collective broadcast (``rollout.engines.vllm_transfer``) sends in place.
        """
        if live:
            return {k: v.detach() for k, v in self.model.state_dict().items()}
        if adapter_only is None:
            adapter_only = self.lora is not None
        if adapter_only:
            if self.lora is None:
                raise ValueError("adapter_only=True but this policy has no LoRA adapter")
            return adapter_state_dict(self.model)
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Load weights from ``get_state`` (adapter-only or full). Unknown keys are an error."""
        own = self.model.state_dict()
        unknown = sorted(set(state) - set(own))
        if unknown:
            raise KeyError(f"state holds {len(unknown)} keys this policy lacks, e.g. {unknown[:3]}")
        if self.quantization is not None and any("lora_" not in k for k in state):
            raise ValueError("a quantized policy only takes adapter (LoRA) state in set_state")
        with torch.no_grad():
            for key, value in state.items():
                tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
                own[key].copy_(tensor.to(own[key].device, own[key].dtype))
        if self.turn_cache is not None:
            self.turn_cache.clear()  # its keys and values came from the old weights
        if self.packed_decode_layers:
            from rllib_arpo.policy.cpu_inference import repack

            repack(self.model)

    def export(self, out_dir: str | Path, **kwargs) -> Path:
        """Save a standard Hugging Face checkpoint (LoRA merged); see ``policy.export``."""
        from rllib_arpo.policy.export import export_checkpoint

        return export_checkpoint(self, out_dir, **kwargs)
