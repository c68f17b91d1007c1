"""MiniWoB++ task ids: the names this env runs and the id forms it accepts.

Task ids: ``"click-test-2"``, ``"miniwob/click-test-2"`` or the gymnasium id
``"miniwob/click-test-2-v1"`` (a fresh instance per reset, seeded by ``reset(seed=...)``), or
``"miniwob/click-test-2/17"`` (always instance 17: every reset of the id shows the same page, as a
GRPO group needs).
"""

from __future__ import annotations

import difflib
from types import ModuleType

import gymnasium as gym

ID_PREFIX = "miniwob/"
"""Prefix of canonical task ids (``miniwob/<name>`` or ``miniwob/<name>/<seed>``)."""
UNSUPPORTED_PREFIXES = ("flight.",)
"""FlightWoB tasks need an HTTP server and a 375x667 frame; not supported here."""


def require_miniwob() -> ModuleType:
    """The ``miniwob`` package (its import registers the ``miniwob/...`` gymnasium ids); an
    ImportError saying how to install it (and Selenium) when either is missing."""
    try:
        import miniwob
        import selenium  # noqa: F401 - the browser side, checked here for one clear error
    except ImportError as exc:
        raise ImportError(
            "MiniWoBEnv needs the `miniwob` package: pip install -e '.[miniwob]' && "
            f"pip install --no-deps miniwob==1.1.0 (see docs/miniwob.md): {exc}"
        ) from None
    return miniwob


def supported_tasks() -> list[str]:
    """Names of the MiniWoB++ tasks this env runs (every registered task but FlightWoB), sorted."""
    require_miniwob()
    names = [
        env_id[len(ID_PREFIX) : -len("-v1")]
        for env_id in gym.registry
        if env_id.startswith(ID_PREFIX) and env_id.endswith("-v1")
    ]
    return sorted(n for n in names if not n.startswith(UNSUPPORTED_PREFIXES))


def task_id(name: str, seed: int | None = None) -> str:
    """Canonical id: ``miniwob/<name>`` or, with a seed, ``miniwob/<name>/<seed>``."""
    return f"{ID_PREFIX}{name}" if seed is None else f"{ID_PREFIX}{name}/{int(seed)}"


def parse_task_id(spec: str) -> tuple[str, int | None]:
    """``(name, seed or None)`` of a task id in any accepted form (see the module docstring).

    Raises:
        KeyError: an unknown or unsupported task name (the message lists close matches).
        TypeError: ``spec`` is not a str.
    """
    if not isinstance(spec, str):
        raise TypeError(f"a MiniWoB task is an id str, got {type(spec).__name__}: {spec!r}")
    rest = spec[len(ID_PREFIX) :] if spec.startswith(ID_PREFIX) else spec
    name, _, seed_text = rest.partition("/")
    if name.endswith("-v1"):
        name = name[: -len("-v1")]
    supported = supported_tasks()
    if name not in supported:
        close = difflib.get_close_matches(name, supported, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(
            f"unknown MiniWoB task {spec!r}{hint} ({len(supported)} supported: see "
            "envs.miniwob.supported_tasks(); FlightWoB tasks are not supported)"
        )
    if not seed_text:
        return name, None
    try:
        return name, int(seed_text)
    except ValueError:
        raise KeyError(
            f"bad MiniWoB task id {spec!r}: the part after the name must be an int seed"
        ) from None
