"""MiniWoB++ (Farama's 125 small web tasks) in headless Chromium, driven by pyautogui strings.

- ``env``: ``MiniWoBEnv`` (gymnasium id ``MiniWoB-v0``) and its RLlib creator ``make_rllib_env``.
- ``browser``: finding Chromium and chromedriver (``find_browser``), the Selenium driver.
- ``tasks``: task names and ids (``supported_tasks``, ``parse_task_id``, ``task_id``).
- ``expert``: the scripted DOM-reading expert (``expert_action``).
- ``timing``: ``time_steps``, the step benchmark.

Install and decision record: docs/miniwob.md.
"""

from envs.miniwob.browser import BrowserNotFoundError, MiniWoBError, find_browser
from envs.miniwob.env import MiniWoBEnv, make_rllib_env, register_rllib_env
from envs.miniwob.expert import EXPERT_TASKS, expert_action
from envs.miniwob.tasks import parse_task_id, supported_tasks, task_id
from envs.miniwob.timing import time_steps
from envs.registration import MINIWOB_ENV_ID as ENV_ID
from envs.registration import MINIWOB_RLLIB_NAME as RLLIB_ENV_NAME

__all__ = [
    "ENV_ID",
    "EXPERT_TASKS",
    "RLLIB_ENV_NAME",
    "BrowserNotFoundError",
    "MiniWoBEnv",
    "MiniWoBError",
    "expert_action",
    "find_browser",
    "make_rllib_env",
    "parse_task_id",
    "register_rllib_env",
    "supported_tasks",
    "task_id",
    "time_steps",
]
