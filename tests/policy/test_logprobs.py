"""Sampler log-probs == teacher-forced log-probs (fp32, 1e-5); PPO ratio of an unchanged policy == 1."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rllib_arpo.policy import GenerationRequest, SamplingParams, TrajectoryInput
from rllib_arpo.policy.logprobs import collate, micro_batches, token_logp_and_entropy

ATOL = 1e-5


def _max_diff(teacher: torch.Tensor, sampled: list[float]) -> float:
    return (teacher.detach() - torch.tensor(sampled, dtype=torch.float32)).abs().max().item()


def test_single_step_matches(policy, screenshot):
    params = SamplingParams(max_new_tokens=24)
    request = GenerationRequest("Click the OK button.", [screenshot(112, 112)], sampling=params)
    (result,) = policy.generate([request], seed=0)
    assert len(result.token_ids) == len(result.logprobs) > 0
    (out,) = policy.trajectory_logprobs(
        [TrajectoryInput(request.instruction, request.screenshots, [result.token_ids])]
    )
    assert len(out.logp) == 1 and out.logp[0].shape == (len(result.token_ids),)
    assert _max_diff(out.logp[0], result.logprobs) < ATOL


def test_three_screenshot_trajectory_matches(policy, screenshot):
    """Roll out 3 steps (each prompt holds all previous screenshots and sampled ids), then score
    the whole trajectory in one teacher-forced pass."""
    shots = [screenshot(112, 112, 1), screenshot(168, 112, 2), screenshot(112, 140, 3)]
    history: list[list[int]] = []
    sampled: list[list[float]] = []
    for step in range(3):
        request = GenerationRequest(
            "Open the file menu.", shots[: step + 1], history, SamplingParams(max_new_tokens=12)
        )
        (result,) = policy.generate([request], seed=10 + step)
        history.append(result.token_ids)
        sampled.append(result.logprobs)
    (out,) = policy.trajectory_logprobs([TrajectoryInput("Open the file menu.", shots, history)])
    assert [t.numel() for t in out.logp] == [len(h) for h in history]
    for turn in range(3):
        assert _max_diff(out.logp[turn], sampled[turn]) < ATOL


def test_left_padded_batch_with_different_image_sizes_matches(policy, screenshot):
    sizes = [(112, 112), (224, 168), (84, 308), (280, 56)]
    requests = [
        GenerationRequest(
            f"Task {i}: click the {c} button.",
            [screenshot(w, h, i)],
            sampling=SamplingParams(max_new_tokens=16),
        )
        for i, ((w, h), c) in enumerate(zip(sizes, ["red", "blue", "green", "OK"]))
    ]
    results = policy.generate(requests, seed=3)
    assert len({r.prompt_tokens for r in results}) > 1  # rows really were padded
    trajectories = [
        TrajectoryInput(q.instruction, q.screenshots, [r.token_ids])
        for q, r in zip(requests, results)
    ]
    # Score in another grouping than sampling (right-padded, two micro-batches).
    outs = policy.trajectory_logprobs(
        trajectories, token_budget=2 * max(r.prompt_tokens + 16 for r in results)
    )
    for out, result in zip(outs, results):
        assert _max_diff(out.logp[0], result.logprobs) < ATOL


def test_batched_sampling_equals_one_at_a_time(policy, screenshot):
    """Padding never changes a row's distribution: greedy answers agree batched or alone."""
    params = SamplingParams(temperature=0.0, max_new_tokens=10)
    requests = [
        GenerationRequest("Click OK.", [screenshot(112, 112, 5)], sampling=params),
        GenerationRequest(
            "Type hello into the text field.", [screenshot(224, 112, 6)], sampling=params
        ),
    ]
    batched = policy.generate(requests)
    for request, result in zip(requests, batched):
        (alone,) = policy.generate([request])
        assert alone.token_ids == result.token_ids
        assert np.allclose(alone.logprobs, result.logprobs, atol=ATOL)


