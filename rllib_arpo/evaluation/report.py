"""The HTML evaluation report: the per-task table, then every trajectory as a strip of steps.

One file, no JavaScript, no network: each step is its screenshot with the action drawn on it
(``visualize.draw_step``: rings for clicks, arrows for drags and scrolls, a caption for typing and
keys) beside the model's Thought/Action text, the parsed action, a parse error if any and the
code sent to the env. Images are PNG data URIs inside the file (``images="inline"``, the default)
or PNG files in ``<report stem>_files/`` beside it (``images="files"``: for long runs, so the page
stays small enough for a browser).

``ReportWriter.add`` is called once per batch of episodes (it keeps only the HTML of each
trajectory, not the screenshots); ``ReportWriter.write`` puts the table on top and writes the file.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from rllib_arpo.core.images import encode_png
from rllib_arpo.core.trajectory import Trajectory
from rllib_arpo.evaluation.records import EpisodeResult
from rllib_arpo.evaluation.tables import TaskRow, summary
from rllib_arpo.outputs.drawing import draw_step
from rllib_arpo.rollout.tasks import base_task_id

ImageMode = Literal["inline", "files"]
IMAGE_MODES = ("inline", "files")
DEFAULT_THUMB_WIDTH = 448
"""Width in pixels of each step's picture (MiniDesk's default screen is 448 wide)."""
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.total td { font-weight: bold; }
.ok { color: #0a7d28; } .bad { color: #b3261e; }
details { margin: 0.6em 0; border: 1px solid #ddd; border-radius: 4px; padding: 0.3em 0.6em; }
summary { cursor: pointer; }
.strip { display: flex; gap: 8px; overflow-x: auto; padding: 6px 0; }
figure { margin: 0; flex: 0 0 auto; background: #fafafa; border: 1px solid #e3e3e3; }
figure img { display: block; }
figcaption { font-size: 12px; padding: 4px; }
pre { white-space: pre-wrap; word-break: break-word; margin: 2px 0; font-size: 12px; }
.meta { color: #555; font-size: 13px; }
"""


