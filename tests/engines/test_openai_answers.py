"""The openai engine's own logic without a server: request bodies and untrusted answers.
(The real exchange with ``vllm serve`` is in test_openai_engine.py, in the vLLM venv.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rllib_arpo.policy.generate import SamplingParams
from rllib_arpo.rollout.engines import EngineSettings
from rllib_arpo.rollout.engines.openai_engine import EngineServerError, OpenAIEngine
from rllib_arpo.rollout.generation import TurnRequest


@pytest.fixture(scope="module")
def engine(tiny_pair):
    engine = OpenAIEngine(
        EngineSettings(
            kind="openai",
            url="http://127.0.0.1:9/v1",
            model="tiny",
            checkpoint_path=str(tiny_pair[0]),
            sampling=SamplingParams(max_new_tokens=8),
            options={"timeout_s": 1},
        )
    )
    yield engine
    engine.close()


def test_the_body_carries_token_ids_one_pad_per_screenshot_and_the_mask(engine) -> None:
    shot = np.zeros((20, 30, 3), np.uint8)
    body = engine.body(TurnRequest("click", [shot, shot], [[5, 6]]))
    pad = engine.builder.image_pad_id
    assert body["token_ids"].count(pad) == 2
    start = body["token_ids"].index(5)
    assert body["token_ids"][start : start + 2] == [5, 6]  # the earlier answer, as sampled
    assert len(body["content_parts"]) == 2
    assert body["content_parts"][0]["url"].startswith("data:image/png;base64,")
    bias = body["sampling_params"]["logit_bias"]
    assert set(map(int, bias)) >= set(engine.builder.vision_token_ids)
    assert body["sampling_params"]["logprobs"] == 0
    json.dumps(body)  # serializable as it is


def test_answers_are_read_or_refused_with_the_reason(engine) -> None:
    end = engine.builder.im_end_id
    good = {"choices": [{"token_ids": [7, end], "logprobs": {"content": [
        {"token_id": 7, "logprob": -0.5}, {"token_id": end, "logprob": -0.1}]}}]}  # fmt: skip
    response = engine.response(good)
    assert list(response.token_ids) == [7, end] and list(response.logprobs) == [-0.5, -0.1]
    for bad, reason in [
        ({}, "choices"),
        ({"choices": [{"token_ids": [7]}]}, "0 log-probs for 1 tokens"),
        ({"choices": [{"token_ids": ["x"], "logprobs": {"content": []}}]}, "choices"),
    ]:
        with pytest.raises(EngineServerError, match=reason):
            engine.response(bad)


def test_an_unreachable_server_is_one_clear_error(engine) -> None:
    with pytest.raises(EngineServerError, match="127.0.0.1:9"):
        engine.post({"token_ids": [1]})
