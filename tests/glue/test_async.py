"""Asynchronous rollouts (``max_policy_lag``): runners sample while the learner updates; every
update trains on groups at most L versions old; waiting groups survive a checkpoint."""

from __future__ import annotations

import math

import pytest

from tests.glue.test_engine_actors import assert_engine_serves_the_learners_weights, engine_config

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def async_config(policy_dir, max_policy_lag: int, num_engines: int = 0, engine: str = "hf"):
    """The engine-actor tests' setting (two CPU runners), asynchronous, weights in the runners
    or in ``num_engines`` engine actors."""
    return engine_config(policy_dir, engine).training(
        max_policy_lag=max_policy_lag, tis_cap=2.0, num_engines=num_engines
    )


def assert_ledger_balances(result: dict) -> None:
    """Every group launched was trained, dropped, discarded, or still samples or waits."""
    launched, trained, dropped, discarded, pending = (
        result[f"async/groups_{what}"]
        for what in ("launched", "trained", "dropped", "discarded", "pending")
    )
    assert launched == trained + dropped + discarded + pending, result


@pytest.mark.parametrize("num_engines", [0, 1])  # weights in the runners; one engine actor
def test_updates_train_on_groups_within_the_lag_while_runners_keep_sampling(
    engine_cluster, target_policy_dir, num_engines
) -> None:
    algo = async_config(target_policy_dir, 1, num_engines).build_algo()
    try:
        results = [algo.train() for _ in range(4)]
        for result in results:
            assert result["rollout/num_trajectories"] == 16  # one update's 4 groups of 4
            assert result["async/lag_versions_max"] <= 1  # never older than the bound
            assert result["async/dropped_groups"] == 0
            assert 0 <= result["async/env_idle_share"] <= 1
            assert 0 < result["async/learner_idle_share"] <= 1
            assert_ledger_balances(result)
        # From the second update on, the groups were sampled while the learner updated: by
        # the weights one version behind (lag 1), and the step versions say so.
        assert results[-1]["async/lag_versions_max"] == 1
        assert results[-1]["rollout/policy_version_min"] >= 2  # the 4th update starts at 3
        # Sampling ran ahead: requests are in flight after the update.
        assert sum(algo._pipeline.in_flight.values()) + len(algo._pipeline.waiting) > 0
    finally:
        algo.stop()


@pytest.mark.vllm
def test_a_vllm_engine_serves_async_runners_and_episodes_span_its_syncs(
    engine_cluster, target_policy_dir
) -> None:
    """The real vLLM engine behind two asynchronous runners. Env steps of 0.3 s make a request
    outlast an update, so weight syncs land mid-episode: partial rollouts, whose steps keep the
    versions that sampled them, within the bound."""
    config = async_config(target_policy_dir, 1, num_engines=1, engine="vllm").environment(
        "arpo-target", env_config={"step_latency_s": 0.3}
    )
    algo = config.build_algo()
    try:
        results = [algo.train() for _ in range(4)]
        for result in results:
            assert result["rollout/num_trajectories"] == 16
            assert result["async/lag_versions_max"] <= 1
            assert result["rollout/policy_version_max"] <= result["sync/weight_version"] - 1
            assert_ledger_balances(result)
            assert math.isfinite(result["learners"]["default_policy"]["loss/policy"])
        assert sum(r["rollout/mixed_version_trajectories"] for r in results) > 0
        assert results[-1]["sync/weight_version"] == 4
        assert_engine_serves_the_learners_weights(algo, "vllm")  # through the object store
    finally:
        algo.stop()


def test_waiting_groups_survive_a_checkpoint_and_groups_in_flight_are_counted(
    engine_cluster, target_policy_dir, tmp_path
) -> None:
    config = async_config(target_policy_dir, 2)
    algo = config.build_algo()
    try:
        algo.train()
        algo.train()
        fetches = []
        fetch = algo._fetch_arrived
        algo._fetch_arrived = lambda *args, **kwargs: fetches.append(fetch(*args, **kwargs))
        algo.save_to_path(str(tmp_path / "checkpoint"))  # fetches requests finished by now
        # Once: RLlib asks for the state once per component, and a later fetch would leave
        # groups out of the saved state that the running algorithm holds.
        assert len(fetches) == 1
        pipeline = algo._pipeline
        waiting_ids = {g.trajectories[0].group_id for g in pipeline.waiting}
        in_flight = sum(pipeline.in_flight.values())
    finally:
        algo.stop()
    restored = config.build_algo()
    try:
        restored.restore_from_path(str(tmp_path / "checkpoint"))
        assert {g.trajectories[0].group_id for g in restored._restored_waiting} == waiting_ids
        result = restored.train()
        assert result["async/groups_discarded"] == in_flight
        assert_ledger_balances(result)
        # New requests get new group ids: nothing trained twice under one name.
        launched = {g.trajectories[0].group_id for g in restored._pipeline.waiting}
        assert not launched & waiting_ids
    finally:
        restored.stop()


def test_lag_zero_is_the_synchronous_loop(engine_cluster, target_policy_dir) -> None:
    """Same seed, lag 0 against a config that never names it: the same trajectories (rewards,
    tokens) and the same loss; no pipeline."""
    from rllib_arpo.config import ARPOConfig

    default = async_config(target_policy_dir, 0).to_dict()
    default.pop("max_policy_lag")
    runs = []
    for config in (async_config(target_policy_dir, 0), ARPOConfig().update_from_dict(default)):
        algo = config.build_algo()
        try:
            result = algo.train()
            assert algo._pipeline is None
            learner = result["learners"]["default_policy"]
            runs.append(
                (
                    result["reward/mean"],
                    result["rollout/response_tokens_mean"],
                    learner["loss/policy"],
                )
            )
        finally:
            algo.stop()
    assert runs[0] == runs[1]
