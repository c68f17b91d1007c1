"""Exact per-token log-probs: batch assembly, position ids, the policy softmax, the teacher-forced pass.

The recipe that makes the sampler's log-probs and a fresh forward agree to about 1e-6 (fp32):
1. the same token ids (``conversation.build_conversation``) and 3-D position ids: computed here,
   by the model's own ``get_rope_index`` over the unpadded tokens (``mm_token_type_ids`` given),
   and passed explicitly to every forward, in sampling and in training;
2. the policy softmax is ``log_softmax(where(suppressed, -inf, logits / T))``, in fp32, both paths
   (``policy_log_probs``); sampling draws from exactly this distribution (top_k=0, top_p=1);
3. ``torch.where``, never ``x * mask``, wherever -inf can occur;
4. logits only where needed (``logits_to_keep`` in sampling; the hidden states of response
   positions through ``lm_head`` in training), so a 152k vocabulary never meets a 10k context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.utils.checkpoint

from rllib_arpo.policy.conversation import Conversation

DEFAULT_TOKEN_BUDGET = 32_768
"""Padded tokens per micro-batch of the teacher-forced pass (batch rows x longest row)."""
LOGIT_CHUNK_TOKENS = 2048
"""Response positions pushed through ``lm_head`` at once (bounds the (tokens, vocab) logits)."""


@dataclass
class ModelBatch:
    """Padded tensors for one forward over several conversations.

    Attributes:
        input_ids: (B, L) long.
        attention_mask: (B, L) long, 0 on padding.
        mm_token_type_ids: (B, L) int.
        position_ids: (3, B, L) long, mrope (temporal, height, width); 0 on padding.
        pixel_values: (N_patches, C*T*P*P) of all screenshots, row-major over the batch.
        image_grid_thw: (N_images, 3).
        offsets: Start of each conversation's tokens in its padded row.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    mm_token_type_ids: torch.Tensor
    position_ids: torch.Tensor
    pixel_values: torch.Tensor
    image_grid_thw: torch.Tensor
    offsets: list[int]

    def model_inputs(self) -> dict[str, torch.Tensor]:
        """The keyword inputs of a Qwen2(.5)-VL forward over this batch (no cache settings)."""
        return {
            "input_ids": self.input_ids,
            "attention_mask": self.attention_mask,
            "position_ids": self.position_ids,
            "pixel_values": self.pixel_values,
            "image_grid_thw": self.image_grid_thw,
            "mm_token_type_ids": self.mm_token_type_ids,
        }


def collate(
    model,
    conversations: Sequence[Conversation],
    pixel_values: Sequence[torch.Tensor],
    image_grid_thw: Sequence[torch.Tensor],
    *,
    pad_token_id: int,
    padding_side: str,
    device: torch.device | str,
) -> ModelBatch:
    """Pad conversations into one batch and compute their mrope position ids.

    Args:
        model: The ``Qwen2(_5)_VLForConditionalGeneration`` (for ``get_rope_index``).
        conversations: One per row.
        pixel_values: Each row's patches, (N_i, D).
        image_grid_thw: Each row's grids, (n_i, 3).
        pad_token_id: Id written on padding (never attended to).
        padding_side: "left" for generation, "right" for training.
        device: Where the tensors go.
    """
    input_ids, attention, types, offsets = pad_conversations(
        conversations, pad_token_id=pad_token_id, padding_side=padding_side
    )
    grids = torch.cat([g.reshape(-1, 3) for g in image_grid_thw]).to(torch.long)
    pixels = torch.cat(list(pixel_values))
    position_ids = rope_positions(model, input_ids, types, grids, attention)
    return ModelBatch(
        input_ids=input_ids.to(device),
        attention_mask=attention.to(device),
        mm_token_type_ids=types.to(device),
        position_ids=position_ids.to(device),
        pixel_values=pixels.to(device),
        image_grid_thw=grids.to(device),
        offsets=offsets,
    )


def pad_conversations(
    conversations: Sequence[Conversation], *, pad_token_id: int, padding_side: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[int]]:
    """(input_ids, attention_mask, mm_token_type_ids, offsets) of conversations padded to the
    longest, on CPU; each (B, L) and the start of each row's tokens."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    rows = len(conversations)
    width = max(len(c) for c in conversations)
    input_ids = torch.full((rows, width), pad_token_id, dtype=torch.long)
    attention = torch.zeros((rows, width), dtype=torch.long)
    types = torch.zeros((rows, width), dtype=torch.int32)
    offsets = []
    for row, conv in enumerate(conversations):
        start = width - len(conv) if padding_side == "left" else 0
        end = start + len(conv)
        input_ids[row, start:end] = torch.tensor(conv.input_ids, dtype=torch.long)
        attention[row, start:end] = 1
        types[row, start:end] = torch.tensor(conv.mm_token_type_ids, dtype=torch.int32)
        offsets.append(start)
    return input_ids, attention, types, offsets


def rope_positions(
    model,
    input_ids: torch.Tensor,
    mm_token_type_ids: torch.Tensor,
    image_grid_thw: torch.Tensor,
    attention_mask: torch.Tensor,
) -> torch.Tensor:
    """(3, B, L) mrope position ids by the model's own ``get_rope_index`` (0 on padding). Needs
    the image grids only, not the pixels."""
    position_ids, _ = inner_model(model).get_rope_index(
        input_ids,
        mm_token_type_ids=mm_token_type_ids,
        image_grid_thw=image_grid_thw,
        attention_mask=attention_mask,
    )
    return position_ids


def inner_model(model):
    """The ``Qwen2(_5)_VLModel`` inside a ``...ForConditionalGeneration`` (LoRA layers included)."""
    return model.model


def policy_log_probs(
    logits: torch.Tensor, temperature: float, suppress_mask: torch.Tensor
) -> torch.Tensor:
    """Log of the policy softmax over the vocabulary.

    ``log_softmax(where(suppress, -inf, logits / T))`` in fp32. ``temperature`` 0 (greedy) is
    scored at T = 1.

    Args:
        logits: (..., V) raw logits.
        temperature: Sampling temperature (> 0; 0 means greedy, scored at 1).
        suppress_mask: (V,) bool, True on ids the policy may not emit.

    Returns:
        (..., V) fp32 log-probs, -inf on suppressed ids.
    """
    scale = float(temperature) if temperature and temperature > 0 else 1.0
    scaled = logits.float() / scale
    neg_inf = torch.tensor(float("-inf"), dtype=scaled.dtype, device=scaled.device)
    scaled = torch.where(suppress_mask.to(scaled.device), neg_inf, scaled)
    return torch.log_softmax(scaled, dim=-1)


def token_logp_and_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float,
    suppress_mask: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-prob of each target token and the entropy of each policy distribution.

    Args:
        logits: (N, V) raw logits predicting ``targets``.
        targets: (N,) token ids.
        temperature: As in ``policy_log_probs``.
        suppress_mask: (V,) bool.

    Returns:
        logp (N,), entropy (N,), both fp32.
    """
    log_probs = policy_log_probs(logits, temperature, suppress_mask)  # (N, V)
    logp = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (N,)
    probs = log_probs.exp()
    zero = torch.zeros((), dtype=log_probs.dtype, device=log_probs.device)
    # 0 * -inf -> 0, and no NaN in backward: mask the log-probs before the product
    finite_logp = torch.where(torch.isfinite(log_probs), log_probs, zero)
    plogp = probs * finite_logp
    return logp, -plogp.sum(-1)


