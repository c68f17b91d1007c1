"""``MiniWoBEnv``: Farama's MiniWoB++ web tasks in headless Chromium, driven by pyautogui strings.

MiniWoB++ (``pip install miniwob``) ships 125 small web pages (``click-test-2``, ``click-button``,
``enter-text``, ...) with their task generators and rewards in JavaScript. This env loads those
pages in one headless Chromium (``browser.ChromeDriver``), so the same UI-TARS agent and the same
OSWorld pyautogui action strings that drive MiniDesk drive MiniWoB++: the action string is read by
MiniDesk's safe interpreter (``envs.minidesk.interpreter.interpret``, an ``ast`` whitelist, never
``exec``) and replayed as W3C input events (mouse moves and clicks at pixel coordinates of the
screenshot, key presses, wheel scrolls). Install and decision record: docs/miniwob.md. Task ids:
``tasks.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from envs.minidesk.interpreter import ActionRejected, Command, read_action
from envs.miniwob.browser import (
    TASK_HEIGHT,
    TASK_WIDTH,
    ChromeDriver,
    MiniWoBError,
    find_browser,
    key_map,
    one_line,
    webdriver_key,
)
from envs.miniwob.tasks import parse_task_id, require_miniwob, supported_tasks, task_id
from envs.registration import MINIWOB_RLLIB_NAME
from envs.registration import register_rllib_env as register_project_env
from envs.spaces import Observation, ResetResult, StepResult, encode_instruction, env_spaces
from rllib_arpo.core.images import encode_png

logger = logging.getLogger(__name__)

DEFAULT_MAX_STEPS = 15
EPISODE_TIME_LIMIT_S = 3600.0
"""Wall-clock limit of an episode in the page's JavaScript (``core.EPISODE_MAX_TIME``). MiniWoB's
default is 10 s (7-30 s in 58 tasks), far less than a VLM needs for a few steps; Pix2Act raises it
the same way."""
SCROLL_PX_PER_CLICK = 20
"""CSS px per pyautogui wheel click. The ui-tars converter emits 5 clicks per scroll: 100 px, about
half the 210 px frame (a real desktop scrolls roughly a quarter screen for the same action)."""
MAX_SLEEP_S = 2.0
"""``time.sleep`` in an action string really sleeps (pages animate), capped at this."""
RESET_ATTEMPTS = 2
"""A reset that fails on a running browser retries once on a fresh one (Chromium may have died
between episodes); a fresh browser that fails raises at once."""
DRAG_MOVES = 5
"""Intermediate pointer moves of a drag (drag handlers need mousemove events)."""
MAX_TYPED_CHARS = 1024
"""Characters one action string may type. The browser replays each as a key event (a few ms
each): 65,536 typed characters would block a step for minutes until the driver's timeout kills
the browser. MiniWoB's texts are far shorter. (Clicks, presses and hotkeys are bounded by the
interpreter's ``MAX_EVENTS``.)"""

_BUTTONS = {"left": 0, "middle": 1, "right": 2}


