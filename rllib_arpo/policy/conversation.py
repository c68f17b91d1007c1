"""Token ids of a UI-TARS conversation: one function for the rollout prompt and the training sequence.

Layout (Qwen ChatML, as the checkpoint's chat template writes it; ``core.prompt`` owns the text):

    <|im_start|>system\\n{SYSTEM_PROMPT}<|im_end|>\\n
    <|im_start|>user\\n{computer_use_prompt(instruction)}<|im_end|>\\n
    <|im_start|>user\\n<|vision_start|><|image_pad|> x n_0<|vision_end|><|im_end|>\\n
    <|im_start|>assistant\\n{response 0: the SAMPLED token ids}<|im_end|>\\n
    <|im_start|>user\\n<|vision_start|><|image_pad|> x n_1<|vision_end|><|im_end|>\\n
    ...

The rollout prompt at step t is this sequence through screenshot t plus ``<|im_start|>assistant\\n``;
the training sequence is the whole of it. Both come from ``build_conversation``, so the prompt of
step t is, token for token, a prefix of the training sequence, and the model's 3-D (mrope) position
ids, which depend only on the tokens before each position, agree too.

Responses are never re-tokenized: the sampled ids are inserted as they are. A response that hit
``max_new_tokens`` without ``<|im_end|>`` is closed with an ``<|im_end|>`` outside the loss mask.
Every chunk boundary falls next to a special token, so encoding the chunks one by one gives the
same ids as encoding the whole text (tested against the chat template).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rllib_arpo.core.prompt import SYSTEM_PROMPT, computer_use_prompt

IM_START, IM_END, END_OF_TEXT = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
VISION_START, VISION_END = "<|vision_start|>", "<|vision_end|>"
IMAGE_PAD, VIDEO_PAD, VISION_PAD = "<|image_pad|>", "<|video_pad|>", "<|vision_pad|>"
VISION_TOKENS = (VISION_START, VISION_END, VISION_PAD, IMAGE_PAD, VIDEO_PAD)
"""Tokens the policy may never emit: suppressed in sampling, masked the same way in training."""

MM_TEXT, MM_IMAGE = 0, 1
"""Values of ``mm_token_type_ids`` (transformers 5.x: text 0, image 1, video 2)."""


@dataclass
class Conversation:
    """Token ids of one conversation, with what the model and the loss need beside them.

    Attributes:
        input_ids: Token ids, shape (L,).
        mm_token_type_ids: 1 on image tokens, 0 elsewhere, shape (L,).
        loss_mask: True on the sampled response tokens, shape (L,).
        response_spans: (start, end) of each response's sampled tokens in ``input_ids``.
        image_token_counts: Image tokens of each screenshot, in order.
    """

    input_ids: list[int]
    mm_token_type_ids: list[int]
    loss_mask: list[bool]
    response_spans: list[tuple[int, int]] = field(default_factory=list)
    image_token_counts: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)


class ConversationBuilder:
    """Builds ``Conversation``s with one tokenizer; the fixed chunks are encoded once."""

    def __init__(self, tokenizer, system_prompt: str = SYSTEM_PROMPT) -> None:
        self.tokenizer = tokenizer
        self.system_prompt = system_prompt
        ids = {t: tokenizer.convert_tokens_to_ids(t) for t in (IM_START, IM_END, END_OF_TEXT)}
        ids.update({t: tokenizer.convert_tokens_to_ids(t) for t in VISION_TOKENS})
        missing = [t for t, i in ids.items() if i is None or i == tokenizer.unk_token_id]
        if missing:
            raise ValueError(f"tokenizer lacks Qwen special tokens {missing}")
        self.im_end_id = ids[IM_END]
        self.end_of_text_id = ids[END_OF_TEXT]
        self.image_pad_id = ids[IMAGE_PAD]
        self.vision_token_ids = tuple(ids[t] for t in VISION_TOKENS)
        self.eos_token_ids = (self.im_end_id, self.end_of_text_id)
        pad = tokenizer.pad_token_id
        self.pad_token_id = self.end_of_text_id if pad is None else pad
        self._image_open = self.encode(f"{IM_START}user\n{VISION_START}")
        self._image_close = self.encode(f"{VISION_END}{IM_END}\n")
        self._assistant = self.encode(f"{IM_START}assistant\n")
        self._newline = self.encode("\n")
        self._header_cache: dict[str, list[int]] = {}

    def never_sampled(self, vocab_size: int) -> list[int]:
        """Ids a policy never emits: the vision tokens, and the output rows past the tokenizer
        (the model's ``vocab_size`` is rounded up; no token maps to those rows). The trainer masks
        them (``Policy.suppress_mask``) and every rollout engine excludes them the same way."""
        return sorted(set(self.vision_token_ids) | set(range(len(self.tokenizer), vocab_size)))

    def encode(self, text: str) -> list[int]:
        """Token ids of a text chunk (no BOS/EOS added)."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def header(self, instruction: str) -> list[int]:
        """System turn and the computer-use prompt turn."""
        cached = self._header_cache.get(instruction)
        if cached is None:
            text = (
                f"{IM_START}system\n{self.system_prompt}{IM_END}\n"
                f"{IM_START}user\n{computer_use_prompt(instruction)}{IM_END}\n"
            )
            cached = self.encode(text)
            if len(self._header_cache) < 4096:
                self._header_cache[instruction] = cached
        return cached

    def build(
        self,
        instruction: str,
        image_token_counts: Sequence[int],
        responses: Sequence[Sequence[int]],
        *,
        add_generation_prompt: bool,
    ) -> Conversation:
        """The conversation of one trajectory (training) or one rollout step (generation).

        Args:
            instruction: Task instruction (goes through ``core.prompt.computer_use_prompt``).
            image_token_counts: Image tokens of each screenshot (``grid_thw.prod() // 4``).
            responses: Sampled token ids of each assistant turn.
            add_generation_prompt: True for a rollout prompt (one screenshot more than responses,
                ending in the assistant header); False for a training sequence (one response per
                screenshot).

        Returns:
            The ``Conversation``.
        """
        n_images, n_responses = len(image_token_counts), len(responses)
        expected = n_responses + 1 if add_generation_prompt else n_responses
        if n_images != expected or n_images == 0:
            kind = "rollout prompt" if add_generation_prompt else "training sequence"
            raise ValueError(
                f"a {kind} needs {expected if expected else 'at least one'} screenshot(s) for "
                f"{n_responses} response(s), got {n_images}"
            )
        ids = list(self.header(instruction))
        types = [MM_TEXT] * len(ids)
        mask = [False] * len(ids)
        spans: list[tuple[int, int]] = []

        def add(chunk: Sequence[int], kind: int = MM_TEXT, loss: bool = False) -> None:
            ids.extend(chunk)
            types.extend([kind] * len(chunk))
            mask.extend([loss] * len(chunk))

        for step, count in enumerate(image_token_counts):
            add(self._image_open)
            add([self.image_pad_id] * int(count), MM_IMAGE)
            add(self._image_close)
            add(self._assistant)
            if step == n_responses:  # the open assistant turn of a rollout prompt
                break
            response = [int(t) for t in responses[step]]
            bad = set(response).intersection(self.vision_token_ids)
            if bad:
                raise ValueError(f"response {step} holds vision token ids {sorted(bad)}")
            start = len(ids)
            add(response, loss=True)
            spans.append((start, len(ids)))
            if not response or response[-1] != self.im_end_id:
                add([self.im_end_id])  # truncated turn: closed outside the loss mask
            add(self._newline)
        return Conversation(ids, types, mask, spans, [int(c) for c in image_token_counts])
