"""Batched sampling with the policy's own softmax and exact per-token log-probs.

A plain KV-cache loop over the model's forward rather than ``generate()``: every step draws from
``policy_log_probs`` (the distribution the teacher-forced pass scores), with the position ids of
``logprobs.collate`` continued one per token, so nothing between sampling and scoring can drift
(generation configs of real checkpoints carry top_p, repetition penalties and such).

Rows are left-padded; a row that emitted an end token leaves the batch and the KV cache, so the
remaining rows decode without carrying it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rllib_arpo.policy.logprobs import ModelBatch, policy_log_probs


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one response.

    Attributes:
        temperature: Softmax temperature; 0 = greedy (log-probs then scored at T = 1). Training
            rollouts use the policy's own softmax (T = 1, top_k = 0, top_p = 1).
        top_k: Keep the k most likely tokens when sampling (0 = all). Log-probs are always those
            of the full policy softmax at ``temperature``.
        top_p: Nucleus sampling mass (1.0 = all).
        max_new_tokens: Longest response; a response cut here has no ``<|im_end|>``.
        min_new_tokens: End tokens are not sampled before this many tokens (benchmarks use it
            for fixed-length responses; log-probs stay those of the full policy softmax).
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    max_new_tokens: int = 128
    min_new_tokens: int = 0

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not 0 <= self.min_new_tokens <= self.max_new_tokens:
            raise ValueError(
                f"min_new_tokens must be in [0, max_new_tokens={self.max_new_tokens}], "
                f"got {self.min_new_tokens}"
            )

    @property
    def is_policy_softmax(self) -> bool:
        """True when samples come from exactly the scored distribution (training rollouts)."""
        return (
            self.temperature > 0
            and self.top_k == 0
            and self.top_p >= 1.0
            and self.min_new_tokens == 0
        )


def cache_keyword(model: torch.nn.Module) -> str:
    """The forward's KV-cache argument: ``cache`` in transformers 5.24 (the project's pin),
    ``past_key_values`` in 5.19 (the vLLM venv's; docs/engines.md)."""
    import inspect

    parameters = inspect.signature(type(model).forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def cache_of(outputs) -> object:
    cache = getattr(outputs, "cache", None)
    return cache if cache is not None else outputs.past_key_values


def _filter_for_sampling(
    log_probs: torch.Tensor, params: SamplingParams, step: int, eos: torch.Tensor
) -> torch.Tensor:
    # Truncations of the sampling distribution outside training (min length, top-k, top-p).
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype, device=log_probs.device)
    out = log_probs
    if step < params.min_new_tokens:
        out = out.index_fill(-1, eos, float("-inf"))
    if params.top_k > 0:
        k = min(params.top_k, out.shape[-1])
        kth = torch.topk(out, k, dim=-1).values[..., -1:]
        out = torch.where(out < kth, neg_inf, out)
    if params.top_p < 1.0:
        sorted_lp, order = torch.sort(out, descending=True, dim=-1)
        cumulative = sorted_lp.exp().cumsum(-1)
        drop_sorted = (cumulative - sorted_lp.exp()) > params.top_p  # keep the first over p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        out = torch.where(drop, neg_inf, out)
    return out


@dataclass
class Prefilled:
    """What decoding starts from: the prompt's last logits and its KV cache.

    Attributes:
        logits: (B, V) logits at each row's last prompt token.
        cache: The KV cache of every prompt column (a transformers ``Cache``).
        attention: (B, L_kv) 1 on the cache columns that hold a token of the row, 0 on padding.
        next_position: (B,) position of each row's first new token, on all 3 mrope axes (the
            prompt ends in text, so it is one past the row's largest position).
    """

    logits: torch.Tensor
    cache: object
    attention: torch.Tensor
    next_position: torch.Tensor


@dataclass
class Decoded:
    """Sampled responses, and when asked for, each row's KV cache at the end.

    Attributes:
        tokens: Per row, the sampled ids (the end token included when there is one).
        logprobs: Per row, the log-prob of each sampled id under the policy softmax.
        finished: Per row, False when it hit ``max_new_tokens`` without an end token.
        row_kv: Per row (when ``keep_kv``), per layer ``(keys, values)`` of shape (1, H, n, D):
            the row's cache without padding, through its second-to-last sampled token (the last
            one was never fed back). None otherwise.
    """

    tokens: list[list[int]]
    logprobs: list[list[float]]
    finished: list[bool]
    row_kv: list[list[tuple[torch.Tensor, torch.Tensor]]] | None = None


def cache_layers(cache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(keys, values) of each layer of a transformers ``DynamicCache``, each (B, H, L, D)."""
    return [(layer.keys, layer.values) for layer in cache.layers]


def row_kv(cache, row: int, attention_row: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One row's KV without its padding columns: per layer (1, H, n, D) copies."""
    columns = torch.nonzero(attention_row).squeeze(-1)
    return [
        (keys[row : row + 1, :, columns], values[row : row + 1, :, columns])
        for keys, values in cache_layers(cache)
    ]


@torch.no_grad()
def prefill(model, batch: ModelBatch) -> Prefilled:
    """The forward over a left-padded prompt batch (``logprobs.collate``)."""
    outputs = model(**batch.model_inputs(), use_cache=True, logits_to_keep=1)
    return Prefilled(
        logits=outputs.logits[:, -1, :],
        cache=cache_of(outputs),
        attention=batch.attention_mask,
        next_position=batch.position_ids.amax(dim=(0, 2)) + 1,
    )


@torch.no_grad()
def sample(
    model,
    batch: ModelBatch,
    params: SamplingParams,
    *,
    suppress_mask: torch.Tensor,
    eos_token_ids: tuple[int, ...],
    generator: torch.Generator | None = None,
    expand: list[int] | None = None,
) -> tuple[list[list[int]], list[list[float]], list[bool]]:
    """Sample one response per row of a left-padded batch (``prefill`` then ``decode``).

    Args:
        model: ``Qwen2(_5)_VLForConditionalGeneration`` (LoRA layers included), eval mode.
        batch: From ``logprobs.collate(..., padding_side="left")``.
        params, suppress_mask, eos_token_ids, generator, expand: As in ``decode``.

    Returns:
        (token ids, log-probs, finished) per row; ``finished`` is False when the row hit
        ``max_new_tokens`` without an end token.
    """
    decoded = decode(
        model,
        prefill(model, batch),
        params,
        suppress_mask=suppress_mask,
        eos_token_ids=eos_token_ids,
        generator=generator,
        expand=expand,
    )
    return decoded.tokens, decoded.logprobs, decoded.finished


@torch.no_grad()
def decode(
    model,
    start: Prefilled,
    params: SamplingParams,
    *,
    suppress_mask: torch.Tensor,
    eos_token_ids: tuple[int, ...],
    generator: torch.Generator | None = None,
    expand: list[int] | None = None,
    keep_kv: bool = False,
) -> Decoded:
    """Sample one response per row, one token per forward, from a prefilled batch.

    Args:
        model: ``Qwen2(_5)_VLForConditionalGeneration`` (LoRA layers included), eval mode.
        start: ``prefill`` output (or a prefill that reused cached turns: ``policy.turn_cache``).
        params: Sampling settings (one set for the batch).
        suppress_mask: (V,) bool, ids never sampled (vision tokens, ids past the tokenizer).
        eos_token_ids: Ids that end a response (kept as its last token).
        generator: Random source (CPU generator for CPU models).
        expand: Output row -> batch row, when identical prompts were prefilled once: after the
            prefill the KV cache and logits fan out to one row per output (each samples on its own).
        keep_kv: Return each row's KV cache (``Decoded.row_kv``), taken as the row finishes.
    """
    rows = start.logits.shape[0]
    device = start.logits.device
    eos = torch.tensor(eos_token_ids, device=device)
    cache, attention, next_position, logits = (
        start.cache,
        start.attention,
        start.next_position,
        start.logits,
    )
    keyword = cache_keyword(model)
    if expand is not None:
        fan_out = torch.tensor(expand, dtype=torch.long, device=device)
        cache.batch_select_indices(fan_out)
        attention, next_position, logits = (
            attention[fan_out],
            next_position[fan_out],
            logits[fan_out],
        )
        rows = len(expand)
    tokens = torch.zeros((rows, params.max_new_tokens), dtype=torch.long, device=device)
    logps = torch.zeros((rows, params.max_new_tokens), dtype=torch.float32, device=device)
    done = torch.zeros(rows, dtype=torch.bool, device=device)
    lengths = torch.full((rows,), params.max_new_tokens, dtype=torch.long, device=device)
    active = torch.arange(rows, device=device)  # original row of each row still decoding
    kept: list = [None] * rows

    def keep(batch_rows: torch.Tensor) -> None:
        for batch_row in batch_rows.tolist():
            kept[int(active[batch_row])] = row_kv(cache, batch_row, attention[batch_row])

    for step in range(params.max_new_tokens):
        log_probs = policy_log_probs(logits, params.temperature, suppress_mask)  # (b, V)
        draw = (
            log_probs
            if params.is_policy_softmax
            else _filter_for_sampling(log_probs, params, step, eos)
        )
        if params.temperature == 0:
            token = draw.argmax(-1)
        else:
            probs = draw.exp()
            if (
                probs.device.type != "cpu"
                and generator is not None
                and generator.device.type == "cpu"
            ):
                token = (
                    torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(-1).to(device)
                )
            else:
                token = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        tokens[active, step] = token
        logps[active, step] = log_probs.gather(-1, token.unsqueeze(-1)).squeeze(-1)
        ended = torch.isin(token, eos)  # (b,)
        lengths[active[ended]] = step + 1
        done[active[ended]] = True
        if bool(done.all()) or step + 1 == params.max_new_tokens:
            break
        if bool(ended.any()):
            # Finished rows leave the batch (and the KV cache): no work is spent on them.
            if keep_kv:
                keep(torch.nonzero(ended).squeeze(-1))
            stay = torch.nonzero(~ended).squeeze(-1)
            cache.batch_select_indices(stay)
            attention, next_position = attention[stay], next_position[stay]
            token, active = token[stay], active[stay]
        live = active.numel()
        attention = torch.cat(
            [attention, torch.ones((live, 1), dtype=attention.dtype, device=device)], 1
        )
        position = (next_position + step).view(1, live, 1).expand(3, live, 1)
        outputs = model(
            input_ids=token.unsqueeze(-1),
            attention_mask=attention,
            position_ids=position,
            use_cache=True,
            logits_to_keep=1,
            **{keyword: cache},
        )
        cache = cache_of(outputs)
        logits = outputs.logits[:, -1, :]
    if keep_kv:
        keep(torch.arange(active.numel(), device=device))
    lengths_list = lengths.tolist()
    return Decoded(
        tokens=[tokens[r, : lengths_list[r]].tolist() for r in range(rows)],
        logprobs=[logps[r, : lengths_list[r]].tolist() for r in range(rows)],
        finished=done.tolist(),
        row_kv=kept if keep_kv else None,
    )
