"""Fixtures of the MiniWoB++ tests (``tests/envs/miniwob``).

Tests marked ``browser`` need Chromium, chromedriver and the ``miniwob`` package (CI installs all
three, see docs/miniwob.md). Where one is missing they FAIL in CI (``$CI`` set) with the reason: a
CI machine without a browser must not pass silently. On a developer machine they are skipped with
that reason; ``-m "not browser"`` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from envs.miniwob import MiniWoBEnv, find_browser


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Fails the test in CI (skips it elsewhere) when the browser stack is not installed."""
    problem = None
    try:
        find_browser()
        import miniwob  # noqa: F401
        import selenium  # noqa: F401
    except (FileNotFoundError, ImportError) as exc:
        problem = str(exc)
    if problem is not None:
        if not os.environ.get("CI"):
            pytest.skip(f"browser stack not installed here: {problem}")
        pytest.fail(
            f"browser tests need Chromium, chromedriver and `miniwob` (docs/miniwob.md): "
            f'{problem}; run `pytest -m "not browser"` to leave them out',
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _require_browser(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("browser") is not None:
        request.getfixturevalue("browser_ready")


@pytest.fixture(scope="module")
def shared_env(browser_ready) -> Iterator[MiniWoBEnv]:
    """One browser for a test module (starting Chromium costs ~1 s and ~0.4 GB)."""
    env = MiniWoBEnv(max_steps=5, wait_s=0.0)
    yield env
    env.close()
