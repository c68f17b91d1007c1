"""GroupEnvRunner: RLlib EnvRunner that rolls out same-task groups.

RLlib's ``SingleAgentEnvRunner`` cannot do ARPO's rollouts: it never passes
``reset(options=...)`` (so no G episodes of one task), batches text observations into garbage, and
pushes observations through connectors. This runner is thin glue over ``rollout.GroupRollout``:
it owns envs, runs the lock-step loop for the tasks the Algorithm assigns, and returns finished
``SingleAgentEpisode``s (``episodes.trajectory_to_episode``).

Where its answers come from (``ARPOConfig.num_engines``):
- 0: its own copy of the policy (the RLModule, wrapped as an ``hf`` engine); RLlib's weight sync
  reaches it, and the sync's sequence number is the weight version;
- >= 1: the engine actors the Algorithm passes to ``sample`` (``engine_actors``). The runner
  then holds no weights at all, only the processor (for the coordinate frame): a CPU process
  that drives desktops.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any

import gymnasium as gym
import ray
from ray.rllib.core import COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
from ray.rllib.env import INPUT_ENV_SINGLE_SPACES, INPUT_ENV_SPACES
from ray.rllib.env.env_context import EnvContext
from ray.rllib.env.env_runner import EnvRunner
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from ray.rllib.utils.annotations import override
from ray.rllib.utils.checkpoints import Checkpointable
from ray.rllib.utils.metrics import (
    EPISODE_RETURN_MEAN,
    NUM_ENV_STEPS_SAMPLED,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_EPISODES,
    WEIGHTS_SEQ_NO,
)
from ray.tune.registry import ENV_CREATOR, _global_registry

from rllib_arpo.core import metrics as M
from rllib_arpo.core.seeds import rollout_seed, sample_seed
from rllib_arpo.episodes import trajectory_to_episode
from rllib_arpo.module import STATE_KEY
from rllib_arpo.rollout.generation import TurnRequest, TurnResponse, WeightUpdate
from rllib_arpo.rollout.loop import GroupRollout, RolloutSettings

logger = logging.getLogger(__name__)


def make_env_creator(config: Any, worker_index: int, num_workers: int):
    """A zero-arg env factory from ``config.env`` (an RLlib-registered name or a gymnasium id)."""
    env_ctx = EnvContext(
        dict(config.env_config or {}), worker_index=worker_index, num_workers=num_workers
    )
    descriptor = config.env
    if not descriptor:
        raise ValueError("config.env is not set: call config.environment('minidesk') or similar")
    if isinstance(descriptor, str) and _global_registry.contains(ENV_CREATOR, descriptor):
        creator = _global_registry.get(ENV_CREATOR, descriptor)
        return lambda: creator(env_ctx)
    if callable(descriptor):
        return lambda: descriptor(env_ctx)
    return lambda: gym.make(descriptor, **dict(config.env_config or {}))


class GroupEnvRunner(EnvRunner, Checkpointable):
    """Samples G-episode groups of given tasks with batched VLM generation (see module doc)."""

    def __init__(self, *, config: Any, **kwargs: Any) -> None:
        super().__init__(config=config, **kwargs)
        self.worker_index = self.worker_index or 0
        self._env_factory = make_env_creator(self.config, self.worker_index, self.num_workers)
        probe_env = self._env_factory()
        self._spaces = (probe_env.observation_space, probe_env.action_space)
        self.uses_engines = self.config.num_engines > 0
        self.module = None
        self._local_engine = None
        if self.uses_engines:
            from rllib_arpo.policy.load import load_processor

            model = self.config.policy_model_config()
            self._processor = load_processor(
                model["checkpoint_path"], self.config.min_pixels, self.config.max_pixels
            )
        else:
            from rllib_arpo.rollout.engines.hf import HFEngine

            self.module = self.config.get_rl_module_spec(
                spaces={DEFAULT_MODULE_ID: self._spaces}, inference_only=True
            ).build()
            self._processor = self.module.policy.processor
            self._local_engine = HFEngine(
                self.module.policy,
                self.config.engine_settings().sampling,
                max_batch=self.config.engine_max_batch,
            )
        self._remote_generate = None
        self._weights_seq_no = 0
        self._rollout = GroupRollout(
            env_factory=self._env_factory,
            generate=self._generate,
            coordinate_space=self._coordinate_space,
            settings=RolloutSettings(
                group_size=self.config.group_size,
                max_steps=self.config.max_steps_per_episode,
                step_timeout_s=self.config.env_step_timeout_s,
                max_retries=self.config.env_max_retries,
                format_penalty_weight=self.config.format_penalty_weight,
                seed=rollout_seed(self.config.seed, self.worker_index),
            ),
        )
        self._rollout.add_idle_env(probe_env)
        self._num_samples = 0

    def default_tasks(self) -> list[Any]:
        """The env's default training task list (``env.unwrapped.default_tasks()``), if it has one."""
        env = self._rollout.idle_env()
        provider = getattr(env.unwrapped, "default_tasks", None)
        return list(provider()) if callable(provider) else []

    # ------------------------------------------------------------------------------ sampling

    def _generate(self, requests: list[TurnRequest]) -> list[TurnResponse]:
        if self._local_engine is not None:
            return self._local_engine.generate(requests)
        if self._remote_generate is None:
            raise RuntimeError(
                "this env runner samples through engine actors (num_engines >= 1), and none "
                "were passed to sample(engines=...)"
            )
        return self._remote_generate(requests)

    def _use_engines(self, engines: Sequence[Any] | None) -> None:
        if not engines:
            return
        from rllib_arpo.engine_actors import remote_generate

        handle = engines[self.worker_index % len(engines)]
        self._remote_generate = remote_generate(handle, caller=f"runner{self.worker_index}")

    def _coordinate_space(self, width: int, height: int):
        space = self._processor.coordinate_space(width, height)
        if self.config.coordinate_convention != space.convention:
            from dataclasses import replace

            space = replace(space, convention=self.config.coordinate_convention)
        return space

    @override(EnvRunner)
    def sample(
        self,
        *,
        tasks: Sequence[Any] | None = None,
        iteration: int | None = None,
        engines: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[SingleAgentEpisode]:
        """Rolls out ``group_size`` episodes of each task; returns finished episodes.

        Args:
            tasks: Task dicts or ids for ``reset(options={"task": ...})``. None: the config's
                ``tasks`` list from the start (used by RLlib's generic evaluation calls).
            iteration: The Algorithm's iteration, for unique group ids.
            engines: The engine actors' handles (``num_engines >= 1``); runner k uses engine
                k mod N.
        """
        self._use_engines(engines)
        if tasks is None:
            tasks = list(self.config.tasks or [])[: self.config.tasks_per_iteration]
        if not tasks:
            return []
        self._num_samples += 1
        prefix = (
            f"i{iteration if iteration is not None else self._num_samples}w{self.worker_index}/"
        )
        trajectories, stats = self._rollout.run(
            list(tasks),
            group_prefix=prefix,
            seed=sample_seed(self.config.seed, self.worker_index, self._num_samples),
        )
        episodes = [trajectory_to_episode(t) for t in trajectories]
        self._log_metrics(stats, episodes)
        return episodes

    def _log_metrics(self, stats: Any, episodes: list[SingleAgentEpisode]) -> None:
        self.num_env_steps_sampled_lifetime += stats.env_steps
        self.metrics.log_value(NUM_ENV_STEPS_SAMPLED, stats.env_steps, reduce="sum")
        self.metrics.log_value(
            NUM_ENV_STEPS_SAMPLED_LIFETIME, stats.env_steps, reduce="lifetime_sum"
        )
        self.metrics.log_value(NUM_EPISODES, len(episodes), reduce="sum")
        for episode in episodes:
            self.metrics.log_value(EPISODE_RETURN_MEAN, episode.get_return(), window=100)
        self.metrics.log_value(M.ROLLOUT_ENV_FAILURES, stats.env_errors, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_DROPPED_EPISODES, stats.dropped_episodes, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_TASK_ERRORS, stats.task_errors, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_INCOMPLETE_GROUPS, stats.incomplete_groups, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_ENV_TIMEOUTS, stats.env_timeouts, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_GENERATION_S, stats.generation_s, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_ENV_S, stats.env_s, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_RESET_S, stats.reset_s, reduce="sum")
        self.metrics.log_value(M.ROLLOUT_GENERATED_TOKENS, stats.generated_tokens, reduce="sum")

    # ------------------------------------------------------------------------------ RLlib API

    @override(EnvRunner)
    def get_spaces(self) -> dict[str, Any]:
        return {
            INPUT_ENV_SPACES: self._spaces,
            INPUT_ENV_SINGLE_SPACES: self._spaces,
            DEFAULT_MODULE_ID: self._spaces,
        }

    @override(EnvRunner)
    def assert_healthy(self) -> None:
        assert self.uses_engines or self.module is not None, "GroupEnvRunner has no module"

    @override(EnvRunner)
    def get_metrics(self) -> dict:
        return self.metrics.reduce()

    @override(EnvRunner)
    def stop(self) -> None:
        self._rollout.close()

    @override(Checkpointable)
    def get_state(
        self,
        components: str | Collection[str] | None = None,
        *,
        not_components: str | Collection[str] | None = None,
        **kwargs: Any,
    ) -> dict:
        state: dict[str, Any] = {
            NUM_ENV_STEPS_SAMPLED_LIFETIME: self.num_env_steps_sampled_lifetime,
            WEIGHTS_SEQ_NO: self._weights_seq_no,
        }
        if self.module is not None and self._check_component(
            COMPONENT_RL_MODULE, components, not_components
        ):
            state[COMPONENT_RL_MODULE] = self.module.get_state(**kwargs)
        return state

    @override(Checkpointable)
    def set_state(self, state: dict) -> None:
        # With engine actors the runner holds no weights: module state is not its business.
        if COMPONENT_RL_MODULE in state and self._local_engine is not None:
            seq_no = state.get(WEIGHTS_SEQ_NO, 0)
            if seq_no == 0 or self._weights_seq_no < seq_no:
                module_state = state[COMPONENT_RL_MODULE]
                if isinstance(module_state, ray.ObjectRef):
                    module_state = ray.get(module_state)
                if isinstance(module_state, dict) and DEFAULT_MODULE_ID in module_state:
                    module_state = module_state[DEFAULT_MODULE_ID]
                if STATE_KEY in module_state:
                    # The sync's sequence number is the version of the weights it carries.
                    version = seq_no if seq_no > 0 else self._local_engine.weight_version
                    self._local_engine.update_weights(
                        WeightUpdate(
                            version, module_state[STATE_KEY], adapter_only=self._adapter_only
                        )
                    )
            if seq_no > 0:
                self._weights_seq_no = seq_no
        if NUM_ENV_STEPS_SAMPLED_LIFETIME in state:
            self.num_env_steps_sampled_lifetime = state[NUM_ENV_STEPS_SAMPLED_LIFETIME]

    @override(Checkpointable)
    def get_ctor_args_and_kwargs(self) -> tuple[tuple, dict]:
        return (), {"config": self.config}

    @override(Checkpointable)
    def get_checkpointable_components(self) -> list[tuple[str, Any]]:
        return [] if self.module is None else [(COMPONENT_RL_MODULE, self.module)]

    @property
    def _adapter_only(self) -> bool:
        return self.module is not None and self.module.policy.lora is not None
