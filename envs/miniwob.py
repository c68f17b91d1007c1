"""``MiniWoBEnv``: Farama's MiniWoB++ web tasks in headless Chromium, driven by pyautogui strings.

MiniWoB++ (``pip install miniwob``) ships 125 small web pages (``click-test-2``, ``click-button``,
``enter-text``, ...) with their task generators and rewards in JavaScript. This env loads those
pages in one headless Chromium (Selenium + chromedriver), so the same UI-TARS agent and the same
OSWorld pyautogui action strings that drive MiniDesk drive MiniWoB++: the action string is read by
MiniDesk's safe interpreter (``envs.minidesk.interpreter.interpret``, an ``ast`` whitelist, never
``exec``) and replayed as W3C input events (mouse moves and clicks at pixel coordinates of the
screenshot, key presses, wheel scrolls). Install and decision record: docs/miniwob.md.

Task ids: ``"click-test-2"``, ``"miniwob/click-test-2"`` or the gymnasium id
``"miniwob/click-test-2-v1"`` (a fresh instance per reset, seeded by ``reset(seed=...)``), or
``"miniwob/click-test-2/17"`` (always instance 17: every reset of the id shows the same page, as a
GRPO group needs). ``supported_tasks()`` lists the names; ``default_tasks()`` the training ids.
"""

from __future__ import annotations

import base64
import difflib
import io
import logging
import os
import shutil
import statistics
import time
import weakref
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.minidesk.env import ACTION_CHARSET, MAX_INSTRUCTION_BYTES, encode_instruction
from envs.minidesk.interpreter import MAX_CODE_CHARS, ActionRejected, Command, interpret

logger = logging.getLogger(__name__)

ENV_ID = "MiniWoB-v0"
"""gymnasium id (``gymnasium.make("MiniWoB-v0", task="click-test-2")``)."""
RLLIB_ENV_NAME = "miniwob"
"""Name under which ``register_rllib_env`` registers the env with RLlib's registry."""
ID_PREFIX = "miniwob/"
"""Prefix of canonical task ids (``miniwob/<name>`` or ``miniwob/<name>/<seed>``)."""

TASK_WIDTH, TASK_HEIGHT = 160, 210
"""The task frame in CSS px (MiniWoB's ``TASK_WIDTH``/``TASK_HEIGHT``); the instruction is drawn
at y 0-50. The screenshot is this frame times ``scale``."""
VIEWPORT_SIZE = (500, 320)
"""Smallest viewport (CSS px): the task frame plus MiniWoB's reward display to its right. The
window is grown until the viewport is this large (headless Chromium keeps ~140 px of the window
for its emulated toolbars, and pointer moves outside the viewport fail)."""
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

CHROME_BINARY_ENV = "MINIWOB_CHROME_BINARY"
CHROMEDRIVER_ENV = "MINIWOB_CHROMEDRIVER"
CHROME_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMEDRIVER_CANDIDATES = ("chromedriver",)
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--mute-audio",
)
"""Chromium flags: headless, no sandbox (containers run as root), nothing fetched in the background."""
INSTALL_HINT = (
    "install them with `apt-get install -y chromium chromium-driver` (Debian), or set "
    f"{CHROME_BINARY_ENV} and {CHROMEDRIVER_ENV}, or pass chrome_binary= and chromedriver="
)
UNSUPPORTED_PREFIXES = ("flight.",)
"""FlightWoB tasks need an HTTP server and a 375x667 frame; not supported here."""

_BUTTONS = {"left": 0, "middle": 1, "right": 2}


class MiniWoBError(RuntimeError):
    """The browser failed (did not start, crashed, or a page did not load)."""


class BrowserNotFoundError(MiniWoBError, FileNotFoundError):
    """Chromium or chromedriver is not installed where the env looked (message names which)."""


# ------------------------------------------------------------------------------------ tasks


def _miniwob():
    try:
        import miniwob
        import selenium  # noqa: F401 - the browser side, checked here for one clear error
    except ImportError as exc:
        raise ImportError(
            "MiniWoBEnv needs the `miniwob` package: pip install -e '.[miniwob]' && "
            f"pip install --no-deps miniwob==1.1.0 (see docs/miniwob.md): {exc}"
        ) from None
    return miniwob


