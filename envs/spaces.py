"""The observation and action spaces every env here shares (MiniDesk, OSWorld, MiniWoB++), so one
policy and one rollout loop drive all of them.

- Observation: ``Dict(screenshot=Box(0, 255, (H, W, 3), uint8), instruction=Box(0, 255,
  (MAX_INSTRUCTION_BYTES,), uint8))``; the instruction is zero-padded UTF-8 (``encode_instruction``
  / ``decode_instruction``). Bytes, not a ``Text`` space: RLlib's vector env batches ``Text`` as a
  tuple of str and its unbatching keeps only the first character.
- Action: ``Text(MAX_CODE_CHARS)``, OSWorld ``pyautogui`` code read by
  ``envs.minidesk.interpreter`` (never executed), or ``WAIT``, ``DONE``, ``FAIL``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

MAX_CODE_CHARS = 65_536
"""Longest action string (characters) an env reads; longer ones are rejected."""
MAX_INSTRUCTION_BYTES = 1024
"""Size of the ``instruction`` observation (UTF-8 bytes, zero padded)."""
ACTION_CHARSET = "".join(chr(c) for c in [9, 10, 13, *range(32, 127), *range(160, 0x250)])
"""Characters the action space samples from (any str is accepted by ``step``)."""

Observation = dict[str, np.ndarray]
"""``{"screenshot": (H, W, 3) uint8, "instruction": (MAX_INSTRUCTION_BYTES,) uint8}``."""
ResetResult = tuple[Observation, dict[str, Any]]
"""What ``reset`` returns: (observation, info)."""
StepResult = tuple[Observation, float, bool, bool, dict[str, Any]]
"""What ``step`` returns: (observation, reward, terminated, truncated, info)."""


def env_spaces(width: int, height: int) -> tuple[spaces.Dict, spaces.Text]:
    """(observation space, action space) of an env whose screenshots are ``width`` x ``height``."""
    observation_space = spaces.Dict(
        {
            "screenshot": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "instruction": spaces.Box(0, 255, (MAX_INSTRUCTION_BYTES,), np.uint8),
        }
    )
    action_space = spaces.Text(max_length=MAX_CODE_CHARS, min_length=0, charset=ACTION_CHARSET)
    return observation_space, action_space


def encode_instruction(text: str) -> np.ndarray:
    """UTF-8 bytes of ``text`` zero-padded to ``MAX_INSTRUCTION_BYTES`` (cut at a char boundary)."""
    raw = text.encode("utf-8")[:MAX_INSTRUCTION_BYTES]
    raw = raw.decode("utf-8", errors="ignore").encode("utf-8")
    out = np.zeros(MAX_INSTRUCTION_BYTES, dtype=np.uint8)
    out[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return out


def decode_instruction(arr: np.ndarray) -> str:
    """Inverse of ``encode_instruction`` (accepts any integer array of byte values)."""
    raw = np.asarray(arr, dtype=np.uint8).tobytes()
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
