"""Metric names: the one place each logged key is spelled.

Keys are namespaced ``"<area>/<name>"`` so that TensorBoard and Tune group them:

- ``rollout/``: what the env runners produced (success rate, steps, failures).
- ``reward/``, ``adv/``: the reward and group-advantage statistics of a training batch.
- ``loss/``: the policy loss and its diagnostics (``core.loss``).
- ``replay/``: the success replay buffer (``core.replay``).
- ``time/``, ``throughput/``: where an iteration's wall clock goes.

Modules import the constants, never the strings, so a rename is one edit here.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------
# Rollout (env runners, ``core.trajectory.summarize_rollouts``)
# --------------------------------------------------------------------------------------------
ROLLOUT_NUM_TRAJECTORIES = "rollout/num_trajectories"
ROLLOUT_NUM_GROUPS = "rollout/num_groups"
SUCCESS_BY_FAMILY_PREFIX = "success/"
"""``success/<family>/<level>`` (MiniDesk) or ``success/<task id>``: success rate per family."""
ROLLOUT_SUCCESS_RATE = "rollout/success_rate"
"""Share of trajectories whose evaluator result exceeds the success threshold."""
ROLLOUT_EVAL_RESULT_MEAN = "rollout/eval_result_mean"
ROLLOUT_PARSE_ERROR_RATE = "rollout/parse_error_rate"
"""Share of trajectories that ended on an unparsable model output (format reward -1)."""
ROLLOUT_ENV_ERROR_RATE = "rollout/env_error_rate"
ROLLOUT_STEPS_MEAN = "rollout/steps_mean"
ROLLOUT_RESPONSE_TOKENS_MEAN = "rollout/response_tokens_mean"
"""Generated tokens per trajectory, all steps together."""
ROLLOUT_VERSION_MIN = "rollout/policy_version_min"
"""Oldest weight version any step of the batch was sampled with (``Step.policy_version``)."""
ROLLOUT_VERSION_MAX = "rollout/policy_version_max"
ROLLOUT_MIXED_VERSION_TRAJECTORIES = "rollout/mixed_version_trajectories"
"""Trajectories whose steps were sampled by more than one weight version."""
ROLLOUT_ENV_FAILURES = "rollout/env_failures"
"""Env exceptions, hangs and crashed VMs counted by the runners (retried or dropped)."""
ROLLOUT_DROPPED_EPISODES = "rollout/dropped_episodes"
ROLLOUT_TASK_ERRORS = "rollout/task_errors"
"""Of those, episodes whose reset the env refused as a bad task (never retried)."""
ROLLOUT_INCOMPLETE_GROUPS = "rollout/incomplete_groups"
ROLLOUT_ENV_TIMEOUTS = "rollout/env_timeouts"
"""Env calls that hung past ``env_step_timeout_s`` (also counted in env_failures)."""
ROLLOUT_GENERATION_S = "rollout/generation_s"
"""Seconds the runners spent in batched generation."""
ROLLOUT_ENV_S = "rollout/env_s"
"""Seconds the runners spent waiting for env steps."""
ROLLOUT_RESET_S = "rollout/reset_s"
"""Seconds the runners spent starting episodes: env resets (a page load, a VM snapshot), envs
made on the way, retries."""
ROLLOUT_GENERATED_TOKENS = "rollout/generated_tokens"

# --------------------------------------------------------------------------------------------
# Rewards and advantages (``core.trajectory.compute_reward``, ``core.advantages``)
# --------------------------------------------------------------------------------------------
REWARD_MEAN = "reward/mean"
REWARD_STD = "reward/std"
REWARD_MIN = "reward/min"
REWARD_MAX = "reward/max"
TRAIN_NUM_TRAJECTORIES = "train/num_trajectories"
"""Trajectories sent to the learner after replay and zero-advantage filtering."""
TRAIN_OLD_LOGP_RECOMPUTED = "train/old_logp_recomputed"
"""Trajectories whose old log-probs a learner recomputed (replayed ones, or all)."""
TRAIN_SKIPPED_UPDATES = "train/skipped_updates"
"""Iterations with no trajectory to train on (no mixed group): no optimizer step."""
MISMATCH_MEAN_ABS_DELTA = "mismatch/mean_abs_delta_logp"
"""Mean |trainer log-prob - sampler log-prob| over fresh tokens (``core.mismatch``)."""
MISMATCH_KL = "mismatch/kl_sampler_trainer"
"""KL(sampler || trainer), the k3 estimate over the sampled tokens (>= 0)."""
MISMATCH_CLIPPED_SHARE = "mismatch/tis_clipped_share"
"""Share of tokens whose importance weight exp(trainer - sampler) exceeds the cap C."""
MISMATCH_MAX_ABS_DELTA = "mismatch/max_abs_delta_logp"
ASYNC_LAG_MEAN = "async/lag_versions_mean"
"""Mean lag, in weight versions, of the groups an update trains on (``core.staleness``)."""
ASYNC_LAG_MAX = "async/lag_versions_max"
ASYNC_AGE_MEAN_S = "async/age_s_mean"
"""Mean seconds from a group's sampling end to the update that trains on it."""
ASYNC_AGE_MAX_S = "async/age_s_max"
ASYNC_DROPPED_GROUPS = "async/dropped_groups"
"""Groups older than ``max_policy_lag`` versions: dropped, never in the loss."""
ASYNC_GROUPS_LAUNCHED = "async/groups_launched"
"""Groups asked of env runners since the run began (``rollout.pipeline.GroupLedger``; every
``async/groups_*`` count survives checkpoints)."""
ASYNC_GROUPS_TRAINED = "async/groups_trained"
"""Groups handed to an update since the run began."""
ASYNC_GROUPS_DROPPED = "async/groups_dropped"
"""Groups dropped by the staleness bound since the run began."""
ASYNC_GROUPS_DISCARDED = "async/groups_discarded"
"""Groups that were sampling when the run was checkpointed (or their runner failed): not
resumed, discarded and counted."""
ASYNC_GROUPS_PENDING = "async/groups_pending"
"""Groups sampling or waiting for the learner after this iteration's update was taken.
``launched == trained + dropped + discarded + pending``: nothing lost, nothing trained twice."""
ASYNC_ENV_IDLE_SHARE = "async/env_idle_share"
"""Share of env-runner time with no sampling request, between two updates."""
ASYNC_LEARNER_IDLE_SHARE = "async/learner_idle_share"
"""Share of an iteration the driver waited for groups (the learners had nothing to do)."""
ADV_MEAN = "adv/mean"
ADV_STD = "adv/std"
ADV_ABS_MAX = "adv/abs_max"
ADV_ZERO_VARIANCE_GROUP_FRAC = "adv/zero_variance_group_frac"
"""Share of groups whose rewards are all equal: they carry no policy gradient."""

