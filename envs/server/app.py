"""The env server: one env behind a token-protected HTTP+JSON API (see ``protocol.py``).

``serve(...)`` binds, starts the request loop in a daemon thread and returns the running
``EnvServer`` (``.url``, ``.shutdown()``); ``main(argv)`` is ``python -m envs.server`` and what
the ``arpo env-server`` command calls. One env per server process: run several servers (ports)
per host for parallel rollouts.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from envs.server.backends import Backend, TaskError, as_backend
from envs.server.factory import make_backend_factory
from envs.server.protocol import (
    API_VERSION,
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_BODY_BYTES,
    TOKEN_ENV_VAR,
    observation_payload,
    to_jsonable,
)
from envs.server.validation import RequestError, cut, parse_body, reset_fields, shorten, step_action

logger = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 600.0
"""Keep-alive connections idle this long are closed (the client reconnects transparently)."""

MIN_TOKEN_CHARS = 16
"""Shortest token ``python -m envs.server`` accepts, and any server on a public address. A
random 16-character token (``secrets.token_urlsafe(12)``) holds 96 bits, out of reach of
guessing over the network; shorter ones are typically typed by hand ("test", "secret"), and
whoever holds the token runs code on the env's VM."""
TOKEN_HINT = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
"""How the docs (and the errors) generate a token."""

EnvFactory = Callable[[], Any]
"""Zero-argument callable returning a gymnasium env or a ``Backend``."""


class EnvHost:
    """The one env of a server and its episode state; every env call holds ``lock``.

    States: "idle" (no episode yet, or closed: the next reset builds a new env when needed),
    "running", "over" (terminated, truncated, or the env raised during a step).
    """

    def __init__(self, env_factory: EnvFactory, name: str | None = None) -> None:
        self._factory = env_factory
        self._name = name
        self.lock = threading.Lock()
        self.backend: Backend | None = None
        self.screen_size: tuple[int, int] | None = None
        self.state = "idle"
        self.steps = 0

    @property
    def name(self) -> str:
        return self.backend.name if self.backend is not None else (self._name or "env")

    def open(self) -> Backend:
        if self.backend is None:
            self.backend = as_backend(self._factory(), name=self._name)
            self._name = self._name or self.backend.name
        self.screen_size = self.backend.screen_size or self.screen_size
        return self.backend

    def health(self) -> dict[str, Any]:
        size = self.screen_size  # kept after /close: clients can still size their spaces
        return {
            "ok": True,
            "env": self.name,
            "version": API_VERSION,
            "screen_size": list(size) if size else None,
            "state": self.state,
            "steps": self.steps,
        }

    def reset(self, body: dict[str, Any]) -> dict[str, Any]:
        task, seed = reset_fields(body)
        with self.lock:
            self.state, self.steps = "idle", 0
            try:
                png, instruction, info = self.open().reset(task, seed)
            except TaskError as error:  # the env refused the task: the client's error, a 400
                raise RequestError(
                    HTTPStatus.BAD_REQUEST, f"bad task: field 'task' = {shorten(task)}: {error}"
                ) from None
            self.screen_size = self.backend.screen_size or self.screen_size
            self.state = "running"
        return {"observation": observation_payload(png, instruction), "info": info}

    def step(self, body: dict[str, Any]) -> dict[str, Any]:
        action = step_action(body)
        with self.lock:
            if self.state != "running" or self.backend is None:
                raise RequestError(
                    HTTPStatus.CONFLICT, f"no episode is running (state {self.state}): POST /reset"
                )
            self.state = "over"  # stays so if the env raises: that episode is lost
            png, reward, terminated, truncated, info = self.backend.step(action)
            self.steps += 1
            self.state = "over" if terminated or truncated else "running"
        return {
            "observation": observation_payload(png, ""),
            "reward": reward,
            "terminated": terminated,
            "truncated": truncated,
            "info": info,
        }

    def evaluate(self) -> dict[str, Any]:
        with self.lock:
            if self.state == "idle" or self.backend is None:
                raise RequestError(HTTPStatus.CONFLICT, "no episode to evaluate: POST /reset")
            return {"result": float(self.backend.evaluate())}

    def screenshot(self) -> bytes:
        with self.lock:
            if self.state == "idle" or self.backend is None:
                raise RequestError(HTTPStatus.CONFLICT, "no screen before the first reset")
            return self.backend.screenshot()

    def close(self) -> dict[str, Any]:
        with self.lock:
            backend, self.backend = self.backend, None
            self.state, self.steps = "idle", 0
            if backend is not None:
                backend.close()
        return {"closed": True}