def test_ppo_ratio_of_unchanged_policy_is_one(policy, screenshot):
    shots = [screenshot(112, 112, 7), screenshot(112, 112, 8)]
    first = policy.generate(
        [GenerationRequest("Click OK.", shots[:1], sampling=SamplingParams(max_new_tokens=10))],
        seed=1,
    )[0]
    second = policy.generate(
        [
            GenerationRequest(
                "Click OK.", shots, [first.token_ids], SamplingParams(max_new_tokens=10)
            )
        ],
        seed=2,
    )[0]
    old_logp = torch.tensor(first.logprobs + second.logprobs)
    policy.model.train()  # what RLlib's forward_train does; dropout is off in every mode
    try:
        (out,) = policy.trajectory_logprobs(
            [TrajectoryInput("Click OK.", shots, [first.token_ids, second.token_ids])]
        )
    finally:
        policy.model.eval()
    logp = out.flat_logp()
    assert logp.requires_grad
    ratio = torch.exp(logp - old_logp)
    assert torch.allclose(ratio, torch.ones_like(ratio), atol=1e-5), ratio


def test_truncated_response_and_temperature(policy, screenshot):
    """A response cut at max_new_tokens (no <|im_end|>) and T=0.7 still match."""
    params = SamplingParams(temperature=0.7, max_new_tokens=5)
    request = GenerationRequest("Click OK.", [screenshot(112, 112, 9)], sampling=params)
    (result,) = policy.generate([request], seed=4)
    assert not result.finished and len(result.token_ids) == 5
    (out,) = policy.trajectory_logprobs(
        [TrajectoryInput(request.instruction, request.screenshots, [result.token_ids])],
        temperature=0.7,
    )
    assert _max_diff(out.logp[0], result.logprobs) < ATOL


def test_vision_tokens_never_sampled(policy, screenshot):
    suppressed = set(torch.nonzero(policy.suppress_mask).flatten().tolist())
    assert set(policy.builder.vision_token_ids) <= suppressed
    assert all(
        i >= len(policy.tokenizer) for i in suppressed - set(policy.builder.vision_token_ids)
    )
    params = SamplingParams(temperature=3.0, max_new_tokens=40)  # hot: explores everything
    requests = [GenerationRequest("x", [screenshot(56, 56, s)], sampling=params) for s in range(4)]
    for result in policy.generate(requests, seed=0):
        assert not suppressed.intersection(result.token_ids)


