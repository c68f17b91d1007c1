"""Reuse an episode's KV cache from one turn to the next: turn k prefills only what is new.

A UI-TARS prompt at turn k is the whole episode so far (``policy.conversation``): turn k-1's prompt,
its sampled response, then the new screenshot and the assistant header. Token for token, the
conversation of turn k-1 is a prefix of turn k's. Without reuse, every turn re-encodes every
screenshot in the vision tower and re-prefills every token: turn 5 costs about 2x turn 1 at the
UI-TARS-2B shape (``bench/step.py``). With reuse, turn k runs the vision tower on its one new
screenshot and prefills only the tokens after the cached prefix.

How:
- After a turn, each row's KV cache (``generate.decode(keep_kv=True)``: the prompt and every sampled
  token but the last, which was never fed back) is stored under the key the *next* turn's request
  will look up: (instruction, the responses so far, the screenshots so far by digest).
- A request whose key is stored, and whose conversation starts with the stored ids, reuses them
  (``prefill_with_turns``). Rows of one batch can reuse prefixes of different lengths: the cached
  KV is left-padded to the longest, and the new tokens are aligned to end in the same column, with
  padding between a short prefix and its new tokens. Every column is masked by the attention mask,
  and position ids come from the full conversation (``logprobs.rope_positions``), so each token
  sees the same keys at the same positions as in a full prefill.
- Log-probs stay exact. The cached keys and values are those a full prefill computes for the same
  tokens and positions (up to float rounding: the tests compare reuse with a full prefill, and the
  sampler with the teacher-forced pass).
- Weights change -> the cache is stale: ``Policy.set_state`` and the engines' ``update_weights``
  clear it. A learner's policy never enables it.
- Memory is bounded (``max_bytes``, 1 GiB by default, least recently used first out). At the
  UI-TARS-2B shape one token holds 28 layers x 2 x 2 KV heads x 128 x 2 bytes = 28 KiB (bf16): a
  5-turn episode of 800x450 screenshots (~2,700 tokens) holds ~76 MB.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rllib_arpo.policy.conversation import Conversation
from rllib_arpo.policy.generate import Prefilled, cache_keyword, cache_of
from rllib_arpo.policy.logprobs import pad_conversations, rope_positions

TURN_CACHE_BYTES = 1024**3
"""Default memory bound of a ``TurnCache``. An episode's last turn is never looked up again; it
stays until evicted or until new weights empty the cache (every training iteration)."""

TurnKey = tuple
"""(instruction, responses so far as id tuples, screenshot digests so far)."""


def image_digest(image) -> tuple:
    """A PIL image's identity for the cache: size, mode and a hash of its pixels."""
    return (image.size, image.mode, hashlib.blake2b(image.tobytes(), digest_size=16).digest())


def turn_key(instruction: str, history: Sequence[Sequence[int]], digests: Sequence) -> TurnKey:
    return (
        instruction,
        tuple(tuple(int(t) for t in response) for response in history),
        tuple(digests),
    )


@dataclass
class CachedTurn:
    """One episode's KV cache after a turn.

    Attributes:
        ids: The conversation prefix the cache holds, token for token.
        kv: Per layer (keys, values), each (1, H, len(ids), D).
    """

    ids: tuple[int, ...]
    kv: list[tuple[torch.Tensor, torch.Tensor]]

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + v.nbytes for k, v in self.kv)


