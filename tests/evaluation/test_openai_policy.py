"""`--policy http://...`: an OpenAI-compatible chat-completions endpoint, here a fake on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ORIGINAL_IDS, run_arpo
from PIL import Image

from rllib_arpo.core.prompt import SYSTEM_PROMPT
from rllib_arpo.outputs.episode_log import read_episode_log

CLICK = "Thought: open the menu\nAction: click(start_box='<|box_start|>(100,50)<|box_end|>')"
FINISH = "Thought: all done\nAction: finished(content='ok')"


class FakeChatServer(ThreadingHTTPServer):
    """Answers POST /v1/chat/completions: a click first, then finished; records every call."""

    def __init__(self, status: int = 200, raw: bytes | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.raw = raw
        self.calls: list[tuple[dict, dict]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeChatServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.calls.append((dict(self.headers), body))
        if self.server.raw is not None:
            self._send_raw(200, self.server.raw)
            return
        if self.path != "/v1/chat/completions" or self.server.status != 200:
            self._send(self.server.status if self.path.endswith("completions") else 404,
                       {"error": {"message": "model not found"}})  # fmt: skip
            return
        turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
        text = CLICK if turns == 0 else FINISH
        self._send(
            200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
        )

    def _send(self, status: int, payload: dict) -> None:
        self._send_raw(status, json.dumps(payload).encode())

    def _send_raw(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def chat_server(request) -> Iterator[FakeChatServer]:
    param = getattr(request, "param", 200)
    server = FakeChatServer(200, param) if isinstance(param, bytes) else FakeChatServer(param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_openai_endpoint_drives_episodes(chat_server: FakeChatServer, tmp_path) -> None:
    tasks = tmp_path / "two.json"
    tasks.write_text(json.dumps({"chrome": ORIGINAL_IDS[:2]}))
    result = run_arpo(["eval", "--policy", chat_server.url, "--model", "ui-tars-1.5-7b",
                       "--api-key", "sk-test", "--temperature", "0", "--tasks", tasks,
                       "--trials", "2", "--out", tmp_path / "out"])  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = read_episode_log(tmp_path / "out" / "episodes.parquet")
    assert len(frame) == 8  # 2 tasks x 2 trials x (click, finished)
    assert list(frame.sort_values(["episode_id", "step"])["response_text"][:2]) == [CLICK, FINISH]
    assert set(frame["terminated_by"]) == {"DONE"}
    assert frame["env_action"].str.startswith("pyautogui.click").sum() == 4

    assert len(chat_server.calls) == 8
    headers, first = chat_server.calls[0]
    assert headers["Authorization"] == "Bearer sk-test"
    assert first["model"] == "ui-tars-1.5-7b" and first["temperature"] == 0
    roles = [m["role"] for m in first["messages"]]
    assert roles == ["system", "user", "user"]
    assert first["messages"][0]["content"] == SYSTEM_PROMPT
    # The first call may belong to either task (episodes run in parallel).
    prompt = next(m["content"] for m in first["messages"][1:] if isinstance(m["content"], str))
    assert any(instruction in prompt for instruction in set(frame["instruction"]))
    image_url = first["messages"][2]["content"][0]["image_url"]["url"]
    assert image_url.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(image_url.split(",", 1)[1])))
    assert image.size == (448, 336)
    # the second step carries the first answer's text and both screenshots
    second = next(body for _, body in chat_server.calls if len(body["messages"]) > 3)
    assert [m["role"] for m in second["messages"]] == [
        "system",
        "user",
        "user",
        "assistant",
        "user",
    ]
    assert second["messages"][3]["content"] == CLICK


@pytest.mark.parametrize("chat_server", [400], indirect=True)
def test_endpoint_errors_are_one_line(chat_server: FakeChatServer, tmp_path) -> None:
    tasks = tmp_path / "one.json"
    tasks.write_text(json.dumps({"chrome": ORIGINAL_IDS[:1]}))
    result = run_arpo(["eval", "--policy", chat_server.url, "--tasks", tasks,
                       "--out", tmp_path / "out"])  # fmt: skip
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: chat-completions endpoint http://127.0.0.1:")
    assert "HTTP 400" in last and "model not found" in last


def test_osworld_env_through_two_env_servers(chat_server: FakeChatServer, tmp_path) -> None:
    """`--env osworld`: each parallel env is a client of its own server (MiniDesk served here)."""
    from envs.minidesk import MiniDeskEnv
    from envs.server import serve

    servers = [serve(MiniDeskEnv, "127.0.0.1", 0, "tok", max_lifetime_s=120) for _ in range(2)]
    try:
        tasks = tmp_path / "two.json"
        tasks.write_text(json.dumps({"chrome": ORIGINAL_IDS[:2]}))
        result = run_arpo(["eval", "--env", "osworld", "--server-url",
                           ",".join(s.url for s in servers), "--token", "tok", "--policy",
                           chat_server.url, "--tasks", tasks, "--trials", "2", "--out",
                           tmp_path / "out"])  # fmt: skip
    finally:
        for server in servers:
            server.shutdown()
    assert result.exit_code == 0, result.output
    assert "(2 in parallel)" in result.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [e["terminated_by"] for e in document["episodes"]] == ["DONE"] * 4
    assert document["settings"]["env_steps"] == 8
    assert document["summary"]["env_errors"] == 0


DEEP_ANSWER = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("chat_server", "problem"),
    [
        (DEEP_ANSWER, "nested too deeply"),
        (b'{"choices": [{"message": {"content": {"not": "text"}}}]}', "content is dict"),
        (b'{"answer": 1}', "KeyError"),
        (b"not json at all", "not JSON"),
    ],
    indirect=["chat_server"],
)
def test_an_unusable_answer_is_that_episodes_format_error(
    chat_server: FakeChatServer, tmp_path, problem: str
) -> None:
    """A 200 answer the policy cannot read ends that episode as a format error; the run goes on."""
    tasks = tmp_path / "two.json"
    tasks.write_text(json.dumps({"chrome": ORIGINAL_IDS[:2]}))
    result = run_arpo(["eval", "--policy", chat_server.url, "--tasks", tasks, "--out",
                       tmp_path / "out"])  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(document["episodes"]) == 2
    for episode in document["episodes"]:
        assert episode["format_error"] and episode["steps"] == 1
        assert "unusable answer" in episode["error"] and problem in episode["error"]
    assert len(chat_server.calls) == 2  # not retried: the endpoint answered
