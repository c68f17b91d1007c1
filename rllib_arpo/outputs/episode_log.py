"""Parquet episode logs: one row per step of every trajectory, readable with pandas.

``EpisodeLogWriter(path)`` appends one row group per ``write`` call (one per training iteration);
``read_episode_log(path)`` returns a ``pandas.DataFrame``. The file is complete when the writer is
closed (Parquet writes its footer last): use the writer as a context manager, and give a resumed run
a new file; ``read_episode_log`` also reads a directory of such files as one table.

Columns (``EPISODE_LOG_SCHEMA``), one row per ``Step``:

- who: ``iteration``, ``task_id``, ``group_id``, ``episode_id``, ``policy_version``, ``is_replay``,
  ``instruction``, ``prompt_id``;
- the step: ``step`` (0-based), ``num_steps``, ``response_text`` (the model's Thought/Action text),
  ``action`` (the parsed action, None when parsing failed), ``parse_error``, ``env_action`` (the
  pyautogui code sent), ``num_response_tokens``, ``response_logprob_mean`` (the sampler's);
- the episode's outcome, repeated on each of its rows: ``reward``, ``eval_result``,
  ``format_reward``, ``terminated_by``;
- ``env_info`` as a JSON string; ``read_episode_log`` also spreads its timing entries (numeric keys
  ending in ``_s`` or ``_ms``) into ``timing.<key>`` columns;
- the screenshot seen before the step: ``screenshot_png`` (PNG bytes, the default) or
  ``screenshot_path`` (a PNG file written under ``image_dir``; the path is stored relative to the
  log's directory and made absolute by ``read_episode_log``). The other column is null.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import pyarrow as pa
import pyarrow.parquet as pq

from rllib_arpo.core.trajectory import Trajectory

if TYPE_CHECKING:
    import pandas as pd

ScreenshotMode = Literal["bytes", "files"]
SCREENSHOT_MODES = ("bytes", "files")
TIMING_COLUMN_PREFIX = "timing."
_TIMING_KEY = re.compile(r".*_(s|ms)$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

EPISODE_LOG_SCHEMA = pa.schema(
    [
        pa.field("iteration", pa.int64()),
        pa.field("task_id", pa.string()),
        pa.field("group_id", pa.string()),
        pa.field("episode_id", pa.string()),
        pa.field("policy_version", pa.int64()),
        pa.field("is_replay", pa.bool_()),
        pa.field("instruction", pa.string()),
        pa.field("prompt_id", pa.string()),
        pa.field("step", pa.int32()),
        pa.field("num_steps", pa.int32()),
        pa.field("response_text", pa.string()),
        pa.field("action", pa.string()),
        pa.field("parse_error", pa.string()),
        pa.field("env_action", pa.string()),
        pa.field("num_response_tokens", pa.int32()),
        pa.field("response_logprob_mean", pa.float64()),
        pa.field("reward", pa.float64()),
        pa.field("eval_result", pa.float64()),
        pa.field("format_reward", pa.float64()),
        pa.field("terminated_by", pa.string()),
        pa.field("env_info", pa.string()),
        pa.field("screenshot_png", pa.binary()),
        pa.field("screenshot_path", pa.string()),
    ],
    metadata={"rllib_arpo.episode_log.version": "1"},
)
"""The one schema every row group of an episode log has."""


class EpisodeLogWriter:
    """Appends trajectories to a Parquet file, one row group per ``write`` call.

    Example:
        >>> with EpisodeLogWriter("run/episodes.parquet") as log:  # doctest: +SKIP
        ...     log.write(trajectories, iteration=0)
        >>> read_episode_log("run/episodes.parquet")  # doctest: +SKIP

    Args:
        path: The ``.parquet`` file to write; its directory is created.
        screenshots: "bytes" stores PNG bytes in the table; "files" writes each screenshot to
            ``image_dir`` and stores its path (a smaller table, and images any viewer opens).
        image_dir: Where "files" mode writes PNGs; default ``<path without .parquet>_images/``.
        overwrite: Replace an existing file; otherwise an existing ``path`` is an error (Parquet
            files cannot be appended to once closed).
        compression: Parquet codec ("zstd", "snappy", "gzip", "none").
    """

    def __init__(
        self,
        path: str | Path,
        *,
        screenshots: ScreenshotMode = "bytes",
        image_dir: str | Path | None = None,
        overwrite: bool = False,
        compression: str = "zstd",
    ) -> None:
        if screenshots not in SCREENSHOT_MODES:
            raise ValueError(f"screenshots={screenshots!r} is not one of {SCREENSHOT_MODES}")
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(
                f"episode log {self.path} exists; pass overwrite=True or choose a new file"
            )
        self.screenshots = screenshots
        self.image_dir = Path(image_dir) if image_dir is not None else None
        if screenshots == "files" and self.image_dir is None:
            self.image_dir = self.path.with_name(self.path.stem + "_images")
        self.compression = compression
        self.rows_written = 0
        self.row_groups_written = 0
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    def write(self, trajectories: Iterable[Trajectory], iteration: int | None = None) -> int:
        """Appends one row group with every step of ``trajectories``.

        Args:
            trajectories: The iteration's trajectories (episodes without steps add no rows).
            iteration: The training iteration, stored in the ``iteration`` column.

        Returns:
            The number of rows written (0 writes nothing).
        """
        if self._closed:
            raise ValueError(f"episode log {self.path} is closed")
        rows = [row for t in trajectories for row in self._rows(t, iteration)]
        if not rows:
            return 0
        table = pa.Table.from_pylist(rows, schema=EPISODE_LOG_SCHEMA)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(
                self.path, EPISODE_LOG_SCHEMA, compression=self.compression
            )
        self._writer.write_table(table, row_group_size=max(1, len(rows)))
        self.rows_written += len(rows)
        self.row_groups_written += 1
        return len(rows)

    def close(self) -> None:
        """Finishes the file (writes the footer). A log that got no rows is an empty table."""
        if self._closed:
            return
        self._closed = True
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(EPISODE_LOG_SCHEMA.empty_table(), self.path)
        else:
            self._writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _rows(self, traj: Trajectory, iteration: int | None) -> list[dict[str, Any]]:
        rows = []
        for index, step in enumerate(traj.steps):
            png: bytes | None = bytes(step.screenshot_png)
            shot_path: str | None = None
            if self.screenshots == "files":
                shot_path = self._save_png(traj, index, png)
                png = None
            logprobs = step.response_logprobs
            rows.append(
                {
                    "iteration": iteration,
                    "task_id": traj.task_id,
                    "group_id": traj.group_id,
                    "episode_id": traj.episode_id,
                    "policy_version": int(traj.policy_version),
                    "is_replay": bool(traj.is_replay),
                    "instruction": traj.instruction,
                    "prompt_id": traj.prompt_id,
                    "step": index,
                    "num_steps": traj.num_steps,
                    "response_text": step.response_text,
                    "action": step.action,
                    "parse_error": step.parse_error,
                    "env_action": step.env_action,
                    "num_response_tokens": len(step.response_token_ids),
                    "response_logprob_mean": (
                        math.fsum(logprobs) / len(logprobs) if logprobs else None
                    ),
                    "reward": float(traj.reward),
                    "eval_result": float(traj.eval_result),
                    "format_reward": float(traj.format_reward),
                    "terminated_by": traj.terminated_by.value,
                    "env_info": json.dumps(step.env_info, default=str, sort_keys=True),
                    "screenshot_png": png,
                    "screenshot_path": shot_path,
                }
            )
        return rows

    def _save_png(self, traj: Trajectory, index: int, png: bytes) -> str:
        assert self.image_dir is not None
        folder = self.image_dir / _SAFE_NAME.sub("_", traj.episode_id)
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / f"step_{index:03d}.png"
        file.write_bytes(png)
        try:
            return str(file.resolve().relative_to(self.path.parent.resolve()))
        except ValueError:
            return str(file.resolve())


def read_episode_log(
    path: str | Path, *, expand_timing: bool = True, resolve_paths: bool = True
) -> pd.DataFrame:
    """Reads an episode log (a file, or a directory of ``*.parquet`` logs) into a DataFrame.

    Args:
        path: A file written by ``EpisodeLogWriter`` or a directory holding such files.
        expand_timing: Add a ``timing.<key>`` float column per numeric ``env_info`` key ending
            in ``_s`` or ``_ms`` (NaN where a step lacks it).
        resolve_paths: Make ``screenshot_path`` absolute (it is stored relative to the log).

    Returns:
        One row per step, columns as in ``EPISODE_LOG_SCHEMA`` (plus timing columns).
    """
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"no *.parquet episode logs in {path}")
    elif path.exists():
        files = [path]
    else:
        raise FileNotFoundError(f"episode log {path} does not exist")
    frames = []
    for file in files:
        frame = pq.read_table(file).to_pandas()
        if resolve_paths and "screenshot_path" in frame:
            base = file.parent.resolve()
            frame["screenshot_path"] = frame["screenshot_path"].map(
                lambda p, base=base: str(base / p) if isinstance(p, str) else None
            )
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if expand_timing and len(frame):
        infos = frame["env_info"].map(lambda s: json.loads(s) if isinstance(s, str) and s else {})
        keys = sorted(
            {
                k
                for info in infos
                for k, v in info.items()
                if _TIMING_KEY.match(k) and isinstance(v, (int, float)) and not isinstance(v, bool)
            }
        )
        for key in keys:
            frame[TIMING_COLUMN_PREFIX + key] = infos.map(
                lambda info, key=key: float(info[key]) if key in info else float("nan")
            )
    return frame
