"""ARPOTorchLearner: teacher-forced log-probs of whole trajectories -> core.loss -> AdamW step.

A minibatch (one optimizer step) arrives as a batch with three columns: ``trajectories`` (the
shared ``Trajectory`` records, object array), ``advantages`` (N,) and ``old_logp`` (object array
of per-trajectory flat log-prob arrays: the sampler's, or recomputed for replayed trajectories).
It is split into micro-batches by a token budget; each micro-batch's loss is normalized by the
whole minibatch's count (``core.loss`` ``normalizer``) and back-propagated at once, so gradients
accumulate to exactly the minibatch gradient while only one micro-batch's activations are alive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from ray.rllib.core.learner.torch.torch_learner import TorchLearner
from ray.rllib.utils.annotations import override

from rllib_arpo.core import metrics as M
from rllib_arpo.core.loss import (
    aggregate_token_loss,
    arpo_policy_loss,
    minibatch_normalizer,
    reference_kl_loss,
)
from rllib_arpo.core.trajectory import Trajectory
from rllib_arpo.policy.logprobs import pad_rows

logger = logging.getLogger(__name__)

TRAJECTORIES = "trajectories"
ADVANTAGES = "advantages"
OLD_LOGP = "old_logp"
IS_WEIGHT = "is_weight"
"""Optional column: per-trajectory flat truncated importance weights (``core.mismatch``)."""


def trajectory_input(trajectory: Trajectory) -> Any:
    """The policy's teacher-forced input for one record (screenshots stay PNG bytes)."""
    from rllib_arpo.policy.model import TrajectoryInput

    return TrajectoryInput(
        trajectory.instruction,
        [step.screenshot_png for step in trajectory.steps],
        [step.response_token_ids for step in trajectory.steps],
    )


