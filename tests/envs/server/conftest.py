"""Fixtures of the remote-env tests: servers on 127.0.0.1 that stop themselves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from remote_fakes import CounterEnv
from remote_helpers import SERVER_LIFETIME_S, TOKEN, ServerProcess

from envs.server import EnvServer, make_backend_factory, serve


@pytest.fixture
def counter_server() -> Iterator[EnvServer]:
    """CounterEnv served in a thread on 127.0.0.1 (free port)."""
    server = serve(CounterEnv, "127.0.0.1", 0, TOKEN, max_lifetime_s=SERVER_LIFETIME_S)
    yield server
    server.shutdown()


@pytest.fixture
def minidesk_server() -> Iterator[EnvServer]:
    """MiniDesk (its default 448x336) served in a thread, built as ``--env minidesk`` does."""
    factory = make_backend_factory("minidesk")
    server = serve(factory, "127.0.0.1", 0, TOKEN, env_name="minidesk",
                   max_lifetime_s=SERVER_LIFETIME_S)  # fmt: skip
    yield server
    server.shutdown()


@pytest.fixture
def server_process() -> Iterator[ServerProcess]:
    """CounterEnv served by ``python -m envs.server`` in a subprocess (killed at teardown)."""
    process = ServerProcess("--env", "remote_fakes:make_counter_env")
    yield process
    process.stop()
