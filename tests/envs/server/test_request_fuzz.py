"""envs/server: fuzzed requests against a real server get 200 or a 4xx, never a 500, and the
server keeps answering (hypothesis, derandomized: the same examples on every run)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from remote_helpers import call

from envs.minidesk import FAMILIES, LEVELS
from envs.spaces import MAX_CODE_CHARS

ROUTES = [
    ("GET", "/health"),
    ("POST", "/reset"),
    ("POST", "/step"),
    ("POST", "/evaluate"),
    ("GET", "/screenshot"),
    ("POST", "/close"),
]
"""The API; the fuzz also sends each path with the other implemented methods, and odd paths."""
ODD_PATHS = ["/", "/nope", "/reset/x", "/health?x=1", "//step", "/%00"]
FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# CounterEnv raises on "RAISE" and sleeps on "SLEEP <s>": an env failure is a 500 by design.
texts = st.text(max_size=24).filter(lambda text: not text.startswith(("RAISE", "SLEEP")))
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats()
    | texts
)
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=16,
)
task_ids = st.builds(
    "/".join,
    st.tuples(st.just("minidesk"), st.sampled_from(FAMILIES) | texts,
              st.sampled_from(LEVELS) | texts, st.integers(-5, 2**70).map(str) | texts),
)  # fmt: skip


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _deep(prefix: bytes, depth: int) -> bytes:
    return prefix + b"[" * depth + b"]" * depth + (b"}" if prefix else b"")


def _digits(prefix: bytes, count: int) -> bytes:
    return prefix + b"9" * count + b"}"


bodies = st.one_of(
    json_values.map(_dumps),
    st.fixed_dictionaries({}, optional={"task": json_values | task_ids, "seed": json_values})
    .map(_dumps),
    st.fixed_dictionaries({"action": json_values | texts}).map(_dumps),
    st.tuples(st.sampled_from([b"", b'{"task": ', b'{"action": ']), st.integers(1, 50_000))
    .map(lambda args: _deep(*args)),
    st.tuples(st.sampled_from([b'{"seed": ', b'{"seed": -', b'{"task": {"n": ']),
              st.integers(50, 6000)).map(lambda args: _digits(*args)),
    st.binary(max_size=64),
)  # fmt: skip
requests = st.one_of(
    st.sampled_from(ROUTES),
    st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
              st.sampled_from([path for _, path in ROUTES] + ODD_PATHS)),
)  # fmt: skip


def _check(url: str, route: tuple[str, str], raw: bytes) -> None:
    method, path = route
    status, body = call(url + path, method, raw=raw)
    assert status == 200 or 400 <= status < 500, (status, body)
    if status != 200:
        assert isinstance(body, dict) and isinstance(body.get("error"), str), body
        assert len(body["error"]) < 1000, body["error"][:200]
    assert call(url + "/health")[0] == 200


def _no_server_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r.getMessage()[:300] for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors and "Traceback" not in caplog.text


@FUZZ
@given(route=requests, raw=bodies)
@example(route=("POST", "/reset"), raw=b'{"seed": -1}')
@example(route=("POST", "/reset"), raw=_digits(b'{"seed": ', 5000))
@example(route=("POST", "/reset"), raw=_deep(b"", 100_000))
@example(route=("POST", "/reset"), raw=_deep(b'{"task": ', 5000))
@example(route=("POST", "/reset"), raw=b'{"task": "' + b"t" * 5000 + b'"}')
@example(route=("POST", "/reset"), raw=b"[1, 2]")
@example(route=("POST", "/reset"), raw=b"\xff\xfe{")
@example(route=("POST", "/step"), raw=b'{"action": 3}')
@example(route=("POST", "/step"), raw=_dumps({"action": "x" * (MAX_CODE_CHARS + 1)}))
@example(route=("POST", "/evaluate"), raw=b"{}")
@example(route=("GET", "/step"), raw=b"")
@example(route=("DELETE", "/nope"), raw=b"")
def test_fuzzed_requests_get_200_or_a_4xx(counter_server, caplog, route, raw) -> None:
    caplog.clear()  # one fixture for all examples: check this example's records only
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        _check(counter_server.url, route, raw)
    _no_server_errors(caplog)


@FUZZ
@given(raw=bodies)
@example(raw=b'{"task": "minidesk/nope/easy/1"}')
@example(raw=b'{"task": "no-such-task"}')
@example(raw=b'{"task": {"id": "x"}}')
@example(raw=b'{"task": "minidesk/click_button/easy/1", "seed": -1}')
def test_fuzzed_resets_of_minidesk_get_200_or_a_4xx(minidesk_server, caplog, raw) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        _check(minidesk_server.url, ("POST", "/reset"), raw)
    _no_server_errors(caplog)
