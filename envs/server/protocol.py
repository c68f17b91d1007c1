"""The env server's wire format, shared by the server and its client (``envs/osworld.py``).

One place for the API version, the limits, the token variable and the payload codecs. Stdlib,
numpy and Pillow only: the DesktopEnv host imports this module from its own venv. Screenshots
are encoded by ``rllib_arpo.core.images.encode_png`` (the project's one PNG encoder).

Payloads (JSON unless noted; every request carries ``Authorization: Bearer <token>``):

=========================  ==========================================  ===========================
request                    body                                        200 response
=========================  ==========================================  ===========================
``GET  /health``           -                                           ``{ok, env, version,
                                                                       screen_size, state}``
``POST /reset``            ``{task: dict | str | null, seed: int |     ``{observation, info}``
                           null}``
``POST /step``             ``{action: str}``                           ``{observation, reward,
                                                                       terminated, truncated,
                                                                       info}``
``POST /evaluate``         ``{}``                                      ``{result: float}``
``GET  /screenshot``       -                                           PNG bytes (``image/png``)
``POST /close``            ``{}``                                      ``{closed: true}``
=========================  ==========================================  ===========================

``observation`` is ``{screenshot_png_b64: str, instruction: str}``. Errors are
``{"error": "..."}`` with 400 (bad request: not JSON, not an object, too deep, a bad field, a task
the env does not know; the message names the field and its value), 401 (missing or wrong token),
404, 405 (with ``Allow``), 408 (the body did not arrive), 409 (call out of order, e.g. step before
reset), 411/413 (body length missing or over the limit) or 500 (the env raised; the server keeps
running). A client retries only 5xx, 408, 429 and no answer. The field limits live in
``envs/server/validation.py``.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import numpy as np
from PIL import Image

API_VERSION = "1"
"""Bumped on any incompatible change of the endpoints or payloads above."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_ENV_VAR = "ARPO_ENV_TOKEN"
"""Where ``python -m envs.server`` and ``OSWorldEnv`` read the token when none is passed."""

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Request bodies above this are refused with 413 (a task JSON is a few KiB, an action < 10 KiB)."""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

_MAX_JSON_DEPTH = 8
_MAX_JSON_ARRAY = 64


def decode_image(data: bytes) -> np.ndarray:
    """PNG or JPEG bytes -> uint8 HxWx3 RGB array (alpha and palettes are dropped)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)


def is_image(data: Any) -> bool:
    """True when ``data`` starts with PNG or JPEG magic bytes (as OSWorld's controller checks)."""
    return isinstance(data, (bytes, bytearray)) and (
        bytes(data[:8]) == PNG_MAGIC or bytes(data[:3]) == JPEG_MAGIC
    )


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def observation_payload(screenshot_png: bytes, instruction: str) -> dict[str, str]:
    return {"screenshot_png_b64": b64encode(screenshot_png), "instruction": instruction}


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """Best-effort plain-JSON copy of an env's ``info``: numpy scalars become numbers, arrays
    are summarized (never shipped), bytes and unknown objects become short strings, non-finite
    floats become None. Never raises."""
    if _depth > _MAX_JSON_DEPTH:
        return "..."
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        if value.size <= _MAX_JSON_ARRAY and value.ndim <= 1:
            return [to_jsonable(v, _depth + 1) for v in value.tolist()]
        return f"<array {value.dtype} {tuple(value.shape)}>"
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v, _depth + 1) for v in list(value)[:_MAX_JSON_ARRAY]]
    return repr(value)[:200]
