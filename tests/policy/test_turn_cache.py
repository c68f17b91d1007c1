"""Turn k reuses turn k-1's KV cache: same samples and log-probs as a full prefill, less work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rllib_arpo.policy import GenerationRequest, SamplingParams, TrajectoryInput
from rllib_arpo.policy.conversation import Conversation
from rllib_arpo.policy.turn_cache import CachedTurn, TurnCache, images_in_prefix, usable

ATOL = 1e-5


@pytest.fixture
def cached_policy(tiny_dir):
    from rllib_arpo.policy import load_policy

    fresh = load_policy(tiny_dir, device="cpu", dtype=torch.float32)
    fresh.enable_turn_cache()
    return fresh


def run_episodes(policy, shots, turns: int, params: SamplingParams, seed: int):
    """Lock-step episodes (one batch per turn, as the rollout loop asks): per episode its
    responses and sampled log-probs, and the prompt length of each turn."""
    histories = [[] for _ in shots]
    logps = [[] for _ in shots]
    prompts = []
    generator = torch.Generator().manual_seed(seed)
    for turn in range(turns):
        requests = [
            GenerationRequest("Open the file menu.", row[: turn + 1], history, params)
            for row, history in zip(shots, histories)
        ]
        results = policy.generate(requests, generator=generator)
        for episode, result in enumerate(results):
            histories[episode].append(result.token_ids)
            logps[episode].append(result.logprobs)
        prompts.append([r.prompt_tokens for r in results])
    return histories, logps, prompts


def test_reusing_turns_gives_the_samples_and_logprobs_of_a_full_prefill(
    policy, cached_policy, screenshot
) -> None:
    first = screenshot(112, 112, 1)
    shots = [
        [first, screenshot(112, 112, 2), screenshot(168, 112, 3), screenshot(112, 112, 4)],
        [first, screenshot(112, 112, 5), screenshot(112, 112, 6), screenshot(112, 140, 7)],
        [screenshot(140, 112, 8), screenshot(112, 112, 9), first, screenshot(112, 112, 10)],
    ]  # episodes 0 and 1 start alike: one prefill fanned out, then two cached turns
    # Mixed lengths: some responses end with <|im_end|>, others are cut at 9 tokens.
    params = SamplingParams(max_new_tokens=9)
    full = run_episodes(policy, shots, 4, params, seed=3)
    reused = run_episodes(cached_policy, shots, 4, params, seed=3)
    assert reused[0] == full[0], "same draws: the distributions agree"
    assert reused[2] == full[2]
    for a, b in zip(reused[1], full[1]):
        for turn_a, turn_b in zip(a, b):
            assert np.allclose(turn_a, turn_b, atol=ATOL)
    cache = cached_policy.turn_cache
    assert cache.hits == 3 * 3 and cache.misses == 2  # turn 1: one unique prompt per start
    assert cache.reused_tokens > cache.prefilled_tokens
    # The sampler's log-probs equal the teacher-forced pass over the whole episode.
    histories, logps, _ = reused
    scored = policy.trajectory_logprobs(
        [TrajectoryInput("Open the file menu.", row, h) for row, h in zip(shots, histories)]
    )
    for out, sampled in zip(scored, logps):
        for turn, values in enumerate(sampled):
            diff = (out.logp[turn].detach() - torch.tensor(values)).abs().max().item()
            assert diff < ATOL


def test_only_the_new_screenshot_meets_the_vision_tower(cached_policy, screenshot, monkeypatch):
    seen = []
    original = cached_policy.processor.process_images
    monkeypatch.setattr(
        cached_policy.processor,
        "process_images",
        lambda images: seen.append(len(images)) or original(images),
    )
    shots = [
        [screenshot(112, 112, s) for s in range(4)],
        [screenshot(112, 112, 9 + s) for s in range(4)],
    ]
    run_episodes(cached_policy, shots, 4, SamplingParams(max_new_tokens=6), seed=0)
    assert seen == [2, 2, 2, 2]  # one new screenshot per episode per turn


def test_new_weights_empty_the_cache(cached_policy, screenshot) -> None:
    shots = [[screenshot(112, 112, 1), screenshot(112, 112, 2)]]
    run_episodes(cached_policy, shots, 1, SamplingParams(max_new_tokens=5), seed=0)
    assert len(cached_policy.turn_cache) == 1
    cached_policy.set_state(cached_policy.get_state())
    assert len(cached_policy.turn_cache) == 0 and cached_policy.turn_cache.nbytes == 0


def test_image_grid_from_size_equals_the_processors(cached_policy, screenshot) -> None:
    from rllib_arpo.policy.processor import to_pil

    for width, height in [(112, 112), (168, 112), (800, 450), (1920, 1080), (57, 301)]:
        image = to_pil(screenshot(width, height))
        processed = cached_policy.processor.process_images([image])["image_grid_thw"][0]
        assert cached_policy._image_grid(image).tolist() == processed.tolist(), (width, height)


def entry(ids) -> CachedTurn:
    """A one-layer turn of 8 bytes per token (one fp32 key and one value)."""
    tensor = torch.zeros((1, 1, len(ids), 1), dtype=torch.float32)
    return CachedTurn(tuple(ids), [(tensor, tensor.clone())])


def test_least_recently_used_turns_leave_first_beyond_the_bound() -> None:
    cache = TurnCache(max_bytes=2 * 3 * 8)  # room for two 3-token turns
    cache.put("a", entry([1, 2, 3]))
    cache.put("b", entry([1, 2, 4]))
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", entry([1, 2, 5]))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.nbytes == 48
    cache.put("huge", entry(list(range(100))))  # larger than the bound: not kept
    assert cache.get("huge") is None and len(cache) == 2
    with pytest.raises(ValueError, match="max_bytes=-1"):
        TurnCache(max_bytes=-1)


def test_a_prefix_is_reused_only_when_it_matches_and_ends_outside_a_screenshot() -> None:
    #                 text text img  img  text text
    conversation = Conversation([5, 6, 9, 9, 7, 8], [0, 0, 1, 1, 0, 0], [False] * 6)
    assert usable(entry([5, 6, 9, 9, 7]), conversation) is not None
    assert images_in_prefix(conversation, 5) == 1 and images_in_prefix(conversation, 2) == 0
    assert usable(entry([5, 6, 9]), conversation) is None  # ends inside the screenshot
    assert usable(entry([5, 7]), conversation) is None  # not a prefix
    assert usable(entry([5, 6, 9, 9, 7, 8]), conversation) is None  # nothing left to prefill
    assert usable(None, conversation) is None