# --------------------------------------------------------------------------------------------
# Loss (``core.loss``)
# --------------------------------------------------------------------------------------------
LOSS_POLICY = "loss/policy"
"""The aggregated clipped surrogate loss."""
LOSS_CLIP_FRAC_LOW = "loss/clip_frac_low"
"""Share of loss tokens where the lower clip ``1 - clip_ratio_low`` binds (adv < 0)."""
LOSS_CLIP_FRAC_HIGH = "loss/clip_frac_high"
"""Share of loss tokens where the upper clip ``1 + clip_ratio_high`` binds (adv > 0)."""
LOSS_DUAL_CLIP_FRAC = "loss/dual_clip_frac"
"""Share of loss tokens where the dual clip bounds the loss (adv < 0 and ratio > c)."""
LOSS_RATIO_MEAN = "loss/ratio_mean"
LOSS_RATIO_MIN = "loss/ratio_min"
LOSS_RATIO_MAX = "loss/ratio_max"
LOSS_APPROX_KL = "loss/approx_kl"
"""k3 estimate of KL(old || new) over loss tokens (http://joschu.net/blog/kl-approx.html)."""
LOSS_NUM_TOKENS = "loss/num_tokens"
LOSS_NUM_SEQUENCES = "loss/num_sequences"
LOSS_REF_KL = "loss/ref_kl"
"""k3 estimate of KL(new || reference), only when a frozen reference model is used."""
LOSS_ENTROPY = "loss/entropy"
LOSS_TOTAL = "loss/total"
LOSS_GRAD_NORM = "loss/grad_norm"