def supported_tasks() -> list[str]:
    """Names of the MiniWoB++ tasks this env runs (every registered task but FlightWoB), sorted."""
    _miniwob()
    names = [
        env_id[len(ID_PREFIX) : -len("-v1")]
        for env_id in gym.registry
        if env_id.startswith(ID_PREFIX) and env_id.endswith("-v1")
    ]
    return sorted(n for n in names if not n.startswith(UNSUPPORTED_PREFIXES))


def task_id(name: str, seed: int | None = None) -> str:
    """Canonical id: ``miniwob/<name>`` or, with a seed, ``miniwob/<name>/<seed>``."""
    return f"{ID_PREFIX}{name}" if seed is None else f"{ID_PREFIX}{name}/{int(seed)}"


def parse_task_id(spec: str) -> tuple[str, int | None]:
    """``(name, seed or None)`` of a task id in any accepted form (see the module docstring).

    Raises:
        KeyError: an unknown or unsupported task name (the message lists close matches).
        TypeError: ``spec`` is not a str.
    """
    if not isinstance(spec, str):
        raise TypeError(f"a MiniWoB task is an id str, got {type(spec).__name__}: {spec!r}")
    rest = spec[len(ID_PREFIX) :] if spec.startswith(ID_PREFIX) else spec
    name, _, seed_text = rest.partition("/")
    if name.endswith("-v1"):
        name = name[: -len("-v1")]
    supported = supported_tasks()
    if name not in supported:
        close = difflib.get_close_matches(name, supported, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(
            f"unknown MiniWoB task {spec!r}{hint} ({len(supported)} supported: see "
            "envs.miniwob.supported_tasks(); FlightWoB tasks are not supported)"
        )
    if not seed_text:
        return name, None
    try:
        return name, int(seed_text)
    except ValueError:
        raise KeyError(
            f"bad MiniWoB task id {spec!r}: the part after the name must be an int seed"
        ) from None


# ------------------------------------------------------------------------------------ browser


def find_browser(
    chrome_binary: str | None = None, chromedriver: str | None = None
) -> tuple[str, str]:
    """Absolute paths of (Chromium, chromedriver): the arguments, else ``$MINIWOB_CHROME_BINARY`` /
    ``$MINIWOB_CHROMEDRIVER``, else the first of ``CHROME_CANDIDATES`` / ``chromedriver`` on PATH.

    Raises:
        BrowserNotFoundError: naming the binary that is missing and where it was looked for.
    """
    chrome = _find_binary(
        "Chromium", chrome_binary or os.environ.get(CHROME_BINARY_ENV), CHROME_CANDIDATES
    )
    driver = _find_binary(
        "chromedriver", chromedriver or os.environ.get(CHROMEDRIVER_ENV), CHROMEDRIVER_CANDIDATES
    )
    return chrome, driver


def _find_binary(what: str, given: str | None, candidates: Sequence[str]) -> str:
    if given:
        path = shutil.which(given)
        if path is None:
            raise BrowserNotFoundError(
                f"MiniWoB needs {what}, but {given!r} is not an executable file; {INSTALL_HINT}"
            )
        return os.path.abspath(path)
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserNotFoundError(
        f"MiniWoB needs {what}, but none of {', '.join(candidates)} is on PATH; {INSTALL_HINT}"
    )


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (Selenium appends long native stack traces)."""
    text = str(exc).strip()
    if text.startswith("Message:"):
        text = text[len("Message:") :].strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else ''}"


def _quit_driver(holder: dict) -> None:
    driver = holder.pop("driver", None)
    if driver is not None:
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 - a dead browser cannot be quit twice
            logger.debug("driver.quit failed", exc_info=True)


class _Browser:
    """One headless Chromium showing one MiniWoB page at a time (Selenium WebDriver)."""

    def __init__(self, chrome: str, driver_path: str, scale: int, time_limit_s: float | None):
        self.chrome, self.driver_path = chrome, driver_path
        self.scale = scale
        self.time_limit_s = time_limit_s
        self.holder: dict[str, Any] = {}  # the driver, quit by a finalizer if the env is dropped
        self.page: str | None = None
        weakref.finalize(self, _quit_driver, self.holder)

    @property
    def driver(self):
        return self.holder["driver"]

    @property
    def alive(self) -> bool:
        return "driver" in self.holder

    def start(self) -> None:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = self.chrome
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--window-size={VIEWPORT_SIZE[0]},{VIEWPORT_SIZE[1] + 160}")
        options.add_argument(f"--force-device-scale-factor={self.scale}")
        try:  # an explicit Service path: Selenium Manager (which downloads drivers) never runs
            self.holder["driver"] = webdriver.Chrome(
                service=Service(executable_path=self.driver_path), options=options
            )
        except WebDriverException as exc:
            raise MiniWoBError(
                f"could not start Chromium {self.chrome} with chromedriver {self.driver_path}: "
                f"{_one_line(exc)}"
            ) from exc
        self.page = None
        width, height = self.driver.execute_script(
            "return [window.innerWidth, window.innerHeight];"
        )
        if width < VIEWPORT_SIZE[0] or height < VIEWPORT_SIZE[1]:
            size = self.driver.get_window_size()
            self.driver.set_window_size(
                size["width"] + max(VIEWPORT_SIZE[0] - width, 0),
                size["height"] + max(VIEWPORT_SIZE[1] - height, 0),
            )

    def responsive(self) -> bool:
        """Whether the browser still answers (after an input event failed)."""
        try:
            return self.driver.execute_script("return 1;") == 1
        except Exception:  # noqa: BLE001 - any failure means it does not
            return False

    def quit(self) -> None:
        _quit_driver(self.holder)
        self.page = None

    def load(self, name: str) -> None:
        """Open task ``name``'s page and raise its JavaScript time limit (kept across episodes)."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.wait import WebDriverWait

        html_dir = os.path.join(os.path.dirname(_miniwob().__file__), "html", "miniwob")
        self.driver.get(f"file://{html_dir}/{name}.html")
        try:
            WebDriverWait(self.driver, 10).until(
                expected_conditions.element_to_be_clickable((By.ID, "sync-task-cover"))
            )
        except TimeoutException:
            raise MiniWoBError(f"MiniWoB page {name!r} did not load within 10 s") from None
        if self.time_limit_s is not None:
            self.driver.execute_script(f"core.EPISODE_MAX_TIME = {int(self.time_limit_s * 1000)};")
        self.page = name

    def begin(self, seed: int, data_mode: str) -> None:
        """End any running episode, seed the page's RNG, start a new episode, wait until ready."""
        self.driver.execute_script(
            f"core.endEpisode(0); Math.seedrandom({int(seed)}); "
            f"core.setDataMode({data_mode!r}); core.startEpisodeReal();"
        )
        for _ in range(40):
            if self.driver.execute_script("return WOB_TASK_READY;"):
                return
            time.sleep(0.05)
        raise MiniWoBError(f"MiniWoB page {self.page!r} did not become ready within 2 s")

    def state(self) -> dict[str, Any]:
        """The page's episode state: done, raw_reward, env_reward, reason."""
        return self.driver.execute_script(
            'return {"done": WOB_DONE_GLOBAL, "env_reward": WOB_REWARD_GLOBAL, '
            '"raw_reward": WOB_RAW_REWARD_GLOBAL, "reason": WOB_REWARD_REASON};'
        )

    def utterance(self) -> tuple[str, list[tuple[str, str]]]:
        response = self.driver.execute_script("return core.getUtterance();")
        if isinstance(response, dict):
            return str(response["utterance"]), [(k, str(v)) for k, v in response["fields"].items()]
        from miniwob.fields import get_field_extractor

        text = str(response)
        return text, [(k, str(v)) for k, v in get_field_extractor(self.page)(text)]

    def dom(self):
        from miniwob.dom import DOMElement

        return DOMElement(self.driver.execute_script("return core.getDOMInfo();"))

    def screenshot(self) -> np.ndarray:
        """The task frame, (TASK_HEIGHT * scale, TASK_WIDTH * scale, 3) uint8."""
        from PIL import Image

        data = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "clip": {"x": 0, "y": 0, "width": TASK_WIDTH, "height": TASK_HEIGHT, "scale": 1},
            },
        )["data"]
        image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
        size = (TASK_WIDTH * self.scale, TASK_HEIGHT * self.scale)
        if image.size != size:  # a device scale factor Chromium did not honour
            image = image.resize(size)
        return np.asarray(image, dtype=np.uint8)

    def builder(self):
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        return ActionBuilder(self.driver, duration=0)


