"""`arpo eval` and `arpo select-tasks` end to end on MiniDesk and the seed's 10 test_data tasks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import NOISY, ORIGINAL_IDS, TASKS, run_arpo

from rllib_arpo.outputs.episode_log import read_episode_log


def _table(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open() as handle:
        return {row["task_id"]: row for row in csv.DictReader(handle)}


def test_expert_scores_100_percent_on_original_and_noisy(expert_eval) -> None:
    out, result = expert_eval
    table = _table(out)
    assert sorted(table) == sorted(ORIGINAL_IDS)  # noisy twins share their original's row
    for row in table.values():
        assert row["original_success_rate"] == "1.0" and row["noisy_success_rate"] == "1.0"
        assert row["delta"] == "0.0" and row["format_errors"] == "0"
    document = json.loads((out / "results.json").read_text())
    assert document["summary"]["success_rate_original"] == 1.0
    assert document["summary"]["success_rate_noisy"] == 1.0
    assert document["summary"]["pairs"] == 5
    assert len(document["episodes"]) == 10
    # the printed table: every task, both rates, the total line
    for task_id in ORIGINAL_IDS:
        assert f"chrome/{task_id}  100% (1/1)  100% (1/1)" in result.stdout
    assert "all (5 tasks, 10 episodes)" in result.stdout and "100.0%" in result.stdout


def test_parquet_holds_every_step(expert_eval) -> None:
    out, _ = expert_eval
    frame = read_episode_log(out / "episodes.parquet")
    document = json.loads((out / "results.json").read_text())
    assert len(frame) == sum(e["steps"] for e in document["episodes"])
    assert set(frame["task_id"]) == set(ORIGINAL_IDS) | {f"{i}_noise" for i in ORIGINAL_IDS}
    assert (frame["eval_result"] == 1.0).all()
    assert frame["response_text"].str.contains("Action: ").all()
    assert frame["screenshot_png"].map(lambda b: b[:4] == b"\x89PNG").all()


def test_report_lists_every_trajectory_with_step_images(expert_eval) -> None:
    out, _ = expert_eval
    page = (out / "report.html").read_text()
    document = json.loads((out / "results.json").read_text())
    steps = sum(e["steps"] for e in document["episodes"])
    assert page.count("<img ") == steps
    assert page.count("<details") == 10
    assert len(list((out / "report_files").rglob("*.png"))) == steps
    assert "Thought: " in page and "finished(" in page


def test_tiny_policy_writes_table_parquet_and_report(tiny_eval) -> None:
    out, result = tiny_eval
    table = _table(out)
    assert sorted(table) == sorted(ORIGINAL_IDS)
    for row in table.values():
        assert row["original_trials"] == "1" and row["noisy_trials"] == "1"
    frame = read_episode_log(out / "episodes.parquet")
    assert set(frame["episode_id"]).__len__() == 10
    assert frame["num_response_tokens"].gt(0).all()  # real sampled token ids are kept
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(frame)
    assert "original" in result.stdout and "format errors" in result.stdout


def test_select_tasks_with_the_expert_keeps_every_task(tmp_path) -> None:
    result = run_arpo(["select-tasks", "--policy", "expert", "--tasks", TASKS, "--trials", "2",
                       "--min-success", "1", "--log-screenshots", "files", "--out", tmp_path])  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = read_episode_log(tmp_path / "episodes.parquet")
    assert frame["screenshot_png"].isna().all()
    assert frame["screenshot_path"].map(lambda p: Path(p).read_bytes()[:4] == b"\x89PNG").all()
    assert json.loads((tmp_path / "selected_tasks.json").read_text()) == {"chrome": ORIGINAL_IDS}
    counts = json.loads((tmp_path / "task_success.json").read_text())["counts"]
    assert [c["successes"] for c in counts] == [2] * 5
    assert "selected 5 of 5 tasks" in result.stdout
    # middle difficulty: a task always solved gives a group without reward variance
    result = run_arpo(["select-tasks", "--policy", "expert", "--tasks", NOISY, "--trials", "1",
                       "--max-rate", "0.9", "--out", tmp_path / "middle"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "middle" / "selected_tasks.json").read_text()) == {}
    assert "selected 0 of 5 tasks" in result.stdout


def test_select_tasks_with_the_tiny_policy_keeps_nothing(tmp_path) -> None:
    result = run_arpo(["select-tasks", "--policy", "tiny", "--tasks", TASKS, "--trials", "2",
                       "--max-new-tokens", "16", "--device", "cpu", "--out", tmp_path])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "selected_tasks.json").read_text()) == {}
    with (tmp_path / "task_success.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["task_id"] for r in rows] == ORIGINAL_IDS
    assert all(r["trials"] == "2" and r["successes"] == "0" for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tasks", "nope.json"], "task list nope.json does not exist"),
        (["--tasks", "{bad}"], "is not valid JSON"),
        (["--env", "atari"], "unknown env 'atari'; choose one of: minidesk, osworld, miniwob"),
        (["--policy", "/no/such/ckpt"], "policy '/no/such/ckpt' is not a checkpoint directory"),
        (["--tasks", "{unknown}"], "task chrome/not-a-task: unknown task id 'not-a-task'"),
        (["--env", "osworld", "--policy", "tiny"], "--env osworld needs --server-url"),
        (["--env", "osworld", "--server-url", "http://127.0.0.1:9"], "--policy expert reads"),
        (
            "--env osworld --policy tiny --server-url http://127.0.0.1:9 --token t".split(),
            "cannot create env 'osworld': cannot use env server http://127.0.0.1:9",
        ),
        (["--trials", "0"], "--trials must be >= 1, got 0"),
    ],
)
def test_errors_are_one_clear_line(tmp_path, args: list[str], message: str) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "unknown.json").write_text(json.dumps({"chrome": ["not-a-task"]}))
    args = [str(tmp_path / "bad.json") if a == "{bad}" else a for a in args]
    args = [str(tmp_path / "unknown.json") if a == "{unknown}" else a for a in args]
    base = {"--policy": "expert", "--tasks": str(TASKS), "--out": str(tmp_path / "out")}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    result = run_arpo(["eval", *[x for pair in base.items() for x in pair]])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and message in lines[-1], result.stderr
    if "JSON" in message:
        assert "bad.json" in lines[-1]


def test_select_tasks_bad_bounds_are_one_line(tmp_path) -> None:
    result = run_arpo(["select-tasks", "--policy", "expert", "--tasks", TASKS, "--max-rate", "2",
                       "--out", tmp_path])  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: --max-rate must be within [0, 1], got 2.0"