class ARPOTorchLearner(TorchLearner):
    """Learner for ARPO: clip-higher + dual-clip token loss over whole multi-turn trajectories."""

    @override(TorchLearner)
    def configure_optimizers_for_module(self, module_id: str, config: Any = None) -> None:
        module = self._module[module_id]
        params = [p for p in self.get_parameters(module) if p.requires_grad]
        optimizer = torch.optim.AdamW(params, weight_decay=config.weight_decay)
        self.register_optimizer(
            module_id=module_id,
            optimizer=optimizer,
            params=params,
            lr_or_lr_schedule=config.lr,
        )

    # ------------------------------------------------------------------------------ helpers

    def _policy(self, module_id: str) -> Any:
        module = self.module[module_id]
        module = module.unwrapped() if hasattr(module, "unwrapped") else module
        return module.policy

    def _reference_policy(self, module_id: str) -> Any:
        """A frozen copy of the initial policy, loaded once when ``kl_coeff > 0``."""
        if getattr(self, "_frozen_reference", None) is None:
            from rllib_arpo.policy.load import load_policy

            model_config = self.config.policy_model_config()
            live = self._policy(module_id)
            self._frozen_reference = load_policy(
                model_config["checkpoint_path"],
                dtype=live.dtype,
                device=live.device,
                quantization=model_config["quantization"],
            )
            self._frozen_reference.model.requires_grad_(False)
        return self._frozen_reference

    def policy_dtype_name(self, module_id: str = "default_policy") -> str:
        """The dtype the policy trains in ("float32", "bfloat16", ...)."""
        return str(self._policy(module_id).dtype).removeprefix("torch.")

    def score_trajectories(
        self, trajectories: Sequence[Trajectory], module_id: str = "default_policy"
    ) -> list[np.ndarray]:
        """Per-trajectory flat log-probs of the sampled tokens under the current weights.

        Used before an iteration's updates to recompute old log-probs of replayed trajectories
        (and of all trajectories when ``recompute_old_logp``), and to score replay entries in
        the "surprise" priority mode.
        """
        if not trajectories:
            return []
        policy = self._policy(module_id)
        with torch.no_grad():
            results = policy.trajectory_logprobs(
                [trajectory_input(t) for t in trajectories],
                temperature=self.config.temperature,
                token_budget=self.config.micro_batch_tokens,
            )
        return [r.flat_logp().float().cpu().numpy() for r in results]

    def weights_seq_no(self) -> int:
        """RLlib's weights sequence number: learner updates so far (what env runners holding
        weights record as the version of a sync)."""
        return int(self._weights_seq_no)

    # ------------------------------------------------------------------------------ weight transfer

    def open_weight_transfer(
        self, backend: str, client: Any, module_id: str = "default_policy"
    ) -> None:
        """Join the engines' workers in one process group, this learner at rank 0
        (``rollout.engines.vllm_transfer``; rank 0 of data-parallel learners only)."""
        import ray

        from rllib_arpo.rollout.engines.vllm_transfer import StateSource, open_trainer_endpoint

        policy = self._policy(module_id)
        self._transfer = open_trainer_endpoint(
            backend,
            ray.util.get_node_ip_address(),
            client,
            StateSource(lambda: policy.get_state(live=True)),
        )

    def send_weights(self, version: int) -> int:
        """Broadcast the live weights to every engine as ``version``; returns the bytes sent."""
        self._transfer.client.version = version
        self._transfer.send_weights()
        return self._transfer.source.nbytes()

    # ------------------------------------------------------------------------------ update

    @override(TorchLearner)
    def _update(self, batch: dict[str, Any], **kwargs: Any) -> tuple[Any, Any, Any]:
        started = time.perf_counter()
        for optimizer in self._optimizer_parameters:
            optimizer.zero_grad(set_to_none=True)
        loss_per_module: dict[str, torch.Tensor] = {}
        for module_id, columns in batch.items():
            loss_per_module[module_id] = self._accumulate_gradients(module_id, columns)
        self._all_reduce_gradients()
        gradients = {pid: p.grad for pid, p in self._params.items() if p.grad is not None}
        postprocessed = self.postprocess_gradients(gradients)
        self.apply_gradients(postprocessed)
        for module_id in batch:
            self.metrics.log_value(
                (module_id, M.TIME_LEARNER_COMPUTE_S), time.perf_counter() - started, reduce="sum"
            )
        return {}, loss_per_module, {}

    def _accumulate_gradients(self, module_id: str, columns: dict[str, Any]) -> torch.Tensor:
        policy = self._policy(module_id)
        config = self.config
        trajectories: list[Trajectory] = list(columns[TRAJECTORIES])
        advantages = torch.as_tensor(columns[ADVANTAGES], dtype=torch.float32)
        old_logps = [torch.as_tensor(np.asarray(x, dtype=np.float32)) for x in columns[OLD_LOGP]]
        is_weights = (
            [torch.as_tensor(np.asarray(x, dtype=np.float32)) for x in columns[IS_WEIGHT]]
            if IS_WEIGHT in columns
            else None
        )
        token_counts = [int(x.numel()) for x in old_logps]
        normalizer = minibatch_normalizer(token_counts, config.loss_aggregation)
        total = torch.zeros((), device=policy.device)
        inputs = [trajectory_input(t) for t in trajectories]
        for indices, results in policy.iter_trajectory_logprobs(
            inputs, temperature=config.temperature, token_budget=config.micro_batch_tokens
        ):
            logp_rows = [r.flat_logp().float() for r in results]
            for index, row in zip(indices, logp_rows):
                if row.numel() != token_counts[index]:
                    raise RuntimeError(
                        f"trajectory {trajectories[index].episode_id}: teacher-forced pass gave "
                        f"{row.numel()} log-probs for {token_counts[index]} sampled tokens"
                    )
            logp, loss_mask = pad_rows(logp_rows)
            device = logp.device
            old_logp, _ = pad_rows([old_logps[i].to(device) for i in indices])
            fwd_out = {
                "logp": logp,
                # Entropy is always logged; it carries gradient only with an entropy bonus.
                "entropy": pad_rows(
                    [
                        r.flat_entropy().float()
                        if config.entropy_coeff > 0
                        else r.flat_entropy().float().detach()
                        for r in results
                    ]
                )[0],
            }
            if config.kl_coeff > 0:
                with torch.no_grad():
                    reference = self._reference_policy(module_id).trajectory_logprobs(
                        [inputs[i] for i in indices], temperature=config.temperature
                    )
                fwd_out["ref_logp"] = pad_rows(
                    [r.flat_logp().float().to(device) for r in reference]
                )[0]
            micro_batch = {
                "old_logp": old_logp,
                "advantages": advantages[list(indices)].to(device),
                "loss_mask": loss_mask,
                "normalizer": normalizer,
            }
            if is_weights is not None:
                micro_batch["is_weight"] = pad_rows([is_weights[i].to(device) for i in indices])[0]
            loss = self.compute_loss_for_module(
                module_id=module_id, config=config, batch=micro_batch, fwd_out=fwd_out
            )
            loss.backward()
            total = total + loss.detach()
        return total

    def _all_reduce_gradients(self) -> None:
        """Average gradients over learners (no DDP forward is involved in our passes)."""
        if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            return
        world = torch.distributed.get_world_size()
        if world <= 1:
            return
        for param in self._params.values():
            if param.grad is None:
                param.grad = torch.zeros_like(param)
            torch.distributed.all_reduce(param.grad)
            param.grad /= world

    @override(TorchLearner)
    def compute_loss_for_module(
        self, *, module_id: str, config: Any, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        """ARPO's loss of one micro-batch: clipped surrogate (+ optional KL, - entropy bonus)."""
        aggregation = config.loss_aggregation
        normalizer = batch["normalizer"]
        loss, metrics = arpo_policy_loss(
            fwd_out["logp"],
            batch["old_logp"],
            batch["advantages"],
            batch["loss_mask"],
            clip_ratio_low=config.clip_ratio_low,
            clip_ratio_high=config.clip_ratio_high,
            dual_clip_ratio=config.dual_clip_ratio,
            aggregation=aggregation,
            normalizer=normalizer,
            is_weight=batch.get("is_weight"),
        )
        entropy = aggregate_token_loss(
            fwd_out["entropy"], batch["loss_mask"], aggregation, normalizer
        )
        total = loss
        if config.entropy_coeff > 0:
            total = total - config.entropy_coeff * entropy
        if config.kl_coeff > 0:
            kl = reference_kl_loss(
                fwd_out["logp"], fwd_out["ref_logp"], batch["loss_mask"], aggregation, normalizer
            )
            total = total + config.kl_coeff * kl
            self.metrics.log_value((module_id, M.LOSS_REF_KL), kl.item(), reduce="sum")
        for key, value in metrics.items():
            self.metrics.log_value((module_id, key), float(value), window=1000)
        self.metrics.log_value((module_id, M.LOSS_ENTROPY), entropy.item(), reduce="sum")
        self.metrics.log_value((module_id, M.LOSS_POLICY), loss.item(), reduce="sum")
        return total