# --------------------------------------------------------------------------------------------
# Success replay (``core.replay``)
# --------------------------------------------------------------------------------------------
REPLAY_SIZE = "replay/size"
"""Stored trajectories, all tasks together."""
REPLAY_TASKS_COVERED = "replay/tasks_covered"
"""Tasks with at least one stored success."""
REPLAY_FILL_RATE = "replay/fill_rate"
"""size / (capacity_per_task * tasks_covered)."""
REPLAY_MEMORY_BYTES = "replay/memory_bytes"
REPLAY_TRIGGERED_GROUPS = "replay/triggered_groups"
"""All-fail groups seen since the last reset of the iteration counters."""
REPLAY_INJECTIONS = "replay/injections"
"""Trajectories injected since the last reset of the iteration counters."""
REPLAY_TRIGGERED_EMPTY = "replay/triggered_empty"
"""All-fail groups whose task had nothing stored (they carry no gradient)."""
REPLAY_ADDED = "replay/added"
"""Successes added since the last reset of the iteration counters."""
REPLAY_INJECTED_AGE_MEAN = "replay/injected_age_mean"
"""Mean (current policy version - sampled-with version) of the injected trajectories."""
REPLAY_INJECTIONS_TOTAL = "replay/injections_total"

# --------------------------------------------------------------------------------------------
# Online task curation (``core.curation``): the training tasks' recent success
# --------------------------------------------------------------------------------------------
CURATION_UNSEEN = "curation/unseen_tasks"
"""Training tasks with no fresh group yet."""
CURATION_ACTIVE = "curation/active_tasks"
"""Seen tasks that are not rested."""
CURATION_RESTED_SOLVED = "curation/rested_solved"
"""Tasks whose last ``window`` groups all succeeded in every episode."""
CURATION_RESTED_FAILED = "curation/rested_failed"
"""Tasks whose last ``window`` groups failed in every episode."""
CURATION_TASK_PREFIX = "curation/task/"
"""``curation/task/<task id>``: that task's success rate over its last ``window`` groups."""

# --------------------------------------------------------------------------------------------
# Time and throughput (``algorithm.training_step``); weight sync and engines
# (``algorithm._sync_engines``, ``engine_actors.batch_metrics``)
# --------------------------------------------------------------------------------------------
TIME_ROLLOUT_S = "time/rollout_s"
TIME_REPLAY_S = "time/replay_s"
TIME_OLD_LOGP_S = "time/old_logp_s"
"""Recomputing old log-probs (replayed trajectories, or all with ``recompute_old_logp``)."""
TIME_LEARN_S = "time/learn_s"
TIME_LEARNER_COMPUTE_S = "time/learner_compute_s"
"""Forward, backward and optimizer work inside the learner (the rest of learn_s is plumbing)."""
TIME_SYNC_S = "time/sync_s"
SYNC_BYTES = "sync/bytes"
"""Bytes of one weight sync to each rollout engine (full weights, or the LoRA adapter)."""
SYNC_WEIGHT_VERSION = "sync/weight_version"
"""The weight version the engines serve after this iteration's sync (monotonic)."""
ENGINE_BATCHES = "engine/batches"
"""Generation calls the engine actors made this iteration."""
ENGINE_SHARED_BATCHES = "engine/shared_batches"
"""Of those, calls that served requests of more than one env runner."""
ENGINE_MEAN_BATCH = "engine/mean_batch_size"
TIME_ITERATION_S = "time/iteration_s"
THROUGHPUT_TOKENS_PER_S = "throughput/tokens_per_s"
THROUGHPUT_ENV_STEPS_PER_S = "throughput/env_steps_per_s"
THROUGHPUT_TRAIN_TOKENS_PER_S = "throughput/train_tokens_per_s"
"""Loss tokens (sampled response tokens) trained per second of the learn phase."""

# --------------------------------------------------------------------------------------------
# TensorBoard (``callbacks.ARPOTensorBoardCallback``)
# --------------------------------------------------------------------------------------------
EPISODE_STRIP = "episode/strip"
"""Image: one sampled episode, its actions drawn on its screenshots."""
EPISODE_ANSWERS = "episode/answers"
"""Text: the model's answers of that episode."""
SCALAR_AREAS = (
    "rollout/",
    "success/",
    "reward/",
    "adv/",
    "replay/",
    "curation/",
    "time/",
    "train/",
    "loss/",
    "sync/",
    "engine/",
    "mismatch/",
    "async/",
)
"""Areas of the top-level result that TensorBoard gets as scalars."""
LEARNER_AREAS = ("loss/", "time/")
"""Areas of the learner's results that TensorBoard gets as scalars."""
RUNNER_AREAS = ("rollout/",)
"""Areas of the env runners' results that TensorBoard gets as scalars."""
