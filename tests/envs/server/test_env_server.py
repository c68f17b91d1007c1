"""envs/server: the HTTP API, its token, its address, its limits, and env failures as 500s."""

from __future__ import annotations

import base64
import http.client
import io
import json
import logging
import signal
import socket

import numpy as np
import pytest
from PIL import Image
from remote_fakes import CounterEnv
from remote_helpers import TOKEN, call

from envs.server import (
    API_VERSION,
    TOKEN_ENV_VAR,
    GymBackend,
    create_server,
    main,
    make_backend_factory,
    serve,
)
from envs.spaces import MAX_CODE_CHARS


def test_health_reports_env_version_and_screen(counter_server) -> None:
    status, body = call(counter_server.url + "/health")
    assert status == 200
    assert body == {
        "ok": True, "env": "CounterEnv", "version": API_VERSION, "screen_size": [64, 48],
        "state": "idle", "steps": 0,
    }  # fmt: skip


def test_episode_over_the_raw_api(counter_server) -> None:
    url = counter_server.url
    status, body = call(url + "/reset", "POST", {"task": {"id": "t1"}, "seed": 3})
    assert status == 200
    assert body["info"] == {"instruction": "count to two (t1)", "task_id": "t1"}
    assert body["observation"]["instruction"] == "count to two (t1)"
    png = base64.b64decode(body["observation"]["screenshot_png_b64"])
    assert np.asarray(Image.open(io.BytesIO(png))).shape == (48, 64, 3)

    status, body = call(url + "/step", "POST", {"action": "pyautogui.click(1, 2)"})
    assert status == 200
    assert (body["reward"], body["terminated"], body["truncated"]) == (0.0, False, False)
    assert body["info"] == {"count": 1}  # numpy ints become JSON numbers
    status, png = call(url + "/screenshot")
    assert status == 200 and png.startswith(b"\x89PNG")
    assert np.asarray(Image.open(io.BytesIO(png)))[20, 20, 0] == 10

    call(url + "/step", "POST", {"action": "x"})
    status, body = call(url + "/step", "POST", {"action": "DONE"})
    assert body["terminated"] and body["info"]["eval_result"] == 1.0
    assert call(url + "/evaluate", "POST", {}) == (200, {"result": 1.0})
    status, body = call(url + "/step", "POST", {"action": "x"})
    assert status == 409 and "POST /reset" in body["error"]


@pytest.mark.parametrize(
    "token, headers",
    [(None, {}), ("wrong-token", {}), (TOKEN[:-1], {}), (None, {"Authorization": TOKEN}),
     (None, {"Authorization": f"Basic {TOKEN}"})],
)  # fmt: skip
def test_requests_without_the_token_are_refused(counter_server, token, headers) -> None:
    for path, method in [("/health", "GET"), ("/reset", "POST"), ("/screenshot", "GET")]:
        status, body = call(counter_server.url + path, method, {}, token=token, headers=headers)
        assert status == 401, path
        assert body == {"error": "missing or wrong bearer token"}
    assert counter_server.host.state == "idle"  # nothing reached the env


def test_server_listens_only_on_the_address_it_was_given(counter_server) -> None:
    assert counter_server.server_address[0] == "127.0.0.1"
    with socket.create_connection(("127.0.0.1", counter_server.port), timeout=2):
        pass
    # 127.0.0.2 is loopback too on Linux, but not the address the server was bound to.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", counter_server.port), timeout=2).close()


def test_bad_requests_get_json_errors(counter_server) -> None:
    url = counter_server.url
    assert call(url + "/nope")[0] == 404
    assert call(url + "/step")[0] == 405  # GET on a POST endpoint
    assert call(url + "/step", "POST", {"action": "x"})[0] == 409  # before any reset
    assert call(url + "/evaluate", "POST", {})[0] == 409
    status, body = call(url + "/reset", "POST", raw=b"{not json")
    assert status == 400 and "not JSON" in body["error"]
    assert call(url + "/reset", "POST", [1, 2])[0] == 400
    assert call(url + "/reset", "POST", {"seed": "7"})[0] == 400
    assert call(url + "/reset", "POST", {"task": 5})[0] == 400
    call(url + "/reset", "POST", {})
    status, body = call(url + "/step", "POST", {"action": 3})
    assert status == 400 and "string" in body["error"]
    assert call(url + "/step", "PATCH", {}) == (501, {"error": "Unsupported method ('PATCH')"})


