"""MiniDesk: an embedded, pure-Python desktop with OSWorld's action space, tasks and evaluators.

Public API:
- ``MiniDeskEnv`` (gymnasium id ``"MiniDesk-v0"``); ``decode_instruction``,
  ``encode_instruction``, ``MAX_INSTRUCTION_BYTES`` (from ``envs.spaces``, shared by every env).
- ``make_task``, ``FAMILIES``, ``LEVELS``, ``task_id``: procedural task families.
- ``expert_action(env) -> str``: the scripted expert's next answer (UI-TARS text).
- ``interpret``, ``Command``, ``ActionRejected``: the pyautogui whitelist interpreter.
- ``TaskSet``, ``load_task_file``, ``validate_task``, ``TaskError``: OSWorld task files.
- ``make_noisy_twin``: the noise generator.
"""

from envs.minidesk.env import DEFAULT_MAX_STEPS, DEFAULT_SCREEN_SIZE, MiniDeskEnv
from envs.minidesk.expert import expert_action, expert_step
from envs.minidesk.families import FAMILIES, LEVELS, make_task, task_id
from envs.minidesk.interpreter import ActionRejected, Command, interpret
from envs.minidesk.noise import make_noisy_twin
from envs.minidesk.tasks import TaskError, TaskSet, load_task_file, validate_task
from envs.spaces import MAX_INSTRUCTION_BYTES, decode_instruction, encode_instruction

__all__ = [
    "DEFAULT_MAX_STEPS",
    "DEFAULT_SCREEN_SIZE",
    "FAMILIES",
    "LEVELS",
    "MAX_INSTRUCTION_BYTES",
    "ActionRejected",
    "Command",
    "MiniDeskEnv",
    "TaskError",
    "TaskSet",
    "decode_instruction",
    "encode_instruction",
    "expert_action",
    "expert_step",
    "interpret",
    "load_task_file",
    "make_noisy_twin",
    "make_task",
    "task_id",
    "validate_task",
]