def test_mrope_positions_are_the_models_own(policy, screenshot):
    """Our explicit position ids equal what the model computes itself from mm_token_type_ids,
    and are really 3-D (image tokens share temporal positions)."""
    request = GenerationRequest("Click OK.", [screenshot(168, 112, 2)])
    images = policy.processor.process_images(list(request.screenshots))
    counts = (images["image_grid_thw"].prod(-1) // 4).tolist()
    conv = policy.rollout_conversation(request, counts)
    batch = collate(
        policy.model,
        [conv],
        [images["pixel_values"]],
        [images["image_grid_thw"]],
        pad_token_id=policy.builder.pad_token_id,
        padding_side="left",
        device="cpu",
    )
    with torch.no_grad():
        ours = policy.model(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            position_ids=batch.position_ids,
            pixel_values=batch.pixel_values,
            image_grid_thw=batch.image_grid_thw,
        ).logits
        policy.model.model.rope_deltas = None
        theirs = policy.model(
            input_ids=batch.input_ids,
            pixel_values=batch.pixel_values,
            image_grid_thw=batch.image_grid_thw,
            mm_token_type_ids=batch.mm_token_type_ids,
        ).logits
    assert torch.allclose(ours, theirs, atol=1e-5)
    image = batch.mm_token_type_ids[0].bool()
    assert (batch.position_ids[0, 0, image] == batch.position_ids[0, 0, image][0]).all()
    assert not torch.equal(batch.position_ids[1], batch.position_ids[2])


def test_entropy_and_suppression_math():
    logits = torch.tensor([[1.0, 2.0, 3.0, 50.0]])
    suppress = torch.tensor([False, False, False, True])
    logp, entropy = token_logp_and_entropy(logits, torch.tensor([2]), 2.0, suppress)
    probs = torch.softmax(torch.tensor([1.0, 2.0, 3.0]) / 2.0, -1)
    assert torch.isclose(logp, probs[2].log()).all()
    assert torch.isclose(entropy, -(probs * probs.log()).sum()).all()
    assert torch.isfinite(entropy).all()


def test_micro_batches_respect_token_budget():
    lengths = [100, 30, 70, 20, 300, 50]
    groups = micro_batches(lengths, token_budget=150)
    assert sorted(i for g in groups for i in g) == list(range(6))
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert len(group) == 1 or len(group) * longest <= 150
    with pytest.raises(ValueError):
        micro_batches(lengths, 0)


def test_activation_checkpointing_gives_same_logprobs_and_grads(policy, screenshot):
    request = GenerationRequest(
        "Click OK.", [screenshot(112, 112, 11)], sampling=SamplingParams(max_new_tokens=8)
    )
    (result,) = policy.generate([request], seed=5)
    trajectory = [TrajectoryInput(request.instruction, request.screenshots, [result.token_ids])]
    grads = []
    for checkpointing in (False, True):
        policy.set_activation_checkpointing(checkpointing)
        try:
            policy.model.zero_grad()
            (out,) = policy.trajectory_logprobs(trajectory)
            out.flat_logp().sum().backward()
            grads.append(policy.model.lm_head.weight.grad.clone())
            assert _max_diff(out.logp[0], result.logprobs) < ATOL
        finally:
            policy.set_activation_checkpointing(False)
    policy.model.zero_grad()
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_evaluation_sampling_settings(policy, screenshot):
    shot = [screenshot(112, 112, 12)]
    greedy = policy.generate(
        [
            GenerationRequest(
                "Click OK.", shot, sampling=SamplingParams(temperature=0.0, max_new_tokens=8)
            )
        ]
    )[0]
    top1 = policy.generate(
        [GenerationRequest("Click OK.", shot, sampling=SamplingParams(top_k=1, max_new_tokens=8))],
        seed=3,
    )[0]
    assert top1.token_ids == greedy.token_ids
    nucleus = policy.generate(
        [
            GenerationRequest(
                "Click OK.", shot, sampling=SamplingParams(top_p=1e-6, max_new_tokens=8)
            )
        ],
        seed=4,
    )[0]
    assert nucleus.token_ids == greedy.token_ids
    fixed = policy.generate(
        [
            GenerationRequest(
                "Click OK.", shot, sampling=SamplingParams(max_new_tokens=6, min_new_tokens=6)
            )
        ],
        seed=5,
    )[0]
    assert len(fixed.token_ids) == 6 and not set(fixed.token_ids) & set(
        policy.builder.eos_token_ids
    )
    with pytest.raises(ValueError, match="min_new_tokens"):
        SamplingParams(max_new_tokens=4, min_new_tokens=5)


def test_core_trajectory_record_with_png_screenshots(policy, screenshot):
    """The learner passes ``core.trajectory.Trajectory`` records (PNG bytes) straight in."""
    import io

    from PIL import Image

    from rllib_arpo.core.prompt import PROMPT_ID
    from rllib_arpo.core.trajectory import Step, Trajectory

    shots = [screenshot(112, 112, 20), screenshot(140, 112, 21)]
    pngs = []
    for shot in shots:
        buffer = io.BytesIO()
        Image.fromarray(shot).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    steps, history = [], []
    for step in range(2):
        request = GenerationRequest(
            "Click OK.", pngs[: step + 1], history, SamplingParams(max_new_tokens=8)
        )
        (result,) = policy.generate([request], seed=step)
        history.append(result.token_ids)
        steps.append(
            Step(pngs[step], result.token_ids, result.logprobs, result.text, None, "x", "WAIT")
        )
    record = Trajectory("t", "g", "e", 0, "Click OK.", PROMPT_ID, steps)
    (out,) = policy.trajectory_logprobs([record])
    old = torch.tensor([lp for s in steps for lp in s.response_logprobs])
    assert (out.flat_logp().detach() - old).abs().max() < ATOL


def test_fifteen_screenshot_trajectory_matches(policy, screenshot):
    """ARPO's longest episodes: 15 screenshots in one prompt, scored in one teacher-forced pass."""
    shots = [screenshot(56, 56, 30 + i) for i in range(15)]
    history: list[list[int]] = []
    sampled: list[float] = []
    for step in range(15):
        request = GenerationRequest(
            "Finish the task.", shots[: step + 1], history, SamplingParams(max_new_tokens=4)
        )
        (result,) = policy.generate([request], seed=step)
        history.append(result.token_ids)
        sampled.extend(result.logprobs)
    (out,) = policy.trajectory_logprobs([TrajectoryInput("Finish the task.", shots, history)])
    assert len(out.logp) == 15
    assert _max_diff(out.flat_logp(), sampled) < ATOL


def test_rows_that_finish_early_leave_the_batch_without_changing_others(policy, screenshot):
    """End tokens chosen so rows stop at different steps: batched == one at a time, exact."""
    from rllib_arpo.policy.generate import sample

    requests = [
        GenerationRequest(f"Task {i}.", [screenshot(56 * (i + 1), 112, 40 + i)]) for i in range(4)
    ]
    greedy = SamplingParams(temperature=0.0, max_new_tokens=12)

    def run(batch, eos):
        images = policy.processor.process_images([s for r in batch for s in r.screenshots])
        counts = (images["image_grid_thw"].prod(-1) // 4).tolist()
        convs = [policy.rollout_conversation(r, [c]) for r, c in zip(batch, counts)]
        model_batch = collate(
            policy.model,
            convs,
            [images["pixel_values"]],
            [images["image_grid_thw"]],
            pad_token_id=policy.builder.pad_token_id,
            padding_side="left",
            device="cpu",
        )
        return sample(
            policy.model, model_batch, greedy, suppress_mask=policy.suppress_mask, eos_token_ids=eos
        )

    free_tokens, _, _ = run(requests, (policy.builder.im_end_id,))
    # Row i ends at its (i + 2)-th token.
    eos = tuple({policy.builder.im_end_id} | {free_tokens[i][i + 1] for i in range(3)})
    tokens, logps, finished = run(requests, eos)
    assert len({len(t) for t in tokens}) > 1 and any(finished)
    for i, request in enumerate(requests):
        alone_tokens, alone_logps, alone_finished = run([request], eos)
        assert alone_tokens[0] == tokens[i] and alone_finished[0] == finished[i]
        assert np.allclose(alone_logps[0], logps[i], atol=ATOL)


def test_bf16_with_eager_attention_is_exact(tiny_dir, screenshot):
    """bf16: the CPU SDPA kernels round a one-row decode step and a full forward differently (up to
    about 4e-3); eager attention computes both the same way, so the ratio is exactly 1."""
    from rllib_arpo.policy import load_policy

    bf16 = load_policy(tiny_dir, device="cpu", dtype=torch.bfloat16, attn_implementation="eager")
    requests = [
        GenerationRequest(
            "Click OK.", [screenshot(w, 112, i)], sampling=SamplingParams(max_new_tokens=12)
        )
        for i, w in enumerate((112, 224, 56))
    ]
    results = bf16.generate(requests, seed=0)
    outs = bf16.trajectory_logprobs(
        [
            TrajectoryInput(q.instruction, q.screenshots, [r.token_ids])
            for q, r in zip(requests, results)
        ]
    )
    for out, result in zip(outs, results):
        assert _max_diff(out.logp[0], result.logprobs) < 1e-6


def test_identical_prompts_are_prefilled_once_and_sampled_apart(policy, screenshot, monkeypatch):
    """A GRPO group's first step: G equal prompts share one image pass and one prefill, then each
    row samples on its own; log-probs stay exact."""
    shot = screenshot(168, 112, 50)
    group = [
        GenerationRequest("Click OK.", [shot.copy()], sampling=SamplingParams(max_new_tokens=12))
        for _ in range(6)
    ]
    other = GenerationRequest(
        "Type hi.", [screenshot(112, 112, 51)], sampling=SamplingParams(max_new_tokens=12)
    )
    calls = []
    original = policy.processor.process_images
    monkeypatch.setattr(
        policy.processor,
        "process_images",
        lambda images: calls.append(len(images)) or original(images),
    )
    results = policy.generate([*group, other], seed=7)
    assert calls == [2]  # one image for the group, one for the other request
    assert len({tuple(r.token_ids) for r in results[:6]}) > 1  # rows sample independently
    outs = policy.trajectory_logprobs(
        [
            TrajectoryInput(q.instruction, q.screenshots, [r.token_ids])
            for q, r in zip([*group, other], results)
        ]
    )
    for out, result in zip(outs, results):
        assert _max_diff(out.logp[0], result.logprobs) < ATOL
    greedy = SamplingParams(temperature=0.0, max_new_tokens=8)
    (alone,) = policy.generate([GenerationRequest("Click OK.", [shot], sampling=greedy)])
    for result in policy.generate([GenerationRequest("Click OK.", [shot], sampling=greedy)] * 3):
        assert result.token_ids == alone.token_ids
        assert np.allclose(result.logprobs, alone.logprobs, atol=ATOL)
