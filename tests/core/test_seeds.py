"""Tests of rllib_arpo/core/seeds.py: derived seeds of env runners and sample calls."""

from __future__ import annotations

from rllib_arpo.core.seeds import rollout_seed, sample_seed


def test_seeds_are_the_documented_offsets() -> None:
    assert rollout_seed(None, 0) == 0
    assert rollout_seed(5, 2) == 5 + 2 * 1_000_003
    assert sample_seed(7, 1, 3) == 7 + 3 * 7_919 + 104_729


def test_sample_seeds_do_not_collide_across_workers_and_calls() -> None:
    seeds = {sample_seed(0, worker, call) for worker in range(16) for call in range(1, 2_000)}
    assert len(seeds) == 16 * 1_999
