"""The browser side of MiniWoB++: finding Chromium and chromedriver, starting one headless
Chromium (Selenium WebDriver) and driving a MiniWoB page in it.

Selenium is imported inside the methods that use it, so importing this module stays cheap.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import shutil
import time
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from envs.minidesk.interpreter import ActionRejected
from envs.miniwob.tasks import require_miniwob

logger = logging.getLogger(__name__)


TASK_WIDTH, TASK_HEIGHT = 160, 210
"""The task frame in CSS px (MiniWoB's ``TASK_WIDTH``/``TASK_HEIGHT``); the instruction is drawn
at y 0 to ``INSTRUCTION_HEIGHT``. The screenshot is this frame times ``scale``."""
INSTRUCTION_HEIGHT = 50
"""CSS px at the top of the task frame that show the instruction (MiniWoB's ``#query``); the
task's own area is below."""
VIEWPORT_SIZE = (500, 320)
"""Smallest viewport (CSS px): the task frame plus MiniWoB's reward display to its right. The
window is grown until the viewport is this large (headless Chromium keeps ~140 px of the window
for its emulated toolbars, and pointer moves outside the viewport fail)."""

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
    "--disable-smooth-scrolling",
)
"""Chromium flags: headless, no sandbox (containers run as root), nothing fetched in the
background, wheel scrolls that jump instead of animating."""
SCROLL_SETTLE_S = 0.5
"""Longest wait for the page's scroll offset to settle after a wheel action."""
INSTALL_HINT = (
    "install them with `apt-get install -y chromium chromium-driver` (Debian), or set "
    f"{CHROME_BINARY_ENV} and {CHROMEDRIVER_ENV}, or pass chrome_binary= and chromedriver="
)


class MiniWoBError(RuntimeError):
    """The browser failed (did not start, crashed, or a page did not load)."""


class BrowserNotFoundError(MiniWoBError, FileNotFoundError):
    """Chromium or chromedriver is not installed where the env looked (message names which)."""


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


def one_line(exc: BaseException) -> str:
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


class ChromeDriver:
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
                f"{one_line(exc)}"
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

        html_dir = os.path.join(os.path.dirname(require_miniwob().__file__), "html", "miniwob")
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
        """Release held keys and buttons, end any running episode, seed the page's RNG, start a
        new episode, wait until ready."""
        self.builder().clear_actions()  # W3C "release actions": a keyDown must not outlive it
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
        """The task frame as the viewport shows it, (TASK_HEIGHT * scale, TASK_WIDTH * scale, 3)
        uint8. The clip is in document coordinates and pointer actions in viewport coordinates,
        so the clip starts at the page's scroll offset: on a page taller than the window (e.g.
        click-pie) the screenshot follows a scroll, and a click lands where the screenshot shows.
        """
        from PIL import Image

        scroll_x, scroll_y = self.driver.execute_script("return [window.scrollX, window.scrollY];")
        clip = {"x": scroll_x, "y": scroll_y, "width": TASK_WIDTH, "height": TASK_HEIGHT}
        data = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "clip": {**clip, "scale": 1}}
        )["data"]
        image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
        size = (TASK_WIDTH * self.scale, TASK_HEIGHT * self.scale)
        if image.size != size:  # a device scale factor Chromium did not honour
            image = image.resize(size)
        return np.asarray(image, dtype=np.uint8)

    def wait_for_scroll(self) -> None:
        """Wait until the page's scroll offset stops moving (a wheel scroll lands a frame or
        more after the input event), so that the next screenshot shows where it ended."""
        self.driver.set_script_timeout(SCROLL_SETTLE_S + 1)
        self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const deadline = performance.now() + arguments[0] * 1000;"
            "let last = [scrollX, scrollY], still = 0;"
            "function tick() {"
            "  const now = [scrollX, scrollY];"
            "  still = now[0] === last[0] && now[1] === last[1] ? still + 1 : 0; last = now;"
            "  if (still >= 3 || performance.now() > deadline) done(); else requestAnimationFrame(tick);"
            "}"
            "requestAnimationFrame(tick);",
            SCROLL_SETTLE_S,
        )

    def builder(self):
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        return ActionBuilder(self.driver, duration=0)


def key_map() -> dict[str, str]:
    """pyautogui key names (and the characters ``\\t``, ``\\n``, ``\\b``) -> WebDriver key codes."""
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


def webdriver_key(key: str, keys: dict[str, str]) -> str:
    """The WebDriver key of a pyautogui key name; single characters pass through.

    Raises:
        ActionRejected: an unknown key name (the message lists the known ones).
    """
    if key in keys:
        return keys[key]
    if len(key) == 1:
        return key
    names = ", ".join(name for name in keys if name.isprintable())
    raise ActionRejected(f"unknown key {key!r}; known: single characters and {names}")