# ------------------------------------------------------------------------------------ keys


def _key_map() -> dict[str, str]:
    from selenium.webdriver.common.keys import Keys

    keys = {
        "enter": Keys.ENTER, "return": Keys.RETURN, "tab": Keys.TAB, "\t": Keys.TAB,
        "\n": Keys.ENTER, "\r": Keys.ENTER, "backspace": Keys.BACKSPACE, "\b": Keys.BACKSPACE,
        "delete": Keys.DELETE, "del": Keys.DELETE, "esc": Keys.ESCAPE, "escape": Keys.ESCAPE,
        "space": Keys.SPACE, "up": Keys.ARROW_UP, "down": Keys.ARROW_DOWN,
        "left": Keys.ARROW_LEFT, "right": Keys.ARROW_RIGHT, "home": Keys.HOME, "end": Keys.END,
        "pageup": Keys.PAGE_UP, "pgup": Keys.PAGE_UP, "pagedown": Keys.PAGE_DOWN,
        "pgdn": Keys.PAGE_DOWN, "insert": Keys.INSERT, "clear": Keys.CLEAR, "pause": Keys.PAUSE,
        "ctrl": Keys.CONTROL, "ctrlleft": Keys.CONTROL, "ctrlright": Keys.CONTROL,
        "control": Keys.CONTROL, "shift": Keys.SHIFT, "shiftleft": Keys.SHIFT,
        "shiftright": Keys.SHIFT, "alt": Keys.ALT, "altleft": Keys.ALT, "altright": Keys.ALT,
        "option": Keys.ALT, "cmd": Keys.META, "command": Keys.META, "win": Keys.META,
        "winleft": Keys.META, "winright": Keys.META, "super": Keys.META, "meta": Keys.META,
    }  # fmt: skip
    keys.update({f"f{i}": getattr(Keys, f"F{i}") for i in range(1, 13)})
    return keys


