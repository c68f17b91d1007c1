"""Where a policy comes from: ``policy_path`` names, the local cache, the checkpoint that ships.

``policy_path`` (config, YAML, ``arpo eval --policy``) is a checkpoint directory or one of two
names: ``tiny`` (a random-init 1.4M model, built once into the cache) and ``warmstart`` (the CPU
demo's committed warm start). ``resolve_policy_path`` is the one place that turns either into a
directory. Light on purpose (no torch, no Ray at import): the CLI reads these names when it builds
its options.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TINY_POLICY = "tiny"
"""``policy_path: tiny`` (or unset): a random-init 1.4M tiny model, written once to the cache."""
WARMSTART_POLICY = "warmstart"
"""``policy_path: warmstart`` in a config or YAML means ``COMMITTED_WARMSTART``."""

COMMITTED_WARMSTART = Path(__file__).parents[1] / "assets" / "warmstart-1.4m-grid112"
"""The demo's warm start, committed (5.6 MB): a 1.4M tiny model after 10 min of ``arpo warmstart``
on the families below; ``warmstart.json`` beside it records the command, steps and duration."""
COMMITTED_WARMSTART_FAMILIES = ("click_button", "tick_checkboxes", "switch_tab", "close_popup")
COMMITTED_WARMSTART_LEVEL = "grid112"

CACHE_ENV_VAR = "RLLIB_ARPO_CACHE"
"""Overrides the cache directory (default ``~/.cache/rllib-arpo``)."""
TINY_CACHE_NAME = "tiny-1.4m-seed0-v2"  # v2: files name Qwen2_5_VLProcessor (vLLM loads them)


def cache_dir() -> Path:
    """Where built checkpoints (the tiny model, demo warm starts) are cached."""
    return Path(os.environ.get(CACHE_ENV_VAR, Path.home() / ".cache" / "rllib-arpo"))


def resolve_policy_path(path: str | None) -> str:
    """``policy_path`` -> a checkpoint directory: None/"tiny" builds the cached tiny model once,
    "warmstart" is the committed warm start of the CPU demo; anything else is returned as is."""
    if path == WARMSTART_POLICY:
        return str(COMMITTED_WARMSTART)
    if path not in (None, TINY_POLICY):
        return str(path)
    cache = cache_dir()
    target = cache / TINY_CACHE_NAME
    if not (target / "config.json").exists():
        from rllib_arpo.policy.tiny import write_tiny_checkpoint

        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tiny-", dir=cache))
        write_tiny_checkpoint(staging, size="1.4m", seed=0)
        try:
            staging.rename(target)  # atomic: concurrent workers never see a half-written model
        except OSError:
            if not (target / "config.json").exists():
                raise
    return str(target)


def warmstart_record(path: Path) -> dict[str, Any] | None:
    """The ``warmstart.json`` that ``arpo warmstart`` wrote beside a checkpoint, if any."""
    record = Path(path) / "warmstart.json"
    return json.loads(record.read_text()) if record.is_file() else None


def committed_warmstart(families: Sequence[str], level: str, seed: int) -> Path | None:
    """The committed warm-start checkpoint when it matches (families, level, seed), else None."""
    record = warmstart_record(COMMITTED_WARMSTART)
    if record is None:
        return None
    matches = (
        sorted(families) == sorted(record["families"])
        and [level] == record["levels"]
        and seed == record["seed"]
    )
    return COMMITTED_WARMSTART if matches else None