class ReportWriter:
    """Builds ``report.html`` batch by batch.

    Args:
        path: The HTML file to write.
        title: The page title.
        images: "inline" (data URIs, one self-contained file) or "files" (PNGs beside it).
        thumb_width: Width of each step's picture; screenshots are scaled down to it.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        title: str = "arpo eval",
        images: ImageMode = "inline",
        thumb_width: int = DEFAULT_THUMB_WIDTH,
    ) -> None:
        if images not in IMAGE_MODES:
            raise ValueError(f"images={images!r} is not one of {IMAGE_MODES}")
        self.path = Path(path)
        self.title = title
        self.images = images
        self.thumb_width = thumb_width
        self.image_dir = self.path.with_name(self.path.stem + "_files")
        self._sections: list[tuple[str, str, str]] = []  # (domain, task id, html)
        self.images_written = 0

    def add(self, trajectories: Sequence[Trajectory], results: Sequence[EpisodeResult]) -> None:
        """Renders each trajectory (same order as ``results``) into a strip section."""
        for trajectory, result in zip(trajectories, results):
            self._sections.append(
                (result.domain, result.task_id, self._trajectory_html(trajectory, result))
            )

    def write(self, rows: Sequence[TaskRow], settings: dict[str, Any]) -> Path:
        """Writes the page: settings, the per-task table, then the trajectories by task."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{_e(self.title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{_e(self.title)}</h1>",
            _settings_html(settings),
            _table_html(rows),
            "<h2>Trajectories</h2>",
        ]
        order = {(r.domain, r.task_id): i for i, r in enumerate(rows)}
        sections = sorted(
            enumerate(self._sections),
            key=lambda item: (
                order.get((item[1][0], base_task_id(item[1][1])), len(order)),
                item[1][1],
                item[0],
            ),
        )
        group, variant = None, None
        for _, (domain, task_id, body) in sections:
            if (domain, base_task_id(task_id)) != group:
                group = (domain, base_task_id(task_id))
                anchor = _anchor(*group)
                parts.append(f'<h3 id="{anchor}">{_e(domain)}/{_e(group[1])}</h3>')
                variant = None
            if task_id != variant:
                variant = task_id
                kind = "noisy twin" if task_id != group[1] else "original"
                parts.append(f"<h4>{kind}: {_e(task_id)}</h4>")
            parts.append(body)
        parts.append("</body></html>")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(parts) + "\n", encoding="utf-8")
        return self.path

    # ------------------------------------------------------------------------------ pieces

    def _trajectory_html(self, trajectory: Trajectory, result: EpisodeResult) -> str:
        verdict = "solved" if result.success else "failed"
        head = (
            f'<summary><span class="{"ok" if result.success else "bad"}">{verdict}</span> '
            f"trial {result.trial} &middot; {result.steps} steps &middot; "
            f"eval {result.eval_result:g} &middot; ended by {_e(result.terminated_by)}</summary>"
        )
        figures = [
            self._step_html(trajectory, index, step) for index, step in enumerate(trajectory.steps)
        ]
        instruction = f'<p class="meta">{_e(trajectory.instruction)}</p>'
        if result.error:
            instruction += f'<pre class="bad">error: {_e(result.error)}</pre>'
        strip = f'<div class="strip">{"".join(figures)}</div>' if figures else "<p>(no steps)</p>"
        return f"<details open>{head}{instruction}{strip}</details>"

    def _step_html(self, trajectory: Trajectory, index: int, step: Any) -> str:
        picture = draw_step(step, index=index)
        if picture.width > self.thumb_width:
            height = max(1, round(picture.height * self.thumb_width / picture.width))
            picture = picture.resize((self.thumb_width, height), Image.Resampling.LANCZOS)
        src = self._image_src(trajectory.episode_id, index, encode_png(picture))
        lines = [f"<pre>{_e(step.response_text)}</pre>"]
        if step.parse_error:
            lines.append(f'<pre class="bad">parse error: {_e(step.parse_error)}</pre>')
        elif step.action:
            lines.append(f'<pre class="meta">action: {_e(step.action)}</pre>')
        if step.env_action:
            lines.append(f'<pre class="meta">sent: {_e(step.env_action)}</pre>')
        if step.env_info.get("error"):
            lines.append(f'<pre class="bad">env error: {_e(str(step.env_info["error"]))}</pre>')
        alt = f"step {index}: {step.action or 'no action'}"
        return (
            f'<figure style="width:{picture.width}px">'
            f'<img src="{src}" width="{picture.width}" height="{picture.height}" alt="{_e(alt)}">'
            f"<figcaption>{''.join(lines)}</figcaption></figure>"
        )

    def _image_src(self, episode_id: str, index: int, png: bytes) -> str:
        self.images_written += 1
        if self.images == "inline":
            return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        folder = self.image_dir / _SAFE.sub("_", episode_id)
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / f"step_{index:02d}.png"
        file.write_bytes(png)
        return _e(file.relative_to(self.path.parent).as_posix())


def _settings_html(settings: dict[str, Any]) -> str:
    items = "".join(
        f"<tr><td>{_e(str(k))}</td><td>{_e(str(v))}</td></tr>" for k, v in settings.items()
    )
    return f"<table>{items}</table>" if items else ""


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _table_html(rows: Sequence[TaskRow]) -> str:
    head = (
        "<tr><th>task</th><th>original</th><th>noisy</th><th>delta</th><th>mean steps</th>"
        "<th>format errors</th><th>env errors</th></tr>"
    )
    body = []
    for row in rows:
        cells = [
            f'<a href="#{_anchor(row.domain, row.task_id)}">{_e(row.domain)}/{_e(row.task_id)}</a>',
            _variant(row.original),
            _variant(row.noisy),
            "-" if row.delta is None else f"{100 * row.delta:+.0f}%",
            "-" if row.all_steps is None else f"{row.all_steps:.1f}",
            str(row.format_errors),
            str(row.env_errors),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    total = summary(rows)
    delta = total["mean_delta"]
    body.append(
        '<tr class="total"><td>all</td>'
        f"<td>{_pct(total['success_rate_original'])}</td>"
        f"<td>{_pct(total['success_rate_noisy'])}</td>"
        f"<td>{'-' if delta is None else f'{100 * delta:+.0f}%'}</td><td></td>"
        f"<td>{total['format_errors']}</td><td>{total['env_errors']}</td></tr>"
    )
    return f"<h2>Success by task</h2><table>{head}{''.join(body)}</table>"


def _variant(stats: Any) -> str:
    if stats is None:
        return "-"
    return f"{_pct(stats.success_rate)} ({stats.successes}/{stats.valid})"


def _anchor(domain: str, task_id: str) -> str:
    return "task-" + _SAFE.sub("_", f"{domain}-{task_id}")


def _e(text: str) -> str:
    return html.escape(text or "", quote=True)
