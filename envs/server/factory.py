"""Backends by name: what ``python -m envs.server --env NAME`` serves.

``make_backend_factory(name, kwargs)`` returns a zero-argument factory (the server builds the env
lazily, again after ``/close``): "minidesk", "osworld", "<module>:<callable>" or a gymnasium id.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import gymnasium

from envs.registration import make_minidesk
from envs.server.backends import Backend, GymBackend, as_backend
from envs.server.desktop import make_desktop_backend

ENV_CHOICES = ("minidesk", "osworld", "<module>:<callable>", "<gymnasium id>")


def make_backend_factory(
    env: str, env_kwargs: dict[str, Any] | None = None
) -> Callable[[], Backend]:
    """A zero-argument factory of the backend named by ``env``.

    Args:
        env: "minidesk" (MiniDesk, in-process), "osworld" (OSWorld's DesktopEnv, see
            ``envs.server.desktop.make_desktop_backend``), "<module>:<callable>" (the callable
            is called with ``env_kwargs`` and returns a gymnasium env or a ``Backend``), or a
            registered gymnasium id.
        env_kwargs: Keyword arguments of the env's constructor.

    Raises:
        ValueError: ``env`` is none of these (the message lists the choices).
    """
    kwargs = dict(env_kwargs or {})
    if env == "minidesk":
        return lambda: GymBackend(make_minidesk(kwargs), name="minidesk")
    if env == "osworld":
        return lambda: make_desktop_backend(**kwargs)
    if ":" in env:
        module_name, _, attr = env.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        return lambda: as_backend(factory(**kwargs), name=env)
    if env in gymnasium.registry:
        return lambda: GymBackend(gymnasium.make(env, **kwargs), name=env)
    raise ValueError(f"unknown env {env!r}; choose one of {', '.join(ENV_CHOICES)}")
