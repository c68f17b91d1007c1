"""The one source of truth for what the policy is told.

UI-TARS-1.5 was trained on a fixed computer-use prompt; the rollout, the training pass, evaluation
and the tiny models' demonstrations all build their conversations here, so the policy sees the same
tokens at sampling time and in the teacher-forced pass (the reference ARPO code used two different
system prompts; we use one).

Conversation layout of one trajectory (one training sequence):

    system:    SYSTEM_PROMPT
    user:      computer_use_prompt(instruction)
    user:      <screenshot 0>
    assistant: "Thought: ...\\nAction: ..."        (loss mask on)
    user:      <screenshot 1>
    assistant: ...
"""

from __future__ import annotations

SYSTEM_PROMPT = "You are a helpful assistant."
"""System turn of every conversation (UI-TARS-1.5 keeps the Qwen default here)."""

PROMPT_ID = "uitars15-computer-use-en-v1"
"""Stored in every trajectory record so a replayed or logged episode says which prompt it saw."""

_COMPUTER_USE_TEMPLATE = """\
You are a GUI agent. You are given a task and your action history, with screenshots. \
You need to perform the next action to complete the task.

## Output Format
```
Thought: ...
Action: ...
```

## Action Space

click(start_box='<|box_start|>(x1,y1)<|box_end|>')
left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')
right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')
drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')
hotkey(key='')
type(content='') #If you want to submit your input, use "\\n" at the end of `content`.
scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left')
wait() #Sleep for 5s and take a screenshot to check for any changes.
finished(content='xxx') # Use escape characters \\', \\", and \\n in content part to ensure \
we can parse the content in normal python string format.


## Note
- Use {language} in `Thought` part.
- Write a small plan and finally summarize your next action (with its target element) in one \
sentence in `Thought` part.

## User Instruction
{instruction}
"""


def computer_use_prompt(instruction: str, language: str = "English") -> str:
    """The first user turn: the UI-TARS-1.5 computer-use prompt with the task filled in.

    Args:
        instruction: The task's natural-language instruction, inserted verbatim.
        language: Language the model is asked to think in.

    Returns:
        The prompt text (no chat-template tokens; the processor's chat template adds those).
    """
    if not isinstance(instruction, str):
        raise TypeError(f"instruction must be a str, got {type(instruction).__name__}")
    # str.replace, not str.format: an instruction may itself contain braces.
    return _COMPUTER_USE_TEMPLATE.replace("{language}", language).replace(
        "{instruction}", instruction
    )
