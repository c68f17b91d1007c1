"""Checkpoints that ship with the package: the CPU demo's warm start.

Light on purpose (no torch, no Ray): the CLI reads these names when it builds its options.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

WARMSTART_POLICY = "warmstart"
"""``policy_path: warmstart`` in a config or YAML means ``COMMITTED_WARMSTART``."""

COMMITTED_WARMSTART = Path(__file__).parents[1] / "assets" / "warmstart-1.4m-grid112"
"""The demo's warm start, committed (5.6 MB): a 1.4M tiny model after 10 min of ``arpo warmstart``
on the families below; ``warmstart.json`` beside it records the command, steps and duration."""
COMMITTED_WARMSTART_FAMILIES = ("click_button", "tick_checkboxes", "switch_tab", "close_popup")
COMMITTED_WARMSTART_LEVEL = "grid112"


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