class EnvServer(ThreadingHTTPServer):
    """A running env server. ``url`` is where it listens; ``shutdown()`` stops it and closes
    the env."""

    daemon_threads = True
    request_queue_size = 16

    def __init__(
        self,
        host: EnvHost,
        address: tuple[str, int],
        token: str,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        check_token(token)
        self.host = host
        self.token = token.encode("utf-8")
        self.max_body_bytes = max_body_bytes
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._shutdown_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self, max_lifetime_s: float | None = None) -> EnvServer:
        """Serve in a daemon thread; with ``max_lifetime_s`` the server shuts itself down then."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
            name=f"env-server-{self.port}",
        )  # fmt: skip
        self._thread.start()
        if max_lifetime_s is not None:
            timer = threading.Timer(max_lifetime_s, self.shutdown)
            timer.daemon = True
            timer.start()
        return self

    def shutdown(self) -> None:
        """Stop serving, drop open connections, close the env and the listening socket.

        Idempotent; a second caller waits until the first one is done.
        """
        with self._shutdown_lock:
            if self._stopped.is_set():
                return
            if self._thread is not None:
                super().shutdown()
                if threading.current_thread() is not self._thread:
                    self._thread.join(timeout=5)
            with self._connections_lock:
                connections = list(self._connections)
            for connection in connections:  # keep-alive clients must not talk to a dead env
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            try:
                self.host.close()
            except Exception:
                logger.exception("closing the env failed")  # a broken env must not stop this
            self.server_close()
            self._stopped.set()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An exception that escaped a request (socketserver prints it to stderr by default).

        A client that hung up or stalled is logged in one line; anything else is a bug of the
        server, logged with its traceback. The server keeps serving either way.
        """
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            logger.debug("connection from %s dropped: %s", client_address, error)
        else:
            logger.error("request from %s failed", client_address, exc_info=True)

    def track(self, connection: socket.socket, open_: bool) -> None:
        """Remember open client connections (so that ``shutdown`` can drop them)."""
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def authorized(self, header: str | None) -> bool:
        scheme, _, given = (header or "").partition(" ")
        # compare_digest: the time taken does not reveal how much of the token matched.
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8"), self.token
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses one connection per episode
    server: EnvServer
    server_version = f"arpo-env-server/{API_VERSION}"
    timeout = IDLE_TIMEOUT_S  # a connection that sends nothing for this long is dropped

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unsupported method, ...) as JSON too."""
        self.close_connection = True
        status = HTTPStatus(code)
        self._send(status, _dumps({"error": cut(message or status.phrase)}), "application/json")

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without NODELAY, Nagle + delayed ACK add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        try:
            super().finish()
        except OSError:  # the connection was shut down under us
            pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        self._body_read = False
        try:
            if not self.server.authorized(self.headers.get("Authorization")):
                raise RequestError(HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token")
            route = _ROUTES.get(path)
            if route is None:
                raise RequestError(
                    HTTPStatus.NOT_FOUND, f"no endpoint {shorten(path)}; see GET /health"
                )
            allowed, call = route
            if method != allowed:
                raise RequestError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{path} takes {allowed}, not {method}",
                    headers={"Allow": allowed},
                )  # fmt: skip
            body = self._read_json() if method == "POST" else {}
            result = call(self.server.host, body)
        except RequestError as error:  # the client's mistake: answered, not logged as an error
            logger.debug("%s %s: %d %s", method, shorten(path), error.status, error)
            self._send_error(error.status, str(error), error.headers)
        except Exception as error:  # noqa: BLE001 - the env raised: answer 500, keep serving
            logger.error("%s %s failed:\n%s", method, path, traceback.format_exc())
            self._send_error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(error).__name__}: {error}")
        else:
            if isinstance(result, bytes):
                self._send(HTTPStatus.OK, result, "image/png")
            else:
                self._send(HTTPStatus.OK, _dumps(result), "application/json")

    def _read_json(self) -> dict[str, Any]:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            if self.headers.get("Transfer-Encoding"):
                raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length body")
            self._body_read = True
            return {}
        digits = length_header.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                f"bad Content-Length {shorten(length_header)}; expected a number of bytes",
            )
        limit = self.server.max_body_bytes
        if len(digits) > len(str(limit)) or int(digits) > limit:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"body of {shorten(digits)} bytes is over the limit of {limit}",
            )
        length = int(digits)
        try:
            raw = self.rfile.read(length) if length else b""
        except OSError as error:  # a client that stalls (socket timeout) or hangs up
            raise RequestError(
                HTTPStatus.REQUEST_TIMEOUT, f"the body of {length} bytes did not arrive: {error}"
            ) from None
        if len(raw) < length:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"body ended after {len(raw)} of {length} bytes"
            )
        self._body_read = True
        return parse_body(raw)

    def _send_error(
        self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None
    ) -> None:
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND, HTTPStatus.METHOD_NOT_ALLOWED):
            self.close_connection = True  # answer a stranger once, then hang up
        self._send(status, _dumps({"error": cut(message)}), "application/json", headers)

    def _send(
        self, status: HTTPStatus, data: bytes, content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        if self._unread_body():
            # A body left unread must not be parsed as the next request: this connection is done.
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="env-server"')
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(data)

    def _unread_body(self) -> bool:
        headers = getattr(self, "headers", None)
        if headers is None or getattr(self, "_body_read", False):
            return False
        length = (headers.get("Content-Length") or "").strip()
        return bool(headers.get("Transfer-Encoding")) or length not in ("", "0")


def _dumps(payload: Any) -> bytes:
    return json.dumps(to_jsonable(payload), allow_nan=False).encode("utf-8")


_ROUTES: dict[str, tuple[str, Callable[[EnvHost, dict[str, Any]], Any]]] = {
    "/health": ("GET", lambda host, body: host.health()),
    "/reset": ("POST", lambda host, body: host.reset(body)),
    "/step": ("POST", lambda host, body: host.step(body)),
    "/evaluate": ("POST", lambda host, body: host.evaluate()),
    "/screenshot": ("GET", lambda host, body: host.screenshot()),
    "/close": ("POST", lambda host, body: host.close()),
}


def create_server(
    env_factory: EnvFactory,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    *,
    env_name: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    allow_public: bool = False,
) -> EnvServer:
    """Build the env (fail fast) and bind ``host:port`` (0 = any free port); not serving yet.

    Args:
        env_factory: Zero-argument callable returning a gymnasium env or a ``Backend``.
        host: The one address to listen on. Anything but loopback exposes the env (and, with
            DesktopEnv, code execution on its VM) to whoever holds the token: it needs
            ``allow_public`` and a token of at least ``MIN_TOKEN_CHARS`` characters.
        port: TCP port.
        token: The bearer token every request must carry (default: ``$ARPO_ENV_TOKEN``).
        env_name: Name shown by ``/health``.
        max_body_bytes: Larger request bodies get 413.
        allow_public: Allow a non-loopback ``host`` (``--allow-public``).

    Raises:
        ValueError: No token, a public ``host`` without ``allow_public``, or a public ``host``
            with a token shorter than ``MIN_TOKEN_CHARS``.
    """
    token = token or os.environ.get(TOKEN_ENV_VAR, "")
    if not _is_loopback(host):
        if not allow_public:
            raise ValueError(
                f"refusing to listen on {host!r}, which is not a loopback address: the API is "
                "plain HTTP and whoever holds the token runs code on the env's VM. Keep "
                "127.0.0.1 and tunnel to it (ssh -L), or pass --allow-public to bind it anyway"
            )
        check_token(token, MIN_TOKEN_CHARS)
        logger.warning("env server listening on non-loopback address %s", host)
    # Bind first (a taken port fails in milliseconds), then build the env (a VM boots in minutes).
    server = EnvServer(EnvHost(env_factory, env_name), (host, port), token, max_body_bytes)
    try:
        server.host.open()
    except BaseException:
        server.server_close()
        raise
    return server


def serve(
    env_factory: EnvFactory, *args: Any, max_lifetime_s: float | None = None, **kwargs: Any
) -> EnvServer:
    """Start an env server in a daemon thread and return it (``.url``, ``.shutdown()``).

    Args:
        env_factory: As for ``create_server``.
        *args: ``create_server``'s host, port, token.
        max_lifetime_s: The server shuts itself down after this long (tests, benchmarks).
        **kwargs: ``create_server``'s keyword arguments (env_name, max_body_bytes).
    """
    return create_server(env_factory, *args, **kwargs).start(max_lifetime_s=max_lifetime_s)


def check_token(token: str, min_chars: int = 1, source: str = "the token") -> None:
    """Raise ``ValueError`` unless ``token`` is a usable bearer token of ``min_chars`` or more.

    Args:
        token: The token.
        min_chars: Its least length (``MIN_TOKEN_CHARS`` for the command and public addresses).
        source: Where it came from, for the message ("--token", "$ARPO_ENV_TOKEN").
    """
    if not token:
        raise ValueError(f"the env server needs a token (pass --token or set {TOKEN_ENV_VAR})")
    if not all("!" <= char <= "~" for char in token):
        raise ValueError(
            f"{source} must be printable ASCII without whitespace (it travels in an HTTP "
            f"header); generate one with {TOKEN_HINT}"
        )
    if len(token) < min_chars:
        raise ValueError(
            f"{source} has {len(token)} characters; the env server needs at least {min_chars} "
            f"characters, random: set {TOKEN_ENV_VAR} from {TOKEN_HINT}"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m envs.server",
        description="Serve one env (MiniDesk, OSWorld DesktopEnv, any gymnasium env) over HTTP.",
    )
    parser.add_argument(
        "--env", required=True,
        help="minidesk | osworld | <module>:<callable> | a registered gymnasium id",
    )  # fmt: skip
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default loopback)")
    parser.add_argument(
        "--allow-public", action="store_true",
        help="allow a --host that is not loopback (plain HTTP: prefer an SSH tunnel)",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 = any free port")
    parser.add_argument(
        "--token", default=None, help=f"bearer token of at least {MIN_TOKEN_CHARS} characters "
        f"(default: ${TOKEN_ENV_VAR}, which keeps it out of the process list)",
    )  # fmt: skip
    parser.add_argument(
        "--env-kwargs", default="{}", type=json.loads, help="JSON object of the env's kwargs"
    )
    parser.add_argument("--max-body-bytes", type=int, default=MAX_BODY_BYTES)
    parser.add_argument("--max-lifetime-s", type=float, default=None, help="stop after this long")
    parser.add_argument("--log-level", default="INFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m envs.server``: serve until SIGINT/SIGTERM (or ``--max-lifetime-s``).

    Prints one line ``env-server listening on http://HOST:PORT`` once it accepts requests.
    """
    args = build_arg_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    if not isinstance(args.env_kwargs, dict):
        raise SystemExit(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    token = args.token or os.environ.get(TOKEN_ENV_VAR, "")
    try:
        check_token(token, MIN_TOKEN_CHARS, "--token" if args.token else f"${TOKEN_ENV_VAR}")
        factory = make_backend_factory(args.env, args.env_kwargs)
        server = create_server(
            factory, args.host, args.port, token, env_name=args.env,
            max_body_bytes=args.max_body_bytes, allow_public=args.allow_public,
        )  # fmt: skip
    except ValueError as error:
        raise SystemExit(str(error)) from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start(max_lifetime_s=args.max_lifetime_s)
    sys.stdout.write(f"env-server listening on {server.url}\n")
    sys.stdout.flush()
    while not stop.wait(0.2) and not server.stopped:
        pass
    server.shutdown()
    return 0
