"""A served env and its client in one process: tests and ``bench/eval.py`` (direct vs served)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

from envs.server.app import EnvFactory, EnvServer, serve


@contextlib.contextmanager
def local_env(
    env_factory: EnvFactory,
    *,
    host: str = "127.0.0.1",
    max_lifetime_s: float | None = 600.0,
    **client_kwargs: Any,
) -> Iterator[tuple[Any, EnvServer]]:
    """Serve ``env_factory`` on ``host`` (a free port, a fresh random token) and yield
    ``(client, server)``: an ``OSWorldEnv`` connected to the running ``EnvServer``. Both are
    closed on exit; ``server.shutdown()`` inside the block stops the server mid-episode.

    ``client_kwargs`` go to ``OSWorldEnv`` (timeouts, retries, max_steps, ...).
    """
    from envs.osworld import OSWorldEnv

    token = secrets.token_urlsafe(24)
    server = serve(env_factory, host, 0, token, max_lifetime_s=max_lifetime_s)
    client = None
    try:
        client = OSWorldEnv(server.url, token=token, **client_kwargs)
        yield client, server
    finally:
        if client is not None:
            client.close()
        server.shutdown()
