"""One builder for rollout prompts and training sequences, equal to the checkpoint's chat template."""

from __future__ import annotations

import pytest

from rllib_arpo.core.prompt import SYSTEM_PROMPT, computer_use_prompt
from rllib_arpo.policy.conversation import IMAGE_PAD, MM_IMAGE


def _template_ids(policy, instruction, counts, responses, add_generation_prompt):
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": computer_use_prompt(instruction)},
    ]
    for step, _ in enumerate(counts):
        messages.append({"role": "user", "content": [{"type": "image"}]})
        if step < len(responses):
            messages.append(
                {"role": "assistant", "content": policy.tokenizer.decode(responses[step][:-1])}
            )
    text = policy.processor.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt
    )
    pieces = text.split(IMAGE_PAD)
    assert len(pieces) == len(counts) + 1
    expanded = pieces[0] + "".join(IMAGE_PAD * n + piece for n, piece in zip(counts, pieces[1:]))
    return policy.tokenizer(expanded, add_special_tokens=False)["input_ids"]


def _answer(policy, text):
    return policy.tokenizer(text + "<|im_end|>", add_special_tokens=False)["input_ids"]


def test_builder_equals_chat_template(policy):
    responses = [
        _answer(policy, "Thought: I click the red button.\nAction: click(start_box='(84,28)')"),
        _answer(policy, "Thought: I type hello.\nAction: type(content='hello')"),
    ]
    counts = [16, 24, 9]
    rollout = policy.builder.build("Say {hi}.", counts, responses, add_generation_prompt=True)
    assert rollout.input_ids == _template_ids(policy, "Say {hi}.", counts, responses, True)
    training = policy.builder.build("Say {hi}.", counts[:2], responses, add_generation_prompt=False)
    assert training.input_ids == _template_ids(policy, "Say {hi}.", counts[:2], responses, False)
    assert sum(t == MM_IMAGE for t in rollout.mm_token_type_ids) == sum(counts)


def test_rollout_prompt_is_a_prefix_of_the_training_sequence(policy):
    responses = [[5, 6, 7, policy.builder.im_end_id], [8, 9, policy.builder.im_end_id], [10]]
    counts = [4, 4, 9]
    training = policy.builder.build("Do it.", counts, responses, add_generation_prompt=False)
    for step in range(3):
        prompt = policy.builder.build(
            "Do it.", counts[: step + 1], responses[:step], add_generation_prompt=True
        )
        start, end = training.response_spans[step]
        assert training.input_ids[:start] == prompt.input_ids
        assert training.mm_token_type_ids[:start] == prompt.mm_token_type_ids
        assert training.input_ids[start:end] == responses[step]
    masked = [i for i, m in enumerate(training.loss_mask) if m]
    assert masked == [i for s, e in training.response_spans for i in range(s, e)]


def test_truncated_response_is_closed_outside_the_loss_mask(policy):
    im_end = policy.builder.im_end_id
    conv = policy.builder.build("Do it.", [4], [[5, 6]], add_generation_prompt=False)
    _, end = conv.response_spans[0]
    assert conv.input_ids[end] == im_end and not conv.loss_mask[end]
    closed = policy.builder.build("Do it.", [4], [[5, 6, im_end]], add_generation_prompt=False)
    assert closed.loss_mask[closed.response_spans[0][1] - 1]  # the sampled <|im_end|> is trained
    assert len(closed) == len(conv)


def test_bad_inputs(policy):
    with pytest.raises(ValueError, match="needs 2 screenshot"):
        policy.builder.build("x", [4], [[5]], add_generation_prompt=True)
    with pytest.raises(ValueError, match="needs 1 screenshot"):
        policy.builder.build("x", [4, 4], [[5]], add_generation_prompt=False)
    with pytest.raises(ValueError, match="vision token"):
        policy.builder.build("x", [4], [[policy.builder.image_pad_id]], add_generation_prompt=False)
