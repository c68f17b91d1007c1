"""ARPO as an RLlib Algorithm: sample groups -> replay + advantages -> learner updates -> sync."""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.core import COMPONENT_LEARNER, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.annotations import override
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    ENV_RUNNER_SAMPLING_TIMER,
    LEARNER_RESULTS,
    LEARNER_UPDATE_TIMER,
    SYNCH_WORKER_WEIGHTS_TIMER,
    TIMERS,
    WEIGHTS_SEQ_NO,
)
from ray.tune.execution.placement_groups import PlacementGroupFactory
from ray.tune.registry import register_trainable

from rllib_arpo.config import ARPOConfig
from rllib_arpo.core import metrics as M
from rllib_arpo.core.curation import TaskCurator
from rllib_arpo.core.groups import group_by_id, prepare_training_groups
from rllib_arpo.core.mismatch import mismatch_metrics, truncated_is_weights
from rllib_arpo.core.replay import PriorityMode, SuccessReplayBuffer
from rllib_arpo.core.trajectory import Trajectory
from rllib_arpo.episodes import episode_to_trajectory
from rllib_arpo.learner import ADVANTAGES, IS_WEIGHT, OLD_LOGP, TRAJECTORIES
from rllib_arpo.rollout.loop import task_id_of
from rllib_arpo.rollout.pipeline import GroupLedger, GroupPipeline, WaitingGroup
from rllib_arpo.rollout.tasks import resolve_task_list

logger = logging.getLogger(__name__)

DRIVER_STATE_KEY = "arpo_driver"
ASYNC_TIS_CAP = 2.0
"""C of the truncated importance weight when ``max_policy_lag > 0`` and ``tis_cap`` is unset."""
SAMPLE_TAG = "arpo_sample"
"""The tag of asynchronous sampling requests (``max_policy_lag > 0``)."""
REPLAY_TIMER = "replay_and_advantages"
OLD_LOGP_TIMER = "old_logp_recompute"


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        out[index] = item
    return out


def _sample_request(runner: Any, tasks: list, launch: int, engines: Any, weights: Any) -> tuple:
    """An asynchronous runner's request: load ``weights`` (an object ref) when sent, sample the
    groups of ``tasks``; ``launch`` names them (one number per request keeps group ids
    unique). Returns the episodes, the runner's metrics and when it finished (the pipeline's
    clock)."""
    if weights is not None:
        import ray

        runner.set_state(ray.get(weights))
    episodes = runner.sample(tasks=tasks, iteration=launch, engines=engines)
    return episodes, runner.get_metrics(), time.time()


def _throughput(
    sampled: list[Trajectory], trained: list[Trajectory], seconds: dict[str, float]
) -> dict[str, float]:
    """Env steps and generated tokens per rollout second; trained tokens per learn second."""
    env_steps = sum(1 for t in sampled for s in t.steps if s.env_action)
    generated = sum(t.num_response_tokens for t in sampled)
    out = {}
    if seconds.get(M.TIME_ROLLOUT_S):
        out[M.THROUGHPUT_ENV_STEPS_PER_S] = env_steps / seconds[M.TIME_ROLLOUT_S]
        out[M.THROUGHPUT_TOKENS_PER_S] = generated / seconds[M.TIME_ROLLOUT_S]
    if trained and seconds.get(M.TIME_LEARN_S):
        out[M.THROUGHPUT_TRAIN_TOKENS_PER_S] = (
            sum(t.num_response_tokens for t in trained) / seconds[M.TIME_LEARN_S]
        )
    return out


def _episode_to_show(trajectories: list[Trajectory]) -> Trajectory | None:
    """The episode TensorBoard shows: the first success of the iteration, else the first one."""
    with_steps = [t for t in trajectories if t.steps]
    successes = [t for t in with_steps if t.is_success()]
    return (successes or with_steps or [None])[0]


def _first_result(results: Any) -> Any:
    """The first learner's return value from ``foreach_learner`` (raises that learner's error)."""
    for item in results:
        if hasattr(item, "ok"):  # a ResultOrError from RemoteCallResults
            if not item.ok:
                raise item.get()
            return item.get()
        return item
    raise RuntimeError("no learner answered")


def _learner_policy(learner: Any) -> Any:
    return learner.module[DEFAULT_MODULE_ID].unwrapped().policy


