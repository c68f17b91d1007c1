"""What the rollout engines share: the settings record, the version rule, batching, and the
prompt the vLLM engines send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rllib_arpo.policy.generate import SamplingParams

ENGINE_KINDS = ("hf", "vllm", "openai")
"""What ``ARPOConfig.engine`` may name."""
WEIGHT_TRANSFERS = ("object_store", "nccl", "gloo")
"""What ``ARPOConfig.weight_transfer`` may name: the object store (any engine), or a collective
broadcast from the learner into vLLM's workers (``vllm_transfer``: nccl on GPUs, gloo on CPUs)."""


@dataclass(frozen=True)
class EngineSettings:
    """What it takes to build an engine (a plain, picklable record: Ray ships it to actors).

    Attributes:
        kind: One of ``ENGINE_KINDS``.
        checkpoint_path: Local checkpoint directory (the trainer's ``policy_path``, resolved).
        sampling: How rollouts sample (training: the policy softmax, T=1, top_k=0, top_p=1).
        dtype: "float32", "bfloat16", ...; None = bf16 on GPU, fp32 on CPU.
        device: "cpu", "cuda", ...; None = cuda when available.
        min_pixels: Lower pixel bound per screenshot (must equal the trainer's).
        max_pixels: Upper pixel bound per screenshot (must equal the trainer's).
        lora: LoRA settings ({"r", "alpha"}) when the trainer trains an adapter; None = full.
        quantization: The base's quantization (hf: "nf4"/"int8"; vllm: "bitsandbytes").
        max_batch: Most requests per generation call (requests beyond wait for the next).
        tensor_parallel_size: GPUs one engine shards its model over (vllm).
        seed: Sampling seed (None: nondeterministic).
        url: The server's base URL (openai).
        model: The served model name (openai).
        options: Extra keyword arguments of the engine (vllm: ``vllm.LLM(...)`` arguments such
            as ``gpu_memory_utilization`` or ``max_model_len``).
        weight_transfer: How full weights arrive (vllm): "object_store" (a file in shared
            memory, one node) or a collective broadcast from the learner, "nccl" (GPUs) or
            "gloo" (CPUs): ``vllm_transfer``.
    """

    kind: str = "hf"
    checkpoint_path: str = ""
    sampling: SamplingParams = field(default_factory=SamplingParams)
    dtype: str | None = None
    device: str | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    lora: dict | None = None
    quantization: str | None = None
    max_batch: int = 64
    tensor_parallel_size: int = 1
    seed: int | None = None
    url: str | None = None
    model: str = "ui-tars"
    options: dict = field(default_factory=dict)
    weight_transfer: str = "object_store"


def check_newer(current: int, offered: int) -> None:
    """Versions only go up: loading an older version than the one served is a bug upstream."""
    if offered < current:
        raise ValueError(
            f"weight version {offered} is older than the version served ({current}); "
            "versions are monotonic"
        )


def single_pad_prompt(builder: Any, request: Any) -> list[int]:
    """A request's prompt ids for a vLLM engine: the learner's conversation
    (``ConversationBuilder``) with ONE ``<|image_pad|>`` per screenshot, which vLLM's Qwen2-VL
    processor expands to the image's token count by the same ``smart_resize``."""
    return builder.build(
        request.instruction,
        [1] * len(request.screenshots),
        request.previous_responses,
        add_generation_prompt=True,
    ).input_ids


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """``items`` in consecutive pieces of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now, for a server or rendezvous store about to bind it."""
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
