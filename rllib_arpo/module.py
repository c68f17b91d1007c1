"""VLMTorchRLModule: the RLlib RLModule over the vision-language policy (``rllib_arpo.policy``).

Built in ``setup()`` from ``model_config`` (see ``VLMModuleConfig``); the constructor is RLlib's.

Batches (plain Python objects: screenshots and token lists do not fit fixed-shape spaces):
- ``forward_exploration`` / ``forward_inference``: ``batch[Columns.OBS]`` is a sequence of
  generation requests (``policy.GenerationRequest`` or dicts with ``instruction``, ``screenshots``,
  ``history``). Returns ``Columns.ACTIONS`` (object ndarray of response strings),
  ``Columns.ACTION_LOGP`` (float32, sum over the response's tokens) and extra outputs
  ``TOKEN_IDS`` / ``TOKEN_LOGP`` (object ndarrays of per-token int32 / float32 arrays) and
  ``FINISHED`` (bool: ended with an end token). Exploration samples from the policy softmax
  (T=1, top_k=0, top_p=1 by default); inference uses ``inference_sampling`` (greedy by default).
- ``forward_train``: ``batch[TRAJECTORIES]`` is a sequence of trajectories (``TrajectoryInput``,
  dicts, or records with ``instruction`` and ``steps``). Returns ``LOGP`` and ``ENTROPY`` (B, T)
  and ``LOSS_MASK`` (B, T) bool, where row b holds trajectory b's response tokens, turn after
  turn, left-aligned (the order of its stored sampler log-probs concatenated).

State: ``get_state`` returns torch tensors (bf16 passes through; RLlib's default would convert to
numpy and fail on bf16). With LoRA it is the adapter only; the base comes from the checkpoint
path in ``model_config``, on every worker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.typing import StateDict

from rllib_arpo.policy.generate import SamplingParams
from rllib_arpo.policy.load import load_policy
from rllib_arpo.policy.logprobs import DEFAULT_TOKEN_BUDGET, pad_rows
from rllib_arpo.policy.lora import LoraSpec

TRAJECTORIES = "trajectories"
TOKEN_IDS = "token_ids"
TOKEN_LOGP = "token_logp"
FINISHED = "finished"
LOGP = "logp"
ENTROPY = "entropy"
LOSS_MASK = "loss_mask"
STATE_KEY = "policy"


@dataclass
class VLMModuleConfig:
    """What ``model_config`` holds (a dict with these keys; unknown keys are an error).

    Attributes:
        checkpoint_path: Local Qwen2-VL/Qwen2.5-VL checkpoint directory (or a tiny one).
        dtype: "float32", "bfloat16", ...; None = bf16 on CUDA, fp32 on CPU.
        quantization: None, "nf4" or "int8" (see ``policy.lora``).
        lora: LoRA settings (``LoraSpec`` fields as a dict) or None for full fine-tuning.
        device: "cpu", "cuda", ...; None = cuda when available.
        attn_implementation: "sdpa", "eager", "flash_attention_2"; None = automatic.
        min_pixels: Image processor lower bound override.
        max_pixels: Image processor upper bound override (memory lever).
        activation_checkpointing: Recompute decoder activations in the backward pass.
        token_budget: Padded tokens per micro-batch of the teacher-forced pass.
        exploration_sampling: ``SamplingParams`` fields for rollouts (default: policy softmax).
        inference_sampling: ``SamplingParams`` fields for evaluation (default: greedy).
        train_temperature: Temperature of the teacher-forced pass (the rollouts' temperature).
        seed: Seed of the sampling generator (None = nondeterministic).
    """

    checkpoint_path: str = ""
    dtype: str | None = None
    quantization: str | None = None
    lora: dict | None = None
    device: str | None = None
    attn_implementation: str | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    activation_checkpointing: bool = False
    token_budget: int = DEFAULT_TOKEN_BUDGET
    exploration_sampling: dict = field(default_factory=dict)
    inference_sampling: dict = field(default_factory=lambda: {"temperature": 0.0})
    train_temperature: float = 1.0
    seed: int | None = None

    @classmethod
    def from_dict(cls, values: dict | None) -> VLMModuleConfig:
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown VLMTorchRLModule model_config keys {unknown}; valid: {sorted(known)}"
            )
        config = cls(**values)
        if not config.checkpoint_path:
            raise ValueError("VLMTorchRLModule needs model_config['checkpoint_path']")
        return config


class VLMTorchRLModule(TorchRLModule):
    """RLlib RLModule over ``rllib_arpo.policy.Policy`` (see the module docstring)."""

    @override(TorchRLModule)
    def setup(self) -> None:
        model_config = self.model_config
        if dataclasses.is_dataclass(model_config):
            model_config = dataclasses.asdict(model_config)
        self.vlm_config = VLMModuleConfig.from_dict(model_config)
        cfg = self.vlm_config
        self.policy = load_policy(
            cfg.checkpoint_path,
            dtype=cfg.dtype,
            quantization=cfg.quantization,
            lora=LoraSpec(**cfg.lora) if cfg.lora is not None else None,
            device=cfg.device,
            attn_implementation=cfg.attn_implementation,
            min_pixels=cfg.min_pixels,
            max_pixels=cfg.max_pixels,
            activation_checkpointing=cfg.activation_checkpointing,
        )
        # Registered as a submodule: .parameters(), .train()/.eval() and .to() reach it.
        self.vlm = self.policy.model
        self.exploration_params = SamplingParams(**cfg.exploration_sampling)
        self.inference_params = SamplingParams(**cfg.inference_sampling)
        self.policy.set_seed(cfg.seed)

    # ------------------------------------------------------------------------------ forwards

    def _generate(self, batch: dict[str, Any], params: SamplingParams) -> dict[str, Any]:
        requests = []
        for item in batch[Columns.OBS]:
            if isinstance(item, dict) and "sampling" not in item:
                item = {**item, "sampling": params}
            elif hasattr(item, "sampling") and item.sampling is None:
                item = dataclasses.replace(item, sampling=params)
            requests.append(item)
        results = self.policy.generate(requests)
        actions = np.empty(len(results), dtype=object)
        token_ids = np.empty(len(results), dtype=object)
        token_logp = np.empty(len(results), dtype=object)
        for i, result in enumerate(results):
            actions[i] = result.text
            token_ids[i] = np.asarray(result.token_ids, dtype=np.int32)
            token_logp[i] = np.asarray(result.logprobs, dtype=np.float32)
        return {
            Columns.ACTIONS: actions,
            Columns.ACTION_LOGP: np.asarray([lp.sum() for lp in token_logp], dtype=np.float32),
            TOKEN_IDS: token_ids,
            TOKEN_LOGP: token_logp,
            FINISHED: np.asarray([r.finished for r in results], dtype=bool),
        }

    @override(TorchRLModule)
    def _forward_inference(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        return self._generate(batch, self.inference_params)

    @override(TorchRLModule)
    def _forward_exploration(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        return self._generate(batch, self.exploration_params)

    @override(TorchRLModule)
    def _forward_train(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        results = self.policy.trajectory_logprobs(
            batch[TRAJECTORIES],
            temperature=self.vlm_config.train_temperature,
            token_budget=self.vlm_config.token_budget,
        )
        logp, loss_mask = pad_rows([r.flat_logp().float() for r in results])  # (B, T)
        entropy, _ = pad_rows([r.flat_entropy().float() for r in results])  # (B, T)
        return {LOGP: logp, ENTROPY: entropy, LOSS_MASK: loss_mask}

    @override(TorchRLModule)
    def _forward(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        return self._forward_inference(batch, **kwargs)

    # --------------------------------------------------------------------------------- state

    @override(TorchRLModule)
    def get_state(
        self,
        components: str | Collection[str] | None = None,
        *,
        not_components: str | Collection[str] | None = None,
        inference_only: bool = False,
        **kwargs,
    ) -> StateDict:
        """``{"policy": {name: torch.Tensor}}``: the adapter with LoRA, else all weights."""
        return {STATE_KEY: self.policy.get_state()}

    @override(TorchRLModule)
    def set_state(self, state: StateDict) -> None:
        if STATE_KEY in state:
            self.policy.set_state(state[STATE_KEY])

    def sync_bytes(self) -> int:
        """Bytes one weight sync ships (the ``get_state`` tensors)."""
        return sum(t.numel() * t.element_size() for t in self.policy.get_state().values())


def vlm_module_spec(
    model_config: dict,
    *,
    observation_space: gym.Space | None = None,
    action_space: gym.Space | None = None,
) -> RLModuleSpec:
    """An ``RLModuleSpec`` for ``VLMTorchRLModule``.

    The module reads neither space (observations are requests, actions are strings); RLlib wants
    them set, so gymnasium ``Text`` placeholders fill in when not given.
    """
    VLMModuleConfig.from_dict(model_config)  # fail early on bad keys
    return RLModuleSpec(
        module_class=VLMTorchRLModule,
        observation_space=observation_space or gym.spaces.Text(max_length=1 << 16),
        action_space=action_space or gym.spaces.Text(max_length=1 << 16),
        model_config=dict(model_config),
    )
