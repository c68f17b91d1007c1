"""The env server: one env (MiniDesk, OSWorld's DesktopEnv, any gymnasium env) behind a small
token-protected HTTP+JSON API, and helpers to run one locally.

- ``serve(env_factory, host, port, token)``: start a server in a daemon thread -> ``EnvServer``
  (``.url``, ``.port``, ``.shutdown()``).
- ``main(argv)``: ``python -m envs.server --env minidesk|osworld|<module>:<callable> ...``.
- ``envs.server.local.local_env(env_factory, **client_kwargs)``: context manager yielding
  ``(client, server)``, a served env and its ``OSWorldEnv`` client, for tests and benchmarks
  (direct vs served). Not imported here: it imports the client, which imports this package.

The wire format is documented in ``envs/server/protocol.py`` and docs/osworld.md; what a
request may hold is checked in ``envs/server/validation.py`` (every bad request is a 4xx).
"""

from envs.server.app import EnvServer, create_server, main, serve
from envs.server.backends import Backend, GymBackend, TaskError
from envs.server.factory import make_backend_factory
from envs.server.protocol import API_VERSION, TOKEN_ENV_VAR

__all__ = [
    "API_VERSION",
    "TOKEN_ENV_VAR",
    "Backend",
    "EnvServer",
    "GymBackend",
    "TaskError",
    "create_server",
    "main",
    "make_backend_factory",
    "serve",
]
