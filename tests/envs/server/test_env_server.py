"""envs/server: the HTTP API, its token, its address, its limits, and env failures as 500s."""

from __future__ import annotations

import base64
import http.client
import io
import signal
import socket

import numpy as np
import pytest
from PIL import Image
from remote_fakes import CounterEnv
from remote_helpers import TOKEN, call

from envs.server import API_VERSION, GymBackend, create_server, make_backend_factory, serve


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
