"""Derived seeds: the one rule that gives each env runner and each sample call its own stream.

Streams must differ between workers and between calls of one worker. Offsets by large primes keep
``(worker, call)`` pairs from colliding for any realistic run (a collision needs
``7,919 * dc == 104,729 * dw``, i.e. more than 104,729 calls).
"""

from __future__ import annotations

WORKER_ROLLOUT_STRIDE = 1_000_003
"""Seed distance between env runners' rollout settings (env resets of a worker's pool)."""
WORKER_SAMPLE_STRIDE = 104_729
"""Seed distance between env runners' sample calls (the 10,000th prime)."""
CALL_SAMPLE_STRIDE = 7_919
"""Seed distance between one env runner's consecutive sample calls (the 1,000th prime)."""


def rollout_seed(base: int | None, worker_index: int) -> int:
    """The base seed of env runner ``worker_index``'s rollout settings."""
    return (base or 0) + WORKER_ROLLOUT_STRIDE * worker_index


def sample_seed(base: int | None, worker_index: int, call: int) -> int:
    """The seed of env runner ``worker_index``'s ``call``-th ``sample()`` (its env resets)."""
    return (base or 0) + CALL_SAMPLE_STRIDE * call + WORKER_SAMPLE_STRIDE * worker_index