def on_rank_zero(learner_group: Any, fn: Any) -> Any:
    """``fn(learner)`` on the learner of rank 0 only; data-parallel learners hold the same
    weights, so the others return nothing (no N copies of a 7B state cross the cluster)."""

    def call(learner: Any) -> Any:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized() and dist.get_rank() != 0:
            return None
        return fn(learner)

    answers = [_first_result([item]) for item in learner_group.foreach_learner(call)]
    return next(answer for answer in answers if answer is not None)


def learner_policy_state(learner_group: Any) -> dict[str, Any]:
    """The learners' policy weights (``Policy.get_state``: the adapter only with LoRA)."""
    return on_rank_zero(learner_group, lambda learner: _learner_policy(learner).get_state())


class _PhaseClock:
    """Wall time of each named phase of one iteration (``time/*`` metrics)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


class ARPO(Algorithm):
    """Agentic Replay Policy Optimization (arXiv 2505.16282) on RLlib's new API stack."""

    @classmethod
    @override(Algorithm)
    def get_default_config(cls) -> ARPOConfig:
        return ARPOConfig(algo_class=cls)

    @override(Algorithm)
    def setup(self, config: ARPOConfig) -> None:
        # The checkpointed driver state (DRIVER_STATE_KEY) exists before RLlib's setup, which
        # ends with the on_algorithm_init callbacks: a restore_from_path there (RLlib's way to
        # start a run from a checkpoint; `rllib train --restore`) calls set_state, which sets it.
        self._rng = np.random.default_rng(config.seed)
        self._task_cursor = 0
        self.curator = TaskCurator(config.curation_window, config.curation_floor)
        self.replay = (
            SuccessReplayBuffer(
                capacity_per_task=config.replay_capacity_per_task,
                success_threshold=config.replay_success_threshold,
                priority_mode=config.replay_priority_mode,
                priority_alpha=config.replay_priority_alpha,
                std_threshold=config.replay_trigger_std,
                mean_threshold=config.replay_trigger_mean,
                num_inject=config.replay_num_inject,
            )
            if config.use_replay
            else None
        )
        self.engines = None
        self._weights_version = 0
        self._restored_before_engines = False
        self._pipeline: GroupPipeline | None = None  # asynchronous rollouts only
        self._task_queue: list[Any] = []
        self._launches = 0
        self._restored_waiting: list[WaitingGroup] = []
        self._ledger = GroupLedger()
        self._runner_metrics: list[Any] = []  # fetched with groups, not yet aggregated
        self._runner_syncs: list[int] = []  # RLlib's weights sequence number at each runner sync
        # Asynchronous runners holding weights get them with their next request (below).
        self._runner_weights: tuple[int, Any] | None = None  # (version, object ref)
        self._runner_has: dict[int, int] = {}  # runner id -> the version it holds
        super().setup(config)
        if config.num_engines:
            from rllib_arpo.engine_actors import EnginePool

            self.engines = EnginePool(
                config.engine_settings(),
                config.num_engines,
                config.num_cpus_per_engine,
                config.num_gpus_per_engine,
            )
            if config.weight_transfer != "object_store":
                client = self.engines.transfer_client()
                backend = config.weight_transfer
                on_rank_zero(
                    self.learner_group,
                    lambda learner: learner.open_weight_transfer(backend, client) or True,
                )
            if self._restored_before_engines:  # restore_from_path inside RLlib's setup
                self._push_restored_weights()
        self.last_sampled_trajectory: Trajectory | None = None
        self._tasks = resolve_task_list(config.tasks) or self._default_tasks()
        if not self._tasks:
            raise ValueError(
                "config.tasks is empty and the env offers no default task list: pass task ids"
            )
        self._task_ids = [task_id_of(task) for task in self._tasks]

    def _default_tasks(self) -> list[Any]:
        runner = self.env_runner
        if runner is None:
            results = self.env_runner_group.foreach_env_runner(
                lambda r: r.default_tasks(), local_env_runner=False
            )
            return list(results[0]) if results else []
        return runner.default_tasks()

    # ------------------------------------------------------------------------------ one iteration

    @override(Algorithm)
    def training_step(self) -> None:
        clock = _PhaseClock()
        started = time.perf_counter()
        with self.metrics.log_time((TIMERS, ENV_RUNNER_SAMPLING_TIMER)), clock(M.TIME_ROLLOUT_S):
            if self.config.max_policy_lag:
                trajectories = self._collect_async()
            else:
                trajectories = self._sample_groups(self._next_tasks())
        self.last_sampled_trajectory = _episode_to_show(trajectories)
        self._record_task_success(trajectories)
        with self.metrics.log_time((TIMERS, REPLAY_TIMER)), clock(M.TIME_REPLAY_S):
            groups = self._prepare_groups(trajectories)
        with self.metrics.log_time((TIMERS, OLD_LOGP_TIMER)), clock(M.TIME_OLD_LOGP_S):
            old_logps, is_weights = self._old_logps(groups.trajectories)
        with self.metrics.log_time((TIMERS, LEARNER_UPDATE_TIMER)), clock(M.TIME_LEARN_S):
            self._update_learners(groups.trajectories, groups.advantages, old_logps, is_weights)
        with self.metrics.log_time((TIMERS, SYNCH_WORKER_WEIGHTS_TIMER)), clock(M.TIME_SYNC_S):
            if self.engines is not None:
                self._sync_engines()
            elif self.config.max_policy_lag:  # sent with each runner's next request
                self._runner_syncs.append(self._learner_weights_seq_no())
            else:
                self.env_runner_group.sync_weights(
                    from_worker_or_learner_group=self.learner_group, inference_only=True
                )
        throughput = _throughput(trajectories, groups.trajectories, clock.seconds)
        if self.config.max_policy_lag:  # the time the learners waited for groups
            waited = clock.seconds[M.TIME_ROLLOUT_S] / (time.perf_counter() - started)
            throughput[M.ASYNC_LEARNER_IDLE_SHARE] = waited
        for key, value in {**groups.metrics, **clock.seconds, **throughput}.items():
            self.metrics.log_value(key, value, window=1)

    # ------------------------------------------------------------------------------ async rollouts

    def _collect_async(self) -> list[Trajectory]:
        """One update's groups from the pipeline: runners keep sampling, at most
        ``max_policy_lag`` versions ahead; waits only while fewer than T groups are complete."""
        pipeline = self._async_pipeline()
        self._fetch_arrived(pipeline, timeout_s=0.0)  # done during the update (or at a save)
        self._launch_idle(pipeline)
        while not pipeline.ready():
            self._fetch_arrived(pipeline, timeout_s=0.05)
            self._follow_runner_health(pipeline)
            self._launch_idle(pipeline)
        taken = pipeline.take(self._learner_version())
        self._launch_idle(pipeline)  # the room the take freed: runners sample during learning
        self.metrics.aggregate(self._runner_metrics, key=ENV_RUNNER_RESULTS)
        self._runner_metrics = []
        for key, value in taken.metrics.items():
            self.metrics.log_value(key, value, window=1)
        return taken.trajectories

    def _fetch_arrived(self, pipeline: GroupPipeline, timeout_s: float) -> None:
        """Hand every finished request to the pipeline, stamped with when its runner finished
        (it may have waited, unfetched, while the driver ran an update)."""
        ready = self.env_runner_group.fetch_ready_async_reqs(
            tags=SAMPLE_TAG, timeout_seconds=timeout_s
        )
        for runner_id, (episodes, metrics, finished_at) in ready:
            pipeline.arrived(runner_id, [episode_to_trajectory(e) for e in episodes], finished_at)
            self._runner_metrics.append(metrics)  # aggregated by the next update

    def _async_pipeline(self) -> GroupPipeline:
        if self._pipeline is None:
            self._pipeline = GroupPipeline(
                self.env_runner_group.healthy_worker_ids(),
                self.config.tasks_per_iteration,
                self.config.max_policy_lag,
                version_of=self._sync_version,
                ledger=self._ledger,
            )
            self._pipeline.waiting.extend(self._restored_waiting)  # groups of a checkpoint
            self._restored_waiting = []
        return self._pipeline

    def _learner_version(self) -> int:
        """The version of the learners' weights now, in weight syncs."""
        return self._weights_version if self.engines is not None else len(self._runner_syncs)

    def _sync_version(self, recorded: int) -> int:
        """A step's recorded version in weight syncs. Engines record their sync version; env
        runners holding weights record RLlib's weights sequence number, which counts learner
        updates (several per iteration): the syncs that had happened when they got it."""
        if self.engines is not None:
            return recorded
        return bisect.bisect_right(self._runner_syncs, recorded)

    def _learner_weights_seq_no(self) -> int:
        return on_rank_zero(self.learner_group, lambda learner: learner.weights_seq_no())

    def _launch_idle(self, pipeline: GroupPipeline) -> None:
        """A sampling request on every idle runner, while the in-flight bound has room."""
        runners = max(1, len(self.env_runner_group.healthy_worker_ids()))
        share = -(-self.config.tasks_per_iteration // runners)  # ceil(T / runners) groups
        engines = self.engines.handles if self.engines is not None else None
        for runner_id in pipeline.idle_runners():
            if pipeline.room() < share:
                return
            while len(self._task_queue) < share:
                self._task_queue.extend(self._next_tasks())
            tasks, self._task_queue = self._task_queue[:share], self._task_queue[share:]
            launch, self._launches = self._launches, self._launches + 1
            weights = self._weights_owed_to(runner_id) if engines is None else None
            made = self.env_runner_group.foreach_env_runner_async(
                lambda runner, tasks=tasks, launch=launch, engines=engines, weights=weights: (
                    _sample_request(runner, tasks, launch, engines, weights)
                ),
                tag=SAMPLE_TAG,
                remote_worker_ids=[runner_id],
            )
            if made:
                pipeline.launched(runner_id, len(tasks))
                self._runner_has[runner_id] = self._learner_version()
            else:  # the runner still has a request in flight (RLlib's per-runner limit)
                self._task_queue = tasks + self._task_queue

    def _weights_owed_to(self, runner_id: int) -> Any:
        """The learners' weights (an object ref) when the runner holds an older version, else
        None. Sent with the request, they load before it samples: a weight push of its own
        would be dropped while the runner is busy (RLlib keeps one request per tag in flight),
        and the runner would sample its next groups on weights two versions old."""
        version = self._learner_version()
        if self._runner_has.get(runner_id) == version:
            return None
        if self._runner_weights is None or self._runner_weights[0] != version:
            import ray

            state = self.learner_group.get_state(
                components=f"{COMPONENT_LEARNER}/{COMPONENT_RL_MODULE}", inference_only=True
            )[COMPONENT_LEARNER]
            payload = {COMPONENT_RL_MODULE: state[COMPONENT_RL_MODULE]}
            payload[WEIGHTS_SEQ_NO] = state[WEIGHTS_SEQ_NO]  # the version steps record
            self._runner_weights = (version, ray.put(payload))
        return self._runner_weights[1]

    def _follow_runner_health(self, pipeline: GroupPipeline) -> None:
        """A failed runner's request never returns: its groups are discarded and counted; a
        restarted runner samples again."""
        healthy = set(self.env_runner_group.healthy_worker_ids())
        for runner_id in list(pipeline.in_flight) + pipeline.idle_runners():
            if runner_id not in healthy:
                pipeline.forget_runner(runner_id)
                self._runner_has.pop(runner_id, None)  # a restarted runner gets the weights
        for runner_id in healthy - set(pipeline.in_flight) - set(pipeline.idle_runners()):
            pipeline.track(runner_id)

    def _sync_engines(self) -> None:
        """The learners' weights become the next version on every engine actor."""
        from rllib_arpo.engine_actors import batch_metrics

        nbytes = self._push_weights(self._weights_version + 1)
        for key, value in {
            M.SYNC_BYTES: float(nbytes),
            M.SYNC_WEIGHT_VERSION: float(self._weights_version),
            **batch_metrics(self.engines.take_batch_logs()),
        }.items():
            self.metrics.log_value(key, value, window=1)

    def _next_tasks(self) -> list[Any]:
        count = self.config.tasks_per_iteration
        if self.config.task_order == "curated":
            return [self._tasks[i] for i in self.curator.sample(self._task_ids, count, self._rng)]
        if self.config.task_order == "random":
            picks = self._rng.choice(len(self._tasks), size=count, replace=count > len(self._tasks))
            return [self._tasks[int(i)] for i in picks]
        chosen = [self._tasks[(self._task_cursor + i) % len(self._tasks)] for i in range(count)]
        self._task_cursor = (self._task_cursor + count) % len(self._tasks)
        return chosen

    def _record_task_success(self, trajectories: list[Trajectory]) -> None:
        """Each fresh group's success count goes to the curator (every task order tracks it)."""
        threshold = self.config.replay_success_threshold
        for members in group_by_id(trajectories).values():
            successes = sum(t.is_success(threshold) for t in members)
            self.curator.record_group(members[0].task_id, successes, len(members))
        for key, value in self.curator.metrics(self._task_ids).items():
            self.metrics.log_value(key, value, window=1)

    def _sample_groups(self, tasks: list[Any]) -> list[Trajectory]:
        iteration = self.iteration
        engines = self.engines.handles if self.engines is not None else None
        remote_ids = self.env_runner_group.healthy_worker_ids()
        if not remote_ids:
            episodes = self.env_runner.sample(tasks=tasks, iteration=iteration, engines=engines)
            runner_metrics = [self.env_runner.get_metrics()]
        else:
            shares = {wid: tasks[k :: len(remote_ids)] for k, wid in enumerate(remote_ids)}
            results = self.env_runner_group.foreach_env_runner(
                lambda runner, shares=shares, iteration=iteration, engines=engines: (
                    runner.sample(
                        tasks=shares.get(runner.worker_index, []),
                        iteration=iteration,
                        engines=engines,
                    ),
                    runner.get_metrics(),
                ),
                local_env_runner=False,
            )
            episodes = [e for batch, _ in results for e in batch]
            runner_metrics = [m for _, m in results]
        self.metrics.aggregate(runner_metrics, key=ENV_RUNNER_RESULTS)
        return [episode_to_trajectory(e) for e in episodes]

    def _prepare_groups(self, trajectories: list[Trajectory]) -> Any:
        if self.replay is not None:
            self.replay.reset_iteration_metrics()
            if self.replay.priority_mode == PriorityMode.SURPRISE:
                self._score_replay_entries()
        return prepare_training_groups(
            trajectories,
            replay=self.replay,
            rng=self._rng,
            policy_version=self.iteration,
            drop_zero_advantage_groups=self.config.drop_zero_advantage_groups,
        )

    def _score_with_learner(self, trajectories: list[Trajectory]) -> list[np.ndarray]:
        results = self.learner_group.foreach_learner(
            lambda learner, trajs=trajectories: learner.score_trajectories(trajs)
        )
        return list(_first_result(results))

    def _score_replay_entries(self) -> None:
        todo = self.replay.trajectories_to_score(policy_version=self.iteration)
        if not todo:
            return
        for trajectory, logp in zip(todo, self._score_with_learner(todo)):
            mean_logp = float(np.mean(logp)) if len(logp) else 0.0
            self.replay.update_scores(
                trajectory.task_id, {trajectory.episode_id: mean_logp}, self.iteration
            )

    def _old_logps(
        self, trajectories: list[Trajectory]
    ) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """Old log-probs (the sampler's for fresh rollouts, recomputed for replayed
        trajectories, or all recomputed), and the truncated importance weights of fresh tokens
        when ``tis_cap`` is set (None otherwise). Logs the sampler-trainer mismatch of the fresh
        trajectories it recomputed."""
        recompute_all = self._recompute_all_old_logp()
        recompute = [i for i, t in enumerate(trajectories) if t.is_replay or recompute_all]
        sampler = [
            np.asarray([lp for s in t.steps for lp in s.response_logprobs], dtype=np.float32)
            for t in trajectories
        ]
        old = list(sampler)
        if recompute:
            scored = self._score_with_learner([trajectories[i] for i in recompute])
            for index, logp in zip(recompute, scored):
                old[index] = np.asarray(logp, dtype=np.float32)
        self.metrics.log_value(M.TRAIN_OLD_LOGP_RECOMPUTED, len(recompute), window=1)
        # Trajectories whose sampler log-probs sit beside recomputed trainer ones; the fresh ones.
        comparable = [i for i in recompute if len(sampler[i]) == len(old[i]) and len(old[i])]
        compared = [i for i in comparable if not trajectories[i].is_replay]
        cap = self.config.tis_cap
        if cap is None and self.config.max_policy_lag:
            cap = ASYNC_TIS_CAP  # the behaviour correction is part of the asynchronous objective
        mismatch = mismatch_metrics([sampler[i] for i in compared], [old[i] for i in compared], cap)
        for key, value in mismatch.items():
            self.metrics.log_value(key, value, window=1)
        if cap is None:
            return old, None
        weights = [np.ones(len(x), dtype=np.float32) for x in old]
        # Asynchronous runs: replayed successes are stale by construction and get the same
        # correction (their sampler's log-probs against the proximal policy's).
        weighted = comparable if self.config.max_policy_lag else compared
        for index, weight in zip(
            weighted,
            truncated_is_weights([sampler[i] for i in weighted], [old[i] for i in weighted], cap),
        ):
            weights[index] = weight
        return old, weights

    def _recompute_all_old_logp(self) -> bool:
        if self.config.max_policy_lag:
            return True  # asynchronous: the proximal policy is the learner's current one
        if self.config.recompute_old_logp is not None:
            return self.config.recompute_old_logp
        if self.config.engine != "hf":
            return True  # another engine's kernels: its log-probs are not the trainer's
        if getattr(self, "_learner_dtype", None) is None:
            results = self.learner_group.foreach_learner(
                lambda learner: learner.policy_dtype_name()
            )
            self._learner_dtype = _first_result(results)
        return self._learner_dtype != "float32"

    def _minibatches(self, trajectories: list[Trajectory]) -> list[list[int]]:
        indices = list(range(len(trajectories)))
        if self.config.minibatch_unit == "trajectories":
            size = self.config.minibatch_size
            return [indices[i : i + size] for i in range(0, len(indices), size)]
        batches, current, tokens = [], [], 0
        for index in indices:
            count = trajectories[index].num_response_tokens
            if current and tokens + count > self.config.minibatch_size:
                batches.append(current)
                current, tokens = [], 0
            current.append(index)
            tokens += count
        return batches + ([current] if current else [])

    def _update_learners(
        self,
        trajectories: list[Trajectory],
        advantages: np.ndarray,
        old_logps: list[np.ndarray],
        is_weights: list[np.ndarray] | None = None,
    ) -> None:
        if not trajectories:
            self.metrics.log_value(M.TRAIN_SKIPPED_UPDATES, 1, reduce="sum")
            return
        for _ in range(self.config.num_epochs):
            for indices in self._minibatches(trajectories):
                columns = {
                    TRAJECTORIES: _object_array([trajectories[i] for i in indices]),
                    ADVANTAGES: advantages[indices].astype(np.float32),
                    OLD_LOGP: _object_array([old_logps[i] for i in indices]),
                }
                if is_weights is not None:
                    columns[IS_WEIGHT] = _object_array([is_weights[i] for i in indices])
                batch = SampleBatch(columns)
                results = self.learner_group.update(
                    batch=MultiAgentBatch({DEFAULT_MODULE_ID: batch}, env_steps=len(indices)),
                    num_epochs=1,
                )
                self.metrics.aggregate(results, key=LEARNER_RESULTS)

    # ------------------------------------------------------------------------------ state

    @override(Algorithm)
    def get_state(self, components=None, *, not_components=None, **kwargs) -> dict:
        state = super().get_state(components, not_components=not_components, **kwargs)
        # save_to_path asks once for everything but the learner group, then once per
        # component: the driver state (which fetches finished requests) is built only when asked.
        if not self._check_component(DRIVER_STATE_KEY, components, not_components):
            return state
        state[DRIVER_STATE_KEY] = {
            "rng": self._rng.bit_generator.state,
            "task_cursor": self._task_cursor,
            "replay": self.replay.get_state() if self.replay is not None else None,
            "curation": self.curator.get_state(),
            "weights_version": self._weights_version,
            "async": self._async_state(),
        }
        return state

    def _async_state(self) -> dict[str, Any] | None:
        """Complete groups waiting for the learner (resumed), the groups still sampling
        (discarded on resume, counted), the group ledger, the launch counter (group ids stay
        unique)."""
        if not self.config.max_policy_lag:
            return None
        pipeline = self._pipeline
        if pipeline is not None:  # requests finished since the update: saved as waiting groups
            self._fetch_arrived(pipeline, timeout_s=0.0)
        waiting = pipeline.waiting if pipeline is not None else self._restored_waiting
        return {
            "waiting": [
                {"version": g.version, "trajectories": [t.to_dict() for t in g.trajectories]}
                for g in waiting
            ],
            "in_flight_groups": sum(pipeline.in_flight.values()) if pipeline is not None else 0,
            "ledger": dataclasses.asdict(self._ledger),
            "launches": self._launches,
            "task_queue": list(self._task_queue),
            "runner_syncs": list(self._runner_syncs),
        }

    @override(Algorithm)
    def set_state(self, state: dict) -> None:
        super().set_state(state)
        driver = state.get(DRIVER_STATE_KEY)
        if driver is None:
            return
        self._rng.bit_generator.state = driver["rng"]
        self._task_cursor = driver["task_cursor"]
        if self.replay is not None and driver["replay"] is not None:
            self.replay.set_state(driver["replay"])
        if driver.get("curation") is not None:  # absent in checkpoints older than curation
            self.curator.set_state(driver["curation"])
        self._weights_version = int(driver.get("weights_version", 0))
        if driver.get("async") is not None:
            self._restore_async(driver["async"])
        if getattr(self, "engines", None) is not None:
            self._push_restored_weights()
        else:
            self._restored_before_engines = True

    def _restore_async(self, saved: dict[str, Any]) -> None:
        """Waiting groups train after resume; the groups that were sampling are gone (their
        requests died with the old process): discarded and counted."""
        now = time.time()  # the pipeline's clock
        self._restored_waiting = [
            WaitingGroup(
                [Trajectory.from_dict(t) for t in group["trajectories"]], int(group["version"]), now
            )
            for group in saved["waiting"]
        ]
        self._ledger = GroupLedger(**{k: int(v) for k, v in saved["ledger"].items()})
        self._ledger.discarded += int(saved["in_flight_groups"])
        self._launches = int(saved["launches"])
        self._task_queue = list(saved["task_queue"])
        self._runner_syncs = [int(seq) for seq in saved["runner_syncs"]]
        self._pipeline = None  # rebuilt from the runners of this process

    def _push_restored_weights(self) -> None:
        """The restored learners' weights go to the engines, under the version they had."""
        self._push_weights(max(self._weights_version, self.engines.version))

    def _push_weights(self, version: int) -> int:
        """The learners' weights, served by every engine as ``version``: through the object
        store, or broadcast by learner rank 0 (``weight_transfer``). Returns the bytes moved."""
        if self.config.weight_transfer == "object_store":
            nbytes = self.engines.sync(learner_policy_state(self.learner_group), version)
        else:
            nbytes = on_rank_zero(self.learner_group, lambda learner: learner.send_weights(version))
            self.engines.confirm(version)
        self._weights_version = self.engines.version
        return nbytes

    @override(Algorithm)
    def cleanup(self) -> None:
        if getattr(self, "engines", None) is not None:
            self.engines.close()
            self.engines = None
        super().cleanup()

    @classmethod
    @override(Algorithm)
    def default_resource_request(cls, config: Any) -> Any:
        """RLlib's bundles (main process, env runners, learners) plus one per engine actor."""
        from rllib_arpo.engine_actors import engine_bundles

        factory = super().default_resource_request(config)
        if isinstance(config, dict):
            config = cls.get_default_config().update_from_dict(config)
        extra = engine_bundles(config)
        if not extra:
            return factory
        return PlacementGroupFactory(
            bundles=list(factory.bundles) + extra, strategy=factory.strategy
        )

    # ------------------------------------------------------------------------------ export

    def export_policy(self, out_dir: str | Path) -> Path:
        """Writes the trained policy to ``out_dir`` as a plain Hugging Face checkpoint (LoRA
        merged), loadable with ``rllib_arpo.policy.load.load_policy``.

        Runs on the learners through ``learner_group.foreach_learner`` (the local learner too);
        with several learners only rank 0 writes, on its own machine.

        Returns:
            The checkpoint directory.
        """
        target = str(out_dir)
        return Path(
            on_rank_zero(
                self.learner_group, lambda learner: str(_learner_policy(learner).export(target))
            )
        )


# Registered on import so `tune.Tuner("ARPO", ...)` works in this process; Tune flushes the
# registry into the cluster at `ray.init`. `registration.register()` repeats it (and registers the
# envs) after a `ray.init` made elsewhere.
register_trainable("ARPO", ARPO)