def _webdriver_key(key: str, keys: dict[str, str]) -> str:
    if key in keys:
        return keys[key]
    if len(key) == 1:
        return key
    raise ActionRejected(f"unknown key {key!r}; known: single characters and {', '.join(keys)}")


# ------------------------------------------------------------------------------------ env


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
    (``envs.minidesk.env.decode_instruction``). ``info`` carries ``task_id``, ``instruction``,
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
        _miniwob()
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
        self.observation_space = spaces.Dict(
            {
                "screenshot": spaces.Box(
                    0, 255, (self.frame_size[1], self.frame_size[0], 3), np.uint8
                ),
                "instruction": spaces.Box(0, 255, (MAX_INSTRUCTION_BYTES,), np.uint8),
            }
        )
        self.action_space = spaces.Text(
            max_length=MAX_CODE_CHARS, min_length=0, charset=ACTION_CHARSET
        )
        self.browser = _Browser(self.chrome_binary, self.chromedriver, scale, episode_time_limit_s)
        self._keys = _key_map()
        self.task_name = ""
        self.task_id = ""
        self.episode_seed = 0
        self.instruction = ""
        self.fields: dict[str, str] = {}
        self.steps = 0
        self.done = True
        self.mouse = (self.frame_size[0] // 2, self.frame_size[1] // 2)
        self._last_obs: dict[str, np.ndarray] | None = None

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
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
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
                        f"reset of MiniWoB task {name!r} failed: {_one_line(exc)}"
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

    def step(self, action: str):
        assert self.browser.alive and not self.done, "Call reset before using step method."
        self.steps += 1
        info = self._info()
        try:
            commands = interpret(action)
            self._validate(commands)
            info["action_error"] = None
        except ActionRejected as exc:
            commands = []
            info["action_error"] = str(exc)
        info["action_valid"] = info["action_error"] is None
        info["commands"] = [(c.name, dict(c.kwargs)) for c in commands]
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
                    info["env_error"] = f"{command.name} failed: {_one_line(exc)}"
                    break
            state = self.browser.state()
            obs = self._observe()
        except Exception as exc:
            self.browser.quit()
            self.done = True
            raise MiniWoBError(
                f"browser failed in step {self.steps} of {self.task_id}: {_one_line(exc)}"
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
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(self._last_obs["screenshot"]).save(buf, format="PNG")
        return buf.getvalue()

    # ------------------------------------------------------------------ internals
    def _observe(self) -> dict[str, np.ndarray]:
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
        """Reject points outside the screenshot and unknown keys before any event is sent."""
        width, height = self.frame_size
        for command in commands:
            kw = command.kwargs
            x, y = kw.get("x"), kw.get("y")
            if x is not None and not (0 <= x < width and 0 <= y < height):
                raise ActionRejected(
                    f"{command.name} at ({x}, {y}) is outside the {width}x{height} screenshot"
                )
            for key in kw.get("keys", ()):
                _webdriver_key(key, self._keys)
            if "key" in kw:
                _webdriver_key(kw["key"], self._keys)

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
                    key = _webdriver_key(key, self._keys)
                    keys.key_down(key).key_up(key)
        elif name == "hotkey":
            held = [_webdriver_key(k, self._keys) for k in kw["keys"]]
            for key in held:
                keys.key_down(key)
            for key in reversed(held):
                keys.key_up(key)
        elif name in ("keyDown", "keyUp"):
            key = _webdriver_key(kw["key"], self._keys)
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


# ------------------------------------------------------------------------------------ experts


def expert_action(env: MiniWoBEnv) -> str:
    """A scripted pyautogui action for the current page, from its DOM and fields (pixel clicks
    at element centres, typing); supports ``EXPERT_TASKS``. Not a VLM: it reads the DOM."""
    env = env.unwrapped
    name, fields = env.task_name, env.fields
    elements = env.dom_elements()

    def click(element) -> str:
        x, y = env.element_center(element)
        return f"pyautogui.click(x={x}, y={y})"

    def find(predicate) -> Any:
        for element in elements:
            if predicate(element):
                return element
        raise LookupError(f"no matching element on {name} ({env.instruction!r})")

    if name == "click-test":
        return click(find(lambda e: e.id == "subbtn"))
    if name in ("click-test-2", "click-button"):
        target = fields["target"]
        return click(find(lambda e: e.tag == "button" and (e.text or "").strip() == target))
    if name == "click-link":
        target = fields["target"]
        return click(find(lambda e: e.tag == "span" and "alink" in e.classes and e.text == target))
    if name in ("enter-text", "enter-password"):
        inputs = [e for e in elements if e.tag.startswith("input")]
        lines = []
        for element in inputs:
            lines.append(click(element))
            lines.append(f"pyautogui.write({fields['target']!r})")
        lines.append(click(find(lambda e: e.id == "subbtn")))
        return "\n".join(lines)
    if name == "focus-text":
        return click(find(lambda e: e.tag.startswith("input")))
    raise KeyError(f"no expert for MiniWoB task {name!r}; experts: {', '.join(EXPERT_TASKS)}")


EXPERT_TASKS = (
    "click-test",
    "click-test-2",
    "click-button",
    "click-link",
    "enter-text",
    "enter-password",
    "focus-text",
)


# ------------------------------------------------------------------------------------ timing


def time_steps(
    task: str = "click-test-2",
    n: int = 50,
    action: str = "pyautogui.click(x=150, y=200)",
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Time ``n`` steps of ``action`` on ``task`` (for ``bench/eval.py``); the episode is reset
    (untimed) whenever it ends. The default action clicks an empty corner of the frame.

    Returns:
        ``{"task", "steps", "make_s", "reset_ms_median", "step_ms_median", "step_ms_p90",
        "steps_per_s"}`` (wall-clock; ``steps_per_s`` = n / total step time).
    """
    t0 = time.perf_counter()
    env = MiniWoBEnv(task=task, **env_kwargs)
    resets: list[float] = []
    steps: list[float] = []
    try:
        t1 = time.perf_counter()
        env.reset(seed=0)
        make_s = time.perf_counter() - t0
        resets.append(time.perf_counter() - t1)
        for i in range(n):
            t1 = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(action)
            steps.append(time.perf_counter() - t1)
            if terminated or truncated:
                t1 = time.perf_counter()
                env.reset(seed=i + 1)
                resets.append(time.perf_counter() - t1)
    finally:
        env.close()
    ordered = sorted(steps)
    return {
        "task": task,
        "steps": n,
        "make_s": make_s,
        "reset_ms_median": 1000 * statistics.median(resets),
        "step_ms_median": 1000 * statistics.median(steps) if steps else float("nan"),
        "step_ms_p90": 1000 * ordered[int(0.9 * (len(ordered) - 1))] if steps else float("nan"),
        "steps_per_s": n / sum(steps) if steps else float("nan"),
    }


# ------------------------------------------------------------------------------------ registration


def make_rllib_env(config: dict[str, Any] | None = None) -> MiniWoBEnv:
    """RLlib env creator: ``config`` (an ``EnvContext``) holds ``MiniWoBEnv``'s kwargs."""
    return MiniWoBEnv(**dict(config or {}))


def register_rllib_env(name: str = RLLIB_ENV_NAME) -> None:
    """Register the env with RLlib's registry (``config.environment("miniwob", env_config=...)``);
    imports ray, so call it after ``ray.init``."""
    from ray.tune.registry import register_env

    register_env(name, make_rllib_env)


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="envs.miniwob:MiniWoBEnv")


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
