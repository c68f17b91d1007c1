"""Screenshot TensorBoard's own UI over a run's event files (the README's TensorBoard picture).

Starts ``tensorboard --logdir LOGDIR`` on a free loopback port, opens it in headless Debian
Chromium through Selenium (the ``[miniwob]`` extra), filters the time-series cards by a tag
regex, sets the smoothing, and saves a PNG; ``--images`` saves the episode-strip image card too.

Run: ``python scripts/tensorboard_screenshot.py runs/demo-.../tensorboard --out docs/images``.
Needs ``apt-get install -y chromium chromium-driver``; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_tensorboard(logdir: Path, port: int) -> subprocess.Popen:
    binary = Path(sys.executable).with_name("tensorboard")
    command = [str(binary), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"tensorboard did not answer on port {port} within 60 s")


def browser(width: int, height: int, user_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={user_dir}")
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def wait_for(driver, css: str, timeout: float = 30.0):
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if found:
            return found[0]
        time.sleep(0.3)
    raise SystemExit(f"TensorBoard page has no element {css!r} after {timeout:.0f} s")


def set_input(driver, element, value: str) -> None:
    """Type into an Angular input so that its listeners fire."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));"
        "arguments[0].dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}));",
        element,
        value,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--name", default="tensorboard_demo.png")
    parser.add_argument("--tags", default="success", help="Tag filter regex.")
    parser.add_argument("--smoothing", default="0.95")
    parser.add_argument("--images", action="store_true", help="Also save the image card.")
    parser.add_argument("--size", default="1500x900")
    args = parser.parse_args()
    if not args.logdir.is_dir():
        raise SystemExit(f"no such log directory: {args.logdir}")
    width, height = (int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_tensorboard(args.logdir, port)
    try:
        with tempfile.TemporaryDirectory() as user_dir:
            driver = browser(width, height, user_dir)
            try:
                shoot(driver, port, args)
            finally:
                driver.quit()
    finally:
        server.terminate()


def shoot(driver, port: int, args: argparse.Namespace) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"http://127.0.0.1:{port}/?darkMode=false#timeseries")
    wait_for(driver, "tb-filter-input input, input[placeholder*='Filter tags']")
    time.sleep(3)
    smoothing = driver.find_element(
        By.CSS_SELECTOR, "input[aria-labelledby='scalars-smoothing-label']"
    )
    smoothing.send_keys(Keys.CONTROL, "a")
    smoothing.send_keys(args.smoothing, Keys.TAB)
    tag_filter = driver.find_element(By.CSS_SELECTOR, "input[placeholder*='Filter tags']")
    set_input(driver, tag_filter, args.tags)
    for close in driver.find_elements(By.CSS_SELECTOR, "button[aria-label='Close side pane']"):
        close.click()
    time.sleep(4)
    path = args.out / args.name
    driver.save_screenshot(str(path))
    print(f"wrote {path}")
    if args.images:
        set_input(driver, tag_filter, "^episode/strip$")
        time.sleep(4)
        path = args.out / args.name.replace(".png", "_images.png")
        cards = driver.find_elements(By.CSS_SELECTOR, "card-view")
        if cards:  # just the image card, at the size TensorBoard shows it
            cards[0].screenshot(str(path))
        else:
            driver.save_screenshot(str(path))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
