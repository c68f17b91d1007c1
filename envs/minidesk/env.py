"""``MiniDeskEnv``: the gymnasium environment over the MiniDesk desktop."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from envs.minidesk import families
from envs.minidesk.desktop import Desktop
from envs.minidesk.evaluators import evaluate
from envs.minidesk.interpreter import Command, read_action
from envs.minidesk.render import Renderer
from envs.minidesk.setup_steps import SetupError, run_steps
from envs.minidesk.tasks import TaskSet, UnknownSiteError, default_test_data, validate_task
from envs.spaces import Observation, ResetResult, StepResult, encode_instruction, env_spaces
from rllib_arpo.core.images import encode_png

logger = logging.getLogger(__name__)

DEFAULT_SCREEN_SIZE = families.DEFAULT_SCREEN
"""(448, 336) (width, height): both multiples of 28, 16 x 12 merged image tokens."""
DEFAULT_MAX_STEPS = 15
PROCEDURAL_CACHE_SIZE = 256
"""Procedural tasks kept per env (read-only dicts)."""


def default_now() -> dt.datetime:
    """Today at 10:00: the real date (relative dates such as "tomorrow" mean what they say) at a
    fixed time, so that every reset of a group shows the same clock."""
    return dt.datetime.combine(dt.date.today(), dt.time(10, 0))


class MiniDeskEnv(gym.Env):
    """An embedded desktop with OSWorld's action space, task format and evaluators.

    Each episode runs one task (an OSWorld task dict, a test_data task id such as
    ``"f3b19d1e-2d48-44e9-b4e1-defcae1a0197_noise"``, or a procedural id such as
    ``"minidesk/click_button/hard/17"``): ``reset`` builds a fresh desktop, applies the task's
    ``config`` steps and shows the first screenshot. The same task may be reset any number of
    times (a GRPO group), always to the same start state.

    ## Action Space
    ``spaces.Text(MAX_CODE_CHARS)``: a string of OSWorld ``pyautogui`` code, e.g.
    ``"pyautogui.click(x=120, y=45)"``, several statements separated by newlines or semicolons,
    or the special strings ``"WAIT"``, ``"DONE"``, ``"FAIL"``. The code is parsed by
    ``interpreter.interpret`` (an ``ast`` whitelist, literal arguments only) and never executed.
    A rejected string is an invalid step: nothing happens, ``info["action_error"]`` holds the
    reason, the step still counts.

    ## Observation Space
    ``spaces.Dict`` with
    - ``"screenshot"``: ``Box(0, 255, (H, W, 3), uint8)``, the rendered screen with the cursor;
    - ``"instruction"``: ``Box(0, 255, (MAX_INSTRUCTION_BYTES,), uint8)``, the instruction as
      zero-padded UTF-8 (``decode_instruction`` turns it back into a str). Bytes, not a
      ``Text`` space: RLlib's vector env batches ``Text`` as a tuple of str and its unbatching
      keeps only the first character.
    ``info["instruction"]`` and ``info["task_id"]`` carry the plain strings too.

    ## Rewards
    0 on every step but the last; at the end the evaluator result in [0, 1] (OSWorld semantics:
    after ``FAIL`` 0, except for ``infeasible`` tasks where ``FAIL`` scores 1).

    ## Episode End
    Terminates on ``DONE`` or ``FAIL``; truncates after ``max_steps`` steps (then the final
    state is evaluated, as OSWorld does after its step budget). ``WAIT`` and every other action
    never end the episode. ``info["eval_result"]`` and ``info["terminated_by"]`` ("DONE",
    "FAIL", "max_steps") are set on the last step.

    Args:
        screen_size: (width, height) in pixels; multiples of 28 advised. Procedural curriculum
            levels ``grid112``/``grid224`` need (112, 112)/(224, 224).
        max_steps: Step budget per episode.
        task: Default task for ``reset`` without ``options["task"]``; None samples a procedural
            task (family, level) with the env's RNG.
        task_dir: Directory of OSWorld task files for id lookup (default: repository test_data).
        task_families: Procedural families that ``default_tasks`` and sampled tasks use (default: all).
        training_seeds: Seeds per (family, level) in ``default_tasks``.
        now: Virtual clock (default: today at 10:00, see ``default_now``).
        render_mode: ``"rgb_array"`` or None.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 1}  # noqa: RUF012 - gymnasium API

    def __init__(
        self,
        screen_size: tuple[int, int] = DEFAULT_SCREEN_SIZE,
        max_steps: int = DEFAULT_MAX_STEPS,
        task: dict[str, Any] | str | None = None,
        task_dir: str | Path | None = None,
        task_families: Sequence[str] | None = None,
        training_seeds: int = 4,
        now: dt.datetime | None = None,
        render_mode: str | None = None,
    ):
        width, height = int(screen_size[0]), int(screen_size[1])
        if width < 56 or height < 56 or width > 4096 or height > 4096:
            raise ValueError(f"screen_size must be within 56..4096 px per side, got {screen_size}")
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        families.check_family_names(task_families or (), field="task_families")
        if training_seeds < 1:
            raise ValueError(f"training_seeds must be >= 1, got {training_seeds}")
        self.screen_size = (width, height)
        self.max_steps = max_steps
        self.task_families = tuple(task_families) if task_families else families.FAMILIES
        self.training_seeds = training_seeds
        self.default_task = task
        self.task_dir = Path(task_dir) if task_dir is not None else default_test_data()
        self.fixed_now = now
        self.render_mode = render_mode
        self.observation_space, self.action_space = env_spaces(width, height)
        self._task_set: TaskSet | None = None
        self._procedural: dict[str, dict[str, Any]] = {}
        self.renderer = Renderer(width, height, 0)
        self.desk: Desktop | None = None
        self.task: dict[str, Any] | None = None
        self.task_id = ""
        self.steps = 0
        self.done = True
        self.last_action: str | None = None
        self.setup_warnings: list[str] = []
        self.unknown_sites = 0
        """Tasks refused so far because they need a site MiniDesk does not simulate."""
        self._instruction = encode_instruction("")
        self._last_obs: Observation | None = None

    # ------------------------------------------------------------------ tasks
    @property
    def task_set(self) -> TaskSet:
        if self._task_set is None:
            self._task_set = TaskSet(self.task_dir)
        return self._task_set

    def resolve_task(self, task: dict[str, Any] | str) -> tuple[str, dict[str, Any]]:
        """(key, task dict) for a task dict or id (procedural id, or a test_data file stem)."""
        if isinstance(task, dict):
            validate_task(task, f"task {task.get('id', '?')!r}")
            return str(task.get("minidesk", {}).get("task_id", task["id"])), task
        if not isinstance(task, str):
            raise TypeError(
                f"options['task'] must be a task dict or an id str, got {type(task).__name__}"
            )
        if task.startswith(families.ID_PREFIX):
            cached = self._procedural.get(task)
            if cached is None:  # generated once per env: a GRPO group resets it G times
                cached = families.task_from_id(task, self.screen_size)
                if len(self._procedural) >= PROCEDURAL_CACHE_SIZE:
                    self._procedural.pop(next(iter(self._procedural)))
                self._procedural[task] = cached
            return task, cached
        if task in self.task_set:
            return task, self.task_set[task]
        raise KeyError(
            f"unknown task id {task!r}: not a procedural id ({families.ID_PREFIX}<family>/<level>/<seed>) "
            f"and not a task file stem under {self.task_dir}"
        )

    def default_tasks(self) -> list[str]:
        """A fixed training task list: the env's families at every level this screen size
        allows, ``training_seeds`` seeds each from ``families.TRAINING_SEED_START`` (what
        ``rllib train --algo ARPO --env minidesk`` trains on when no task list is given)."""
        return families.training_task_ids(
            self.task_families, families.levels_for(self.screen_size), self.training_seeds
        )

    def _sample_task(self) -> str:
        family = self.task_families[int(self.np_random.integers(len(self.task_families)))]
        levels = families.levels_for(self.screen_size)
        level = levels[int(self.np_random.integers(len(levels)))]
        return families.task_id(family, level, int(self.np_random.integers(1_000_000)))

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> ResetResult:
        super().reset(seed=seed)
        options = options or {}
        spec = options.get("task", self.default_task)
        if spec is None:
            spec = self._sample_task()
        t0 = time.perf_counter()
        try:
            self.task_id, task = self.resolve_task(spec)
        except UnknownSiteError:
            self.unknown_sites += 1
            raise
        self.task = task
        meta = task.get("minidesk", {})
        if meta.get("screen_size") and tuple(meta["screen_size"]) != self.screen_size:
            raise ValueError(
                f"task {self.task_id!r} was laid out for screen_size={tuple(meta['screen_size'])}, "
                f"this env has {self.screen_size}; make the env with that screen_size"
            )
        now = options.get("now") or self.fixed_now or default_now()
        width, height = self.screen_size
        self.desk = Desktop(width, height, now)
        self.renderer = Renderer(width, height, self.desk.theme.font_size)
        self.setup_warnings = []
        try:
            run_steps(self.desk, copy.deepcopy(task["config"]), self.setup_warnings)
        except SetupError as exc:
            raise SetupError(f"task {self.task_id!r}: {exc}") from None
        self.steps = 0
        self.done = False
        self.last_action = None
        self._instruction = encode_instruction(task["instruction"])
        obs = self._observe()
        info = self._info(setup_s=time.perf_counter() - t0)
        if self.setup_warnings:
            info["setup_warnings"] = list(self.setup_warnings)
        return obs, info

    def step(self, action: str) -> StepResult:
        assert self.desk is not None and not self.done, "Call reset before using step method."
        self.steps += 1
        info = self._info()
        terminated_by = None
        commands = read_action(action, info)
        for command in commands:
            if command.name in ("DONE", "FAIL"):
                terminated_by = command.name
                break
            error = self._apply(command)
            if error:
                info["env_error"] = error
                break
        if commands and terminated_by is None:
            self.last_action = commands[-1].name
        terminated = terminated_by is not None
        truncated = not terminated and self.steps >= self.max_steps
        obs = self._observe()
        reward = 0.0
        if terminated or truncated:
            self.done = True
            self.last_action = terminated_by or self.last_action
            try:
                reward = evaluate(self.task, self.desk, self.last_action)
            except Exception as exc:  # noqa: BLE001 - an evaluator crash is data, not a crashed rollout
                logger.warning("evaluator of %s failed: %s", self.task_id, exc)
                info["eval_error"] = f"{type(exc).__name__}: {exc}"
                reward = 0.0
            info["eval_result"] = reward
            info["terminated_by"] = terminated_by or "max_steps"
        return obs, float(reward), terminated, truncated, info

    def _apply(self, command: Command) -> str | None:
        try:
            self.desk.apply(command.name, command.kwargs)
        except Exception as exc:
            logger.exception("command %s failed in task %s", command, self.task_id)
            self.desk.build()
            return f"MiniDesk internal error on {command.name}: {type(exc).__name__}: {exc}"
        return None

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._last_obs is not None:
            return self._last_obs["screenshot"]
        return None

    def screenshot_png(self) -> bytes:
        """The current screen as PNG bytes (what OSWorld's observation carries)."""
        return encode_png(self._last_obs["screenshot"])

    def _observe(self) -> Observation:
        frame = self.renderer.render(self.desk.widgets, self.desk.mouse)
        self._last_obs = {"screenshot": frame, "instruction": self._instruction.copy()}
        return self._last_obs

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "instruction": self.task["instruction"] if self.task else "",
            "step": self.steps,
            "unknown_sites": self.unknown_sites,
            **extra,
        }