class TurnCache:
    """Cached turns by ``TurnKey``, least recently used out first beyond ``max_bytes``."""

    def __init__(self, max_bytes: int = TURN_CACHE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"turn cache max_bytes={max_bytes}: must be >= 0")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[TurnKey, CachedTurn] = OrderedDict()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.reused_tokens = 0
        self.prefilled_tokens = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: TurnKey) -> CachedTurn | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: TurnKey, entry: CachedTurn) -> None:
        self.discard(key)
        if entry.nbytes > self.max_bytes:
            return
        self._entries[key] = entry
        self.nbytes += entry.nbytes
        while self.nbytes > self.max_bytes:
            _, oldest = self._entries.popitem(last=False)
            self.nbytes -= oldest.nbytes

    def discard(self, key: TurnKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.nbytes -= entry.nbytes

    def clear(self) -> None:
        """Forget every turn (the weights changed)."""
        self._entries.clear()
        self.nbytes = 0

    def count(self, reused: Sequence[CachedTurn | None], lengths: Sequence[int]) -> None:
        """Tally one prefill: which rows reused a turn, and the tokens reused and prefilled."""
        for entry, length in zip(reused, lengths):
            held = len(entry.ids) if entry is not None else 0
            self.hits += entry is not None
            self.misses += entry is None
            self.reused_tokens += held
            self.prefilled_tokens += length - held


def usable(entry: CachedTurn | None, conversation: Conversation) -> CachedTurn | None:
    """The entry when it holds a strict prefix of ``conversation``'s ids that does not end
    inside a screenshot's tokens (the vision tower encodes a screenshot whole), else None."""
    if entry is None or len(entry.ids) >= len(conversation):
        return None
    length = len(entry.ids)
    if conversation.mm_token_type_ids[length] and conversation.mm_token_type_ids[length - 1]:
        return None
    return entry if tuple(conversation.input_ids[:length]) == entry.ids else None


def images_in_prefix(conversation: Conversation, length: int) -> int:
    """How many screenshots start within ``conversation``'s first ``length`` tokens (all of them
    whole, for a ``usable`` prefix)."""
    types = conversation.mm_token_type_ids[:length]
    return sum(1 for i, t in enumerate(types) if t and (i == 0 or not types[i - 1]))


@torch.no_grad()
def prefill_with_turns(
    model,
    conversations: Sequence[Conversation],
    reused: Sequence[CachedTurn | None],
    image_grid_thw: torch.Tensor,
    new_pixel_values: torch.Tensor,
    new_image_grid_thw: torch.Tensor,
    *,
    pad_token_id: int,
    device: torch.device | str,
) -> Prefilled:
    """Prefill a batch where each row may start from a cached turn (``usable`` checked).

    Args:
        model: ``Qwen2(_5)_VLForConditionalGeneration``, eval mode.
        conversations: Each row's whole rollout prompt.
        reused: Per row, the cached prefix to start from, or None (prefill all of it).
        image_grid_thw: (N_images, 3) grids of every screenshot of every row, row-major (for
            the position ids).
        new_pixel_values: Patches of the screenshots outside the reused prefixes only, row-major.
        new_image_grid_thw: Their grids.
        pad_token_id: Id written on padding.
        device: The model's device.

    Returns:
        The ``Prefilled`` that ``generate.decode`` continues from.
    """
    full_ids, full_attention, full_types, _ = pad_conversations(
        conversations, pad_token_id=pad_token_id, padding_side="left"
    )
    positions = rope_positions(model, full_ids, full_types, image_grid_thw, full_attention)
    next_position = positions.amax(dim=(0, 2)) + 1  # (B,)
    prefix = [len(entry.ids) if entry is not None else 0 for entry in reused]
    new = [len(c) - p for c, p in zip(conversations, prefix)]
    width, new_width, cached_width = full_ids.shape[1], max(new), max(prefix)
    # The last `new_width` columns of the left-padded full batch; a row with fewer new tokens
    # has already-cached tokens there: they become padding (never fed twice).
    columns = slice(width - new_width, width)
    ids, attention = full_ids[:, columns].clone(), full_attention[:, columns].clone()
    types, position_ids = full_types[:, columns].clone(), positions[:, :, columns].clone()
    for row, count in enumerate(new):
        gap = new_width - count
        ids[row, :gap], attention[row, :gap], types[row, :gap] = pad_token_id, 0, 0
        position_ids[:, row, :gap] = 0
    cache = None
    if cached_width:
        cache, cache_attention = _padded_cache(reused, prefix, cached_width)
        attention = torch.cat([cache_attention, attention], dim=1)
    outputs = model(
        input_ids=ids.to(device),
        attention_mask=attention.to(device),
        position_ids=position_ids.to(device),
        pixel_values=new_pixel_values.to(device),
        image_grid_thw=new_image_grid_thw.to(device),
        mm_token_type_ids=types.to(device),
        use_cache=True,
        logits_to_keep=1,
        **({cache_keyword(model): cache} if cache is not None else {}),
    )
    return Prefilled(
        logits=outputs.logits[:, -1, :],
        cache=cache_of(outputs),
        attention=attention.to(device),
        next_position=next_position.to(device),
    )


def _padded_cache(
    reused: Sequence[CachedTurn | None], prefix: Sequence[int], width: int
) -> tuple[object, torch.Tensor]:
    """A ``DynamicCache`` of the reused prefixes, each left-padded to ``width`` columns, and
    its (B, width) attention mask (0 on the padding)."""
    from transformers import DynamicCache

    template = next(entry for entry in reused if entry is not None)
    rows = len(reused)
    attention = torch.zeros((rows, width), dtype=torch.long)
    layers = []
    for layer, (keys, values) in enumerate(template.kv):
        _, heads, _, dim = keys.shape
        device = keys.device
        padded_keys = torch.zeros((rows, heads, width, dim), dtype=keys.dtype, device=device)
        padded_values = torch.zeros((rows, heads, width, dim), dtype=values.dtype, device=device)
        for row, entry in enumerate(reused):
            if entry is None:
                continue
            start = width - prefix[row]
            padded_keys[row, :, start:] = entry.kv[layer][0][0]
            padded_values[row, :, start:] = entry.kv[layer][1][0]
        layers.append((padded_keys, padded_values))
    for row, length in enumerate(prefix):
        if length:
            attention[row, width - length :] = 1
    return DynamicCache(ddp_cache_data=layers), attention
