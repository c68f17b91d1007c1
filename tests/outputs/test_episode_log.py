"""Parquet episode logs: a round trip through pandas, PNG bytes, file-path mode."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from rllib_arpo.core.trajectory import Step, Termination, Trajectory
from rllib_arpo.outputs.episode_log import EPISODE_LOG_SCHEMA, EpisodeLogWriter, read_episode_log


def _png(color: tuple[int, int, int], size: tuple[int, int] = (16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _traj(
    episode: str, n_steps: int, *, eval_result: float = 1.0, replay: bool = False
) -> Trajectory:
    steps = [
        Step(
            screenshot_png=_png((10 * i, 20, 30)),
            response_token_ids=[1, 2, 3],
            response_logprobs=[-0.5, -1.0, -1.5],
            response_text=f"Thought: step {i}\nAction: click(start_box='(1,2)')",
            action="click(start_box='(1,2)')",
            parse_error=None,
            env_action=f"pyautogui.click(x={i}, y=2)",
            env_info={"env_step_s": 0.25 + i, "note": "ok"} if i % 2 == 0 else {"gen_ms": 3},
        )
        for i in range(n_steps)
    ]
    return Trajectory(
        task_id="grid/1",
        group_id="g0",
        episode_id=episode,
        policy_version=7,
        instruction="click the red square",
        prompt_id="uitars-1.5",
        steps=steps,
        eval_result=eval_result,
        reward=eval_result,
        terminated_by=Termination.DONE,
        is_replay=replay,
    )


def test_round_trip_with_pandas(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "episodes.parquet"
    with EpisodeLogWriter(path) as log:
        assert log.write([_traj("e0", 3), _traj("e1", 2, eval_result=0.0)], iteration=0) == 5
        assert log.write([_traj("e2", 1, replay=True)], iteration=1) == 1
        assert log.write([], iteration=2) == 0

    assert pq.ParquetFile(path).num_row_groups == 2  # one per iteration that had rows
    frame = read_episode_log(path)
    assert len(frame) == 6
    assert list(frame["episode_id"]) == ["e0", "e0", "e0", "e1", "e1", "e2"]
    assert list(frame["step"]) == [0, 1, 2, 0, 1, 0]
    assert list(frame["iteration"]) == [0, 0, 0, 0, 0, 1]
    assert list(frame["reward"]) == [1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    assert list(frame["is_replay"]) == [False] * 5 + [True]
    first = frame.iloc[0]
    assert first["task_id"] == "grid/1" and first["group_id"] == "g0"
    assert first["policy_version"] == 7 and first["num_steps"] == 3
    assert first["terminated_by"] == "DONE" and first["eval_result"] == 1.0
    assert first["response_text"].startswith("Thought: step 0")
    assert first["action"] == "click(start_box='(1,2)')"
    assert frame.iloc[1]["env_action"] == "pyautogui.click(x=1, y=2)"
    assert first["num_response_tokens"] == 3
    assert first["response_logprob_mean"] == pytest.approx(-1.0)
    assert json.loads(first["env_info"]) == {"env_step_s": 0.25, "note": "ok"}
    # Timing entries of env_info become columns, NaN where a step lacks them.
    assert frame.loc[0, "timing.env_step_s"] == 0.25
    assert frame.loc[2, "timing.env_step_s"] == 2.25
    assert frame["timing.gen_ms"].isna().sum() == 4 and frame.loc[1, "timing.gen_ms"] == 3.0
    assert "timing.note" not in frame
    assert frame["screenshot_path"].isna().all()


def test_png_bytes_decode_to_the_screenshot(tmp_path: Path) -> None:
    path = tmp_path / "episodes.parquet"
    with EpisodeLogWriter(path) as log:
        log.write([_traj("e0", 3)], iteration=0)
    frame = read_episode_log(path)
    image = Image.open(io.BytesIO(frame.loc[2, "screenshot_png"]))
    assert image.size == (16, 12)
    assert image.convert("RGB").getpixel((0, 0)) == (20, 20, 30)


def test_file_path_mode_writes_pngs(tmp_path: Path) -> None:
    path = tmp_path / "run" / "episodes.parquet"
    with EpisodeLogWriter(path, screenshots="files") as log:
        log.write([_traj("ep/0", 2)], iteration=3)
    frame = read_episode_log(path)
    assert frame["screenshot_png"].isna().all()
    stored = pq.read_table(path).column("screenshot_path").to_pylist()
    assert not Path(stored[0]).is_absolute()  # portable: relative to the log's directory
    for index, shot in enumerate(frame["screenshot_path"]):
        assert Path(shot).is_absolute() and Path(shot).exists()
        assert Image.open(shot).convert("RGB").getpixel((0, 0)) == (10 * index, 20, 30)
    assert Path(frame.loc[0, "screenshot_path"]).parent.name == "ep_0"


def test_existing_file_needs_overwrite_and_empty_log_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "episodes.parquet"
    EpisodeLogWriter(path).close()
    assert pq.read_schema(path).names == EPISODE_LOG_SCHEMA.names
    assert len(read_episode_log(path)) == 0
    with pytest.raises(FileExistsError, match="overwrite=True"):
        EpisodeLogWriter(path)
    with EpisodeLogWriter(path, overwrite=True) as log:
        log.write([_traj("e0", 1)])
    assert read_episode_log(path)["iteration"].isna().all()


def test_directory_of_logs_reads_as_one_table(tmp_path: Path) -> None:
    for part in range(2):
        with EpisodeLogWriter(tmp_path / f"part-{part}.parquet") as log:
            log.write([_traj(f"e{part}", 2)], iteration=part)
    frame = read_episode_log(tmp_path)
    assert list(frame["episode_id"]) == ["e0", "e0", "e1", "e1"]
    with pytest.raises(FileNotFoundError):
        read_episode_log(tmp_path / "missing.parquet")


def test_bad_mode_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="screenshots='jpeg'"):
        EpisodeLogWriter(tmp_path / "x.parquet", screenshots="jpeg")  # type: ignore[arg-type]