def test_oversized_bodies_are_refused_before_reading() -> None:
    server = serve(CounterEnv, "127.0.0.1", 0, TOKEN, max_body_bytes=1000, max_lifetime_s=60)
    try:
        status, body = call(server.url + "/step", "POST", {"action": "x" * 2000})
        assert status == 413 and "limit of 1000" in body["error"]
        assert call(server.url + "/health")[0] == 200
    finally:
        server.shutdown()


def test_an_env_that_raises_gives_500_and_the_server_keeps_serving(counter_server) -> None:
    url = counter_server.url
    call(url + "/reset", "POST", {"task": "t"})
    status, body = call(url + "/step", "POST", {"action": "RAISE"})
    assert status == 500
    assert body == {"error": "RuntimeError: the emulator crashed"}
    assert call(url + "/step", "POST", {"action": "x"})[0] == 409  # that episode is lost
    assert call(url + "/reset", "POST", {"task": "t"})[0] == 200
    assert call(url + "/step", "POST", {"action": "x"})[0] == 200


def test_a_failing_reset_is_a_500_and_the_next_one_can_succeed() -> None:
    server = serve(lambda: CounterEnv(failing_resets=1), "127.0.0.1", 0, TOKEN, max_lifetime_s=60)
    try:
        status, body = call(server.url + "/reset", "POST", {})
        assert status == 500 and "VM setup failed" in body["error"]
        assert call(server.url + "/reset", "POST", {})[0] == 200
    finally:
        server.shutdown()


def test_close_closes_the_env_and_reset_builds_a_new_one() -> None:
    made: list[CounterEnv] = []

    def factory() -> CounterEnv:
        made.append(CounterEnv())
        return made[-1]

    server = serve(factory, "127.0.0.1", 0, TOKEN, max_lifetime_s=60)
    try:
        call(server.url + "/reset", "POST", {})
        assert call(server.url + "/close", "POST", {}) == (200, {"closed": True})
        assert made[0].closed and len(made) == 1
        assert call(server.url + "/health")[1]["screen_size"] == [64, 48]  # still known
        assert call(server.url + "/reset", "POST", {})[0] == 200
        assert len(made) == 2
    finally:
        server.shutdown()
    assert made[1].closed  # shutdown closes the env too


def test_keep_alive_connection_serves_many_requests(counter_server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", counter_server.port, timeout=5)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(3):
        conn.request("GET", "/health", headers=headers)
        assert conn.getresponse().read().startswith(b'{"ok": true')
    conn.request("GET", "/health")  # an unauthorized request closes the connection
    reply = conn.getresponse()
    assert reply.status == 401 and reply.will_close
    conn.close()


def test_a_token_is_required() -> None:
    with pytest.raises(ValueError, match="needs a token"):
        create_server(CounterEnv, "127.0.0.1", 0, "")


def test_a_taken_port_fails_before_the_env_is_built(counter_server) -> None:
    built: list[CounterEnv] = []
    with pytest.raises(OSError):
        create_server(lambda: built.append(CounterEnv()), "127.0.0.1", counter_server.port, TOKEN)
    assert built == []


def test_backend_factory_names() -> None:
    assert isinstance(make_backend_factory("remote_fakes:make_counter_env")(), GymBackend)
    backend = make_backend_factory("CartPole-v1")
    with pytest.raises(ValueError, match="minidesk, osworld"):
        make_backend_factory("no-such-env")
    assert backend().name == "CartPole-v1"


def test_python_m_envs_server_serves_and_stops_on_sigterm(server_process) -> None:
    status, body = call(server_process.url + "/health")
    assert status == 200 and body["env"] == "remote_fakes:make_counter_env"
    assert call(server_process.url + "/health", token="bad")[0] == 401
    server_process.proc.send_signal(signal.SIGTERM)
    assert server_process.proc.wait(timeout=10) == 0


# --- client errors: every bad request is a 4xx naming the field and the value ----------------


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Server log records that carry a traceback or an error level (none is due to a client)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.exc_info or "Traceback" in r.getMessage() or r.levelno >= logging.ERROR
    ]


def _nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