def micro_batches(lengths: Sequence[int], token_budget: int) -> list[list[int]]:
    """Group sequence indices so that rows x longest row <= ``token_budget`` per group.

    Sequences are sorted by length (longest first) so padding stays small; a sequence longer than
    the budget gets a group of its own.
    """
    if token_budget <= 0:
        raise ValueError(f"token_budget must be positive, got {token_budget}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    groups: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = lengths[current[0]] if current else lengths[index]
        if current and (len(current) + 1) * longest > token_budget:
            groups.append(current)
            current = []
        current.append(index)
    if current:
        groups.append(current)
    return groups


def response_logprobs(
    model,
    batch: ModelBatch,
    conversations: Sequence[Conversation],
    *,
    temperature: float,
    suppress_mask: torch.Tensor,
) -> list[tuple[list[torch.Tensor], list[torch.Tensor]]]:
    """Teacher-forced log-probs and entropies of every response token of every conversation.

    One forward of the decoder over the padded batch; only the hidden states that predict response
    tokens go through ``lm_head`` (in chunks of ``LOGIT_CHUNK_TOKENS``).

    Returns:
        Per conversation: (per-turn logp tensors, per-turn entropy tensors), each (n_tokens_turn,).
    """
    outputs = inner_model(model)(**batch.model_inputs(), use_cache=False)
    hidden = outputs.last_hidden_state  # (B, L, H)
    rows, cols, targets, sizes = [], [], [], []
    for row, conv in enumerate(conversations):
        offset = batch.offsets[row]
        for start, end in conv.response_spans:
            positions = torch.arange(offset + start - 1, offset + end - 1)
            rows.append(torch.full_like(positions, row))
            cols.append(positions)
            targets.append(torch.tensor(conv.input_ids[start:end], dtype=torch.long))
            sizes.append(end - start)
    if not sizes:
        return [([], []) for _ in conversations]
    device = hidden.device
    row_index = torch.cat(rows).to(device)
    col_index = torch.cat(cols).to(device)
    target = torch.cat(targets).to(device)
    selected = hidden[row_index, col_index]  # (N, H)
    lm_head = model.lm_head

    def score(hidden_part: torch.Tensor, target_part: torch.Tensor):
        logits = lm_head(hidden_part)  # (n, V)
        return token_logp_and_entropy(logits, target_part, temperature, suppress_mask)

    # With grad, each chunk's (n, V) logits are recomputed in the backward pass instead of kept.
    recompute = torch.is_grad_enabled() and selected.requires_grad
    logps, entropies = [], []
    for chunk in range(0, selected.shape[0], LOGIT_CHUNK_TOKENS):
        part = slice(chunk, chunk + LOGIT_CHUNK_TOKENS)
        if recompute:
            logp, entropy = torch.utils.checkpoint.checkpoint(
                score, selected[part], target[part], use_reentrant=False
            )
        else:
            logp, entropy = score(selected[part], target[part])
        logps.append(logp)
        entropies.append(entropy)
    logp_all = torch.cat(logps).split(sizes)
    entropy_all = torch.cat(entropies).split(sizes)
    out: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = []
    turn = 0
    for conv in conversations:
        n = len(conv.response_spans)
        out.append((list(logp_all[turn : turn + n]), list(entropy_all[turn : turn + n])))
        turn += n
    return out


def pad_rows(rows: Sequence[torch.Tensor], value: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad 1-D tensors into (B, T) plus the (B, T) bool mask of real entries."""
    length = max((row.numel() for row in rows), default=0)
    length = max(length, 1)
    dtype = rows[0].dtype if rows else torch.float32
    device = rows[0].device if rows else None
    out = torch.full((len(rows), length), value, dtype=dtype, device=device)
    mask = torch.zeros((len(rows), length), dtype=torch.bool, device=device)
    for index, row in enumerate(rows):
        out[index, : row.numel()] = row
        mask[index, : row.numel()] = True
    return out, mask