class MiniWoBEnv(gym.Env):
    """MiniWoB++ tasks with MiniDesk's observation and action conventions.

    One env owns one headless Chromium (started at the first ``reset``, about 1 s, ~0.4 GB) and
    shows one task page at a time; ``reset(options={"task": ...})`` switches pages when the task
    changes (a page load) and otherwise only starts a new episode on the page (~0.1 s).

    ## Action Space
    ``spaces.Text(MAX_CODE_CHARS)``: OSWorld ``pyautogui`` code, e.g.
    ``"pyautogui.click(x=80, y=120)"``, several statements separated by newlines or semicolons, or
    ``"WAIT"``, ``"DONE"``, ``"FAIL"``. Coordinates are pixels of the screenshot (the task frame
    times ``scale``). Read by ``envs.minidesk.interpreter.interpret`` (never executed) and replayed
    as browser input: clicks (any button, ``clicks=n``, double/triple), moves, drags,
    mouseDown/Up, ``write``, ``press``, ``hotkey``, keyDown/Up, ``scroll``/``hscroll``
    (``SCROLL_PX_PER_CLICK`` per click, positive = up/right as in pyautogui) and ``time.sleep``
    (capped at ``MAX_SLEEP_S``). A rejected string (bad code, a point outside the screenshot, an
    unknown key) does nothing and sets ``info["action_error"]``; the step still counts.

    ## Observation Space
    ``spaces.Dict`` with ``"screenshot"``: ``Box(0, 255, (210 * scale, 160 * scale, 3), uint8)``,
    the task frame (the instruction is drawn in its top 50 CSS px), and ``"instruction"``:
    ``Box(0, 255, (MAX_INSTRUCTION_BYTES,), uint8)``, the utterance as zero-padded UTF-8
    (``envs.spaces.decode_instruction``). ``info`` carries ``task_id``, ``instruction``,
    ``seed`` and the task's ``fields`` (e.g. ``{"target": "ONE"}``) as plain values.

    ## Rewards
    0 on every step but the last; at the end ``eval_result``: 1.0 if the page ended the episode
    with a raw reward >= ``success_threshold``, else 0.0. MiniWoB's own rewards are kept in
    ``info``: ``raw_reward`` in [-1, 1] (-1 for a wrong answer or a JavaScript timeout, partial
    credit in a few tasks), ``env_reward`` (raw scaled down by elapsed time) and ``reason``.

    ## Episode End
    Terminated when the page ends the episode (``terminated_by="task"``: the agent submitted,
    right or wrong) or on ``DONE``/``FAIL`` (then scored by the page's state: 0 unless the page
    had already ended with success); truncated after ``max_steps`` steps. ``info["eval_result"]``
    and ``info["terminated_by"]`` ("task", "DONE", "FAIL", "max_steps") are set on the last step.
    Browser failures raise ``MiniWoBError`` (an env error to the rollout); the next ``reset``
    starts a fresh browser.

    Args:
        task: Default task for ``reset`` without ``options["task"]``; None samples one of
            ``supported_tasks()`` with the env's RNG.
        max_steps: Step budget per episode.
        scale: Device pixel ratio, 1 to 4: the screenshot is (210 * scale, 160 * scale), sharper
            text for a VLM; coordinates are in that frame.
        episode_time_limit_s: The page's JavaScript time limit (see ``EPISODE_TIME_LIMIT_S``);
            None keeps each task's own (10 s mostly).
        success_threshold: Raw reward that counts as success.
        wait_s: Seconds a ``WAIT`` action sleeps (pages with delays animate meanwhile).
        data_mode: MiniWoB data mode ("train" or "test"; a few tasks differ).
        chrome_binary: Chromium executable (name or path); default ``$MINIWOB_CHROME_BINARY``,
            else ``chromium``/``google-chrome`` on PATH.
        chromedriver: chromedriver executable; default ``$MINIWOB_CHROMEDRIVER``, else PATH.
        render_mode: ``"rgb_array"`` or None.

    Raises:
        BrowserNotFoundError: at construction, when Chromium or chromedriver is missing.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 1}  # noqa: RUF012 - gymnasium API

    def __init__(
        self,
        task: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        scale: int = 1,
        episode_time_limit_s: float | None = EPISODE_TIME_LIMIT_S,
        success_threshold: float = 1.0,
        wait_s: float = 1.0,
        data_mode: str = "train",
        chrome_binary: str | None = None,
        chromedriver: str | None = None,
        render_mode: str | None = None,
    ):
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        if not isinstance(scale, int) or not 1 <= scale <= 4:
            raise ValueError(f"scale must be an int in 1..4, got {scale!r}")
        if episode_time_limit_s is not None and not 1 <= episode_time_limit_s <= 86_400:
            raise ValueError(
                f"episode_time_limit_s must be within 1..86400 s or None, got {episode_time_limit_s}"
            )
        if data_mode not in ("train", "test"):
            raise ValueError(f"data_mode must be 'train' or 'test', got {data_mode!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.chrome_binary, self.chromedriver = find_browser(chrome_binary, chromedriver)
        require_miniwob()
        if task is not None:
            parse_task_id(task)  # fail at construction, not at the first reset
        self.default_task = task
        self.max_steps = max_steps
        self.scale = scale
        self.success_threshold = float(success_threshold)
        self.wait_s = float(wait_s)
        self.data_mode = data_mode
        self.render_mode = render_mode
        self.frame_size = (TASK_WIDTH * scale, TASK_HEIGHT * scale)
        """(width, height) of the screenshot in pixels."""
        self.observation_space, self.action_space = env_spaces(*self.frame_size)
        self.browser = ChromeDriver(
            self.chrome_binary, self.chromedriver, scale, episode_time_limit_s
        )
        self._keys = key_map()
        self.task_name = ""
        self.task_id = ""
        self.episode_seed = 0
        self.instruction = ""
        self.fields: dict[str, str] = {}
        self.steps = 0
        self.done = True
        self.mouse = (self.frame_size[0] // 2, self.frame_size[1] // 2)
        self._last_obs: Observation | None = None

    # ------------------------------------------------------------------ tasks
    def default_tasks(
        self, seeds_per_task: int = 4, tasks: Sequence[str] | None = None
    ) -> list[str]:
        """Training ids ``miniwob/<name>/<seed>``: every supported task (or ``tasks``) at seeds
        ``0..seeds_per_task-1`` (what ``rllib train --algo ARPO --env miniwob`` trains on when no
        task list is given)."""
        names = [parse_task_id(t)[0] for t in tasks] if tasks is not None else supported_tasks()
        return [task_id(name, seed) for name in names for seed in range(seeds_per_task)]

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> ResetResult:
        super().reset(seed=seed)
        name, fixed_seed, episode_seed = self._choose_task(options or {}, seed)
        t0 = time.perf_counter()
        for attempt in range(RESET_ATTEMPTS):
            fresh = not self.browser.alive
            try:
                if fresh:
                    self.browser.start()
                if self.browser.page != name:
                    self.browser.load(name)
                self.browser.begin(episode_seed, self.data_mode)
                self.instruction, fields = self.browser.utterance()
                obs = self._observe()
                break
            except Exception as exc:
                self.browser.quit()  # the next attempt (or reset) starts a fresh browser
                if fresh or attempt == RESET_ATTEMPTS - 1:
                    if isinstance(exc, MiniWoBError):
                        raise
                    raise MiniWoBError(
                        f"reset of MiniWoB task {name!r} failed: {one_line(exc)}"
                    ) from exc
                logger.warning("reset of %s failed (%s); restarting the browser", name, exc)
        self.task_name = name
        self.task_id = task_id(name, fixed_seed)
        self.episode_seed = episode_seed
        self.fields = dict(fields)
        self.steps = 0
        self.done = False
        self.mouse = (self.frame_size[0] // 2, self.frame_size[1] // 2)
        info = self._info(seed=episode_seed, setup_s=time.perf_counter() - t0)
        return obs, info

    def step(self, action: str) -> StepResult:
        assert self.browser.alive and not self.done, "Call reset before using step method."
        self.steps += 1
        info = self._info()
        commands = read_action(action, info, self._validate)
        terminated_by = None
        try:
            for command in commands:
                if command.name in ("DONE", "FAIL"):
                    terminated_by = command.name
                    break
                try:
                    self._apply(command)
                except Exception as exc:
                    if not self.browser.responsive():
                        raise
                    # the page refused one input (the browser lives): like MiniDesk, an env_error
                    logger.warning("%s failed in %s: %s", command, self.task_id, exc)
                    info["env_error"] = f"{command.name} failed: {one_line(exc)}"
                    break
            state = self.browser.state()
            obs = self._observe()
        except Exception as exc:
            self.browser.quit()
            self.done = True
            raise MiniWoBError(
                f"browser failed in step {self.steps} of {self.task_id}: {one_line(exc)}"
            ) from exc
        if state["done"] and terminated_by is None:
            terminated_by = "task"
        terminated = terminated_by is not None
        truncated = not terminated and self.steps >= self.max_steps
        reward = 0.0
        if terminated or truncated:
            self.done = True
            raw = float(state["raw_reward"]) if state["done"] else 0.0
            reward = 1.0 if state["done"] and raw >= self.success_threshold else 0.0
            info.update(
                eval_result=reward,
                terminated_by=terminated_by or "max_steps",
                raw_reward=raw,
                env_reward=float(state["env_reward"]) if state["done"] else 0.0,
                reason=state.get("reason"),
            )
        return obs, reward, terminated, truncated, info

    def _choose_task(
        self, options: dict[str, Any], seed: int | None
    ) -> tuple[str, int | None, int]:
        """(task name, the id's fixed seed or None, the episode's seed) of ``options["task"]``
        (default: the env's task; None: one sampled with the env's RNG); the seed is the id's,
        else ``reset``'s, else drawn."""
        spec = options.get("task", self.default_task)
        if spec is None:
            names = supported_tasks()
            spec = names[int(self.np_random.integers(len(names)))]
        name, fixed_seed = parse_task_id(spec)
        if fixed_seed is not None:
            episode_seed = fixed_seed
        elif seed is not None:
            episode_seed = int(seed)
        else:
            episode_seed = int(self.np_random.integers(2**31 - 1))
        return name, fixed_seed, episode_seed

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._last_obs is not None:
            return self._last_obs["screenshot"]
        return None

    def close(self) -> None:
        self.browser.quit()
        self.done = True

    # ------------------------------------------------------------------ page access
    def dom_elements(self) -> list:
        """Every element of the task frame (``miniwob.dom.DOMElement``: tag, text, value, id,
        classes, left/top/width/height in CSS px). For scripted policies and tests; a VLM policy
        sees only the observation."""
        return list(self.browser.dom().subtree_elements)

    def element_center(self, element) -> tuple[int, int]:
        """The centre of a DOM element in screenshot pixels (what a click action takes)."""
        x = (element.left + element.width / 2) * self.scale
        y = (element.top + element.height / 2) * self.scale
        return int(x), int(y)

    def screenshot_png(self) -> bytes:
        """The current screenshot as PNG bytes."""
        return encode_png(self._last_obs["screenshot"])

    # ------------------------------------------------------------------ internals
    def _observe(self) -> Observation:
        self._last_obs = {
            "screenshot": self.browser.screenshot(),
            "instruction": encode_instruction(self.instruction),
        }
        return self._last_obs

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "instruction": self.instruction,
            "fields": dict(self.fields),
            "step": self.steps,
            **extra,
        }

    def _validate(self, commands: list[Command]) -> None:
        """Reject points outside the screenshot, unknown keys and more than ``MAX_TYPED_CHARS``
        typed characters before any event is sent."""
        width, height = self.frame_size
        typed = sum(len(c.kwargs["text"]) for c in commands if c.name in ("write", "typewrite"))
        if typed > MAX_TYPED_CHARS:
            raise ActionRejected(
                f"the action types {typed} characters; at most {MAX_TYPED_CHARS} per step"
            )
        for command in commands:
            kw = command.kwargs
            x, y = kw.get("x"), kw.get("y")
            if x is not None and not (0 <= x < width and 0 <= y < height):
                raise ActionRejected(
                    f"{command.name} at ({x}, {y}) is outside the {width}x{height} screenshot"
                )
            for key in kw.get("keys", ()):
                webdriver_key(key, self._keys)
            if "key" in kw:
                webdriver_key(kw["key"], self._keys)

    def _css(self, x: int, y: int) -> tuple[float, float]:
        return x / self.scale, y / self.scale

    def _target(self, kw: dict[str, Any]) -> tuple[int, int]:
        """The pointer target of a command in screenshot px (absolute, relative or current)."""
        if kw.get("x") is not None:
            return kw["x"], kw["y"]
        dx, dy = kw.get("dx", 0), kw.get("dy", 0)
        width, height = self.frame_size
        return (
            min(max(self.mouse[0] + dx, 0), width - 1),
            min(max(self.mouse[1] + dy, 0), height - 1),
        )

    def _apply(self, command: Command) -> None:
        name, kw = command.name, command.kwargs
        if name == "WAIT":
            time.sleep(self.wait_s)
            return
        if name == "sleep":
            time.sleep(min(kw["seconds"], MAX_SLEEP_S))
            return
        builder = self.browser.builder()
        pointer, keys = builder.pointer_action, builder.key_action
        if name in ("click", "doubleClick", "tripleClick", "rightClick", "middleClick"):
            self.mouse = self._target(kw)
            pointer.move_to_location(*self._css(*self.mouse))
            for _ in range(kw["clicks"]):
                pointer.pointer_down(_BUTTONS[kw["button"]]).pointer_up(_BUTTONS[kw["button"]])
        elif name in ("moveTo", "mouseDown", "mouseUp"):
            self.mouse = self._target(kw)
            pointer.move_to_location(*self._css(*self.mouse))
            if name == "mouseDown":
                pointer.pointer_down(_BUTTONS[kw["button"]])
            elif name == "mouseUp":
                pointer.pointer_up(_BUTTONS[kw["button"]])
        elif name == "dragTo":
            start, end = self.mouse, self._target(kw)
            pointer.move_to_location(*self._css(*start)).pointer_down(_BUTTONS[kw["button"]])
            for i in range(1, DRAG_MOVES + 1):
                x = start[0] + (end[0] - start[0]) * i / DRAG_MOVES
                y = start[1] + (end[1] - start[1]) * i / DRAG_MOVES
                pointer.move_to_location(*self._css(x, y))
            pointer.pointer_up(_BUTTONS[kw["button"]])
            self.mouse = end
        elif name in ("write", "typewrite"):
            for char in kw["text"]:
                key = self._keys.get(char, char)
                keys.key_down(key).key_up(key)
        elif name == "press":
            for _ in range(kw["presses"]):
                for key in kw["keys"]:
                    key = webdriver_key(key, self._keys)
                    keys.key_down(key).key_up(key)
        elif name == "hotkey":
            held = [webdriver_key(k, self._keys) for k in kw["keys"]]
            for key in held:
                keys.key_down(key)
            for key in reversed(held):
                keys.key_up(key)
        elif name in ("keyDown", "keyUp"):
            key = webdriver_key(kw["key"], self._keys)
            if name == "keyDown":
                keys.key_down(key)
            else:
                keys.key_up(key)
        elif name in ("scroll", "hscroll"):
            if kw.get("x") is not None:
                self.mouse = (kw["x"], kw["y"])
            x, y = self._css(*self.mouse)
            delta = kw["clicks"] * SCROLL_PX_PER_CLICK
            builder.wheel_action.scroll(
                x=int(x),
                y=int(y),
                delta_x=delta if name == "hscroll" else 0,
                delta_y=-delta if name == "scroll" else 0,
            )
        else:  # every interpreter command is handled above; a new one must be added here
            raise ActionRejected(f"MiniWoBEnv does not support {name}")
        builder.perform()
        if name in ("scroll", "hscroll"):
            self.browser.wait_for_scroll()


def make_rllib_env(config: dict[str, Any] | None = None) -> MiniWoBEnv:
    """RLlib env creator: ``config`` (an ``EnvContext``) holds ``MiniWoBEnv``'s kwargs."""
    return MiniWoBEnv(**dict(config or {}))


def register_rllib_env(name: str = MINIWOB_RLLIB_NAME) -> None:
    """Register the env with RLlib's registry (``config.environment("miniwob", env_config=...)``);
    imports ray, so call it after ``ray.init``."""
    register_project_env(name, make_rllib_env)
