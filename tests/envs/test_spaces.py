"""``envs/spaces.py``: the observation encoding every env shares."""

from __future__ import annotations

import numpy as np

from envs.spaces import MAX_INSTRUCTION_BYTES, decode_instruction, encode_instruction


def test_instruction_bytes_round_trip_and_survive_batching() -> None:
    text = "Compare iPhone 15 Pro Max — ünïcödé 강남스타일"
    arr = encode_instruction(text)
    assert decode_instruction(arr) == text
    batch = np.stack([arr, encode_instruction("other")])  # what a vector env does with a Box
    assert decode_instruction(batch[0]) == text  # and unbatching by indexing keeps it whole
    long = "é" * 2000
    assert decode_instruction(encode_instruction(long)) == "é" * (MAX_INSTRUCTION_BYTES // 2)