BAD_MINIDESK_TASKS = [
    ("minidesk/nope/easy/1", "'nope'"),  # unknown family
    ("minidesk/click_button/nolevel/1", "'nolevel'"),  # unknown level
    ("minidesk/click_button/easy/abc", "minidesk/click_button/easy/abc"),  # malformed seed
    ("no-such-task", "unknown task id 'no-such-task'"),
    ({"id": "x"}, "missing required field"),
    ({"id": "x", "instruction": "i", "config": [], "evaluator": {"func": "nope"}}, "'nope'"),
]


@pytest.mark.parametrize("task, reason", BAD_MINIDESK_TASKS)
def test_a_bad_minidesk_task_is_a_400_naming_the_task(
    minidesk_server, caplog, task, reason
) -> None:
    url = minidesk_server.url
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        status, body = call(url + "/reset", "POST", {"task": task, "seed": 0})
    assert status == 400, body
    assert body["error"].startswith("bad task: field 'task' = ") and reason in body["error"]
    assert not _tracebacks(caplog)
    assert call(url + "/step", "POST", {"action": "WAIT"})[0] == 409  # no episode started
    assert call(url + "/reset", "POST", {"task": "minidesk/click_button/easy/1"})[0] == 200


@pytest.mark.parametrize(
    "raw, shown",
    [(b'{"seed": -1}', "-1"), (b'{"seed": ' + b"9" * 5000 + b"}", "5000 digits"),
     (b'{"seed": 18446744073709551616}', "18446744073709551616"), (b'{"seed": "7"}', "'7'"),
     (b'{"seed": true}', "True"), (b'{"seed": 1.5}', "1.5")],
)  # fmt: skip
def test_a_bad_seed_is_a_400_naming_the_seed(counter_server, caplog, raw, shown) -> None:
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        status, body = call(counter_server.url + "/reset", "POST", raw=raw)
    assert status == 400, body
    assert "'seed'" in body["error"] and shown in body["error"] and len(body["error"]) < 300
    assert not _tracebacks(caplog)


@pytest.mark.parametrize(
    "raw, field",
    [(b"[" * 100_000 + b"]" * 100_000, "body"),
     (b'{"task": ' + b"[" * 5000 + b"]" * 5000 + b"}", "body"),
     (json.dumps({"task": {"id": "t", "config": _nested(40)}}).encode(), "'task.config[0]"),
     (b'{"task": {"id": "t", "n": ' + b"1" * 5000 + b"}}", "'task.n'")],
)  # fmt: skip
def test_deep_nesting_and_huge_numbers_are_400(counter_server, caplog, raw, field) -> None:
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        status, body = call(counter_server.url + "/reset", "POST", raw=raw)
    assert status == 400, body
    assert field in body["error"] and len(body["error"]) < 300
    assert not _tracebacks(caplog)
    assert counter_server.host.state == "idle"  # nothing reached the env
    assert call(counter_server.url + "/health")[0] == 200


def test_actions_and_task_ids_are_bounded_strings(counter_server, caplog) -> None:
    url = counter_server.url
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        status, body = call(url + "/reset", "POST", {"task": "t" * 5000})
        assert status == 400 and "'task'" in body["error"] and len(body["error"]) < 300
        assert call(url + "/reset", "POST", {"task": "t"})[0] == 200
        status, body = call(url + "/step", "POST", {"action": "x" * (MAX_CODE_CHARS + 1)})
        assert status == 400 and "'action'" in body["error"] and len(body["error"]) < 300
        assert f"over the limit of {MAX_CODE_CHARS}" in body["error"]
        status, body = call(url + "/step", "POST", {"action": list(range(100_000))})
        assert status == 400 and "'action'" in body["error"] and len(body["error"]) < 300
        assert call(url + "/step", "POST", {"action": "x" * MAX_CODE_CHARS})[0] == 200
    assert counter_server.host.steps == 1  # only the valid action reached the env
    assert not _tracebacks(caplog)


