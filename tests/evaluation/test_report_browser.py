"""The HTML report in real headless Chromium: it renders, every image decodes, no console errors.

Needs Debian's ``chromium``: CI installs it and fails this test without it; a developer machine
without Chromium skips it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="needs chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(autouse=True)
def _chromium_present() -> None:
    if CHROMIUM is None:
        pytest.fail("CI must install Debian's chromium (see .ci/run); none found on PATH")


# Appended to a copy of the report: after the load event, count the <img>s the browser decoded
# and write the count into the DOM, which --dump-dom prints.
CHECK_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  var marker = document.createElement("p");
  marker.id = "image-check";
  marker.textContent = "decoded=" + decoded.length + ";total=" + images.length +
    ";tables=" + document.querySelectorAll("table").length;
  document.body.appendChild(marker);
});
</script>"""


def _render(report: Path, profile: Path) -> tuple[str, str]:
    """(DOM after load, console lines) of ``report`` opened by headless Chromium."""
    page = report.with_name("browser_check.html")  # beside the report: relative images resolve
    page.write_text(report.read_text().replace("</body>", CHECK_SCRIPT + "</body>"))
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


@pytest.mark.parametrize("run", ["expert_eval", "tiny_eval"])
def test_report_renders_with_every_image_decoded(run: str, request, tmp_path) -> None:
    out, _ = request.getfixturevalue(run)
    dom, console = _render(out / "report.html", tmp_path / "profile")
    found = re.search(r"decoded=(\d+);total=(\d+);tables=(\d+)", dom)
    assert found, "the page did not finish loading"
    decoded, total, tables = map(int, found.groups())
    assert total > 0 and decoded == total, f"{total - decoded} of {total} images did not load"
    assert total == (out / "report.html").read_text().count("<img ")
    assert tables >= 2  # settings and the per-task table
    assert console == [], console
    assert "Success by task" in dom and "Trajectories" in dom
