"""Helpers of the remote-env tests (token, HTTP calls, a server subprocess)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

TOKEN = "test-token-0123456789"
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SERVER_LIFETIME_S = 120.0


def call(
    url: str, method: str = "GET", body: Any = None, token: str | None = TOKEN,
    raw: bytes | None = None, headers: dict[str, str] | None = None,
) -> tuple[int, Any]:  # fmt: skip
    """One request with urllib -> (status, parsed JSON or raw bytes)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            status, payload, kind = reply.status, reply.read(), reply.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        status, payload, kind = error.code, error.read(), error.headers["Content-Type"]
    return status, json.loads(payload) if kind == "application/json" else payload


class ServerProcess:
    """``python -m envs.server`` in a subprocess; ``url`` once it listens."""

    def __init__(self, *args: str, lifetime_s: float = SERVER_LIFETIME_S) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "envs.server", "--host", "127.0.0.1", "--port", "0",
             "--token", TOKEN, "--max-lifetime-s", str(lifetime_s), "--log-level", "WARNING",
             *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**_env(), "PYTHONPATH": f"{ROOT}:{HERE}"},
        )  # fmt: skip
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.split("listening on", 1)[1].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ARPO_ENV_TOKEN"}