def _raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], dict]:
    """Send raw bytes, half-close, read the whole answer -> (status, headers, JSON body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def _post(path: str, body: bytes, length: str | None = None) -> bytes:
    length = str(len(body)) if length is None else length
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize(
    "request_bytes, status, words",
    [(_post("/reset", b"", "abc"), 400, "Content-Length"),
     (_post("/reset", b"", "-1"), 400, "Content-Length"),
     (_post("/reset", b"", "5_0"), 400, "Content-Length"),
     (_post("/reset", b"{}", "100"), 400, "2 of 100 bytes"),
     (_post("/reset", b"\xff\xfe{"), 400, "not JSON"),
     (_post("/reset", b"[1, 2]"), 400, "JSON object"),
     (_post("/reset", b"", str(5 * 1024 * 1024)), 413, "limit"),
     (b"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\r\n\r\n", 401, "token"),
     (b"GET /nope HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
      + b"\r\n\r\n", 404, "/nope")],
)  # fmt: skip
def test_malformed_http_gets_a_4xx_and_a_json_error(
    counter_server, caplog, request_bytes, status, words
) -> None:
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        answer = _raw_exchange(counter_server.port, request_bytes)
    assert answer[0] == status and words in answer[2]["error"], answer
    assert not _tracebacks(caplog)
    assert counter_server.host.state == "idle"
    assert call(counter_server.url + "/health")[0] == 200


def test_wrong_method_names_the_allowed_one(counter_server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", counter_server.port, timeout=5)
    conn.request("GET", "/step", headers={"Authorization": f"Bearer {TOKEN}"})
    reply = conn.getresponse()
    assert reply.status == 405 and reply.getheader("Allow") == "POST"
    assert json.loads(reply.read()) == {"error": "/step takes POST, not GET"}
    conn.close()


def test_a_body_the_server_does_not_read_never_becomes_the_next_request(counter_server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", counter_server.port, timeout=5)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    conn.request("GET", "/health", body=b"GET /nope HTTP/1.1\r\n\r\n", headers=headers)
    assert conn.getresponse().read().startswith(b'{"ok": true')
    conn.request("GET", "/health", headers=headers)  # the same or a new connection
    assert conn.getresponse().status == 200
    conn.close()


def test_a_client_that_hangs_up_is_logged_without_a_traceback(counter_server, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="envs.server"):
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            counter_server.handle_error(None, ("127.0.0.1", 1))
    assert not _tracebacks(caplog)
    assert "Connection reset by peer" in caplog.text


# --- starting a server: a public address needs a flag, a token needs 16 characters -----------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.1", "example.com"])
def test_a_public_address_needs_allow_public(host) -> None:
    built: list[CounterEnv] = []
    with pytest.raises(ValueError, match="--allow-public"):
        create_server(lambda: built.append(CounterEnv()), host, 0, TOKEN)
    with pytest.raises(ValueError, match="at least 16 characters"):
        create_server(lambda: built.append(CounterEnv()), host, 0, "short", allow_public=True)
    assert built == []


def test_the_command_refuses_short_tokens_and_public_addresses(monkeypatch) -> None:
    monkeypatch.delenv(TOKEN_ENV_VAR, raising=False)
    command = ["--env", "remote_fakes:make_counter_env", "--port", "0", "--max-lifetime-s", "1"]
    with pytest.raises(SystemExit, match="at least 16 characters"):
        main([*command, "--token", "x"])
    with pytest.raises(SystemExit, match="whitespace"):
        main([*command, "--token", f"{TOKEN} "])
    with pytest.raises(SystemExit, match="--allow-public"):
        main([*command, "--host", "0.0.0.0", "--token", TOKEN])
    monkeypatch.setenv(TOKEN_ENV_VAR, "abc")
    with pytest.raises(SystemExit, match=f"at least 16 characters.*{TOKEN_ENV_VAR}"):
        main(command)


def test_arpo_env_server_refuses_a_short_token() -> None:
    from click.testing import CliRunner

    from rllib_arpo.cli.arpo import arpo

    result = CliRunner().invoke(
        arpo, ["env-server", "--env", "remote_fakes:make_counter_env", "--port", "0",
               "--token", "x", "--max-lifetime-s", "1"],
    )  # fmt: skip
    assert result.exit_code == 1 and "at least 16 characters" in result.output


def test_a_loopback_server_with_a_short_token_still_serves_in_process() -> None:
    """Tests and benchmarks serve on 127.0.0.1 with any token; the command never does."""
    server = serve(CounterEnv, "127.0.0.1", 0, "tok", max_lifetime_s=60)
    try:
        assert call(server.url + "/health", token="tok")[0] == 200
    finally:
        server.shutdown()
