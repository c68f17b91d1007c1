"""`arpo eval` on untrusted input: bad task lists, task directories and `--out` are one clear
line; a bad task, its expert or its evaluator is that episode's recorded error, and the run goes
on (OSWorld's `evaluation_examples` layout is read too)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ORIGINAL_IDS, ROOT, TASKS, run_arpo

from rllib_arpo.outputs.episode_log import read_episode_log

TEST_DATA = ROOT / "test_data"
SEATGEEK, APPLE = ORIGINAL_IDS[1], ORIGINAL_IDS[3]


def _eval(tmp_path: Path, *args: object) -> tuple[int, str, str]:
    base = ["eval", "--policy", "expert", "--out", tmp_path / "out", *args]
    result = run_arpo(base if "--tasks" in args else [*base, "--tasks", TASKS])
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(exit_code: int, stderr: str) -> str:
    assert exit_code == 1, stderr
    assert "Traceback" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Error: "), stderr
    return last


def _copy_test_data(tmp_path: Path) -> Path:
    task_dir = tmp_path / "tasks_copy"
    shutil.copytree(TEST_DATA, task_dir)
    return task_dir


def _episodes(out: Path) -> dict[str, dict]:
    document = json.loads((out / "results.json").read_text())
    return {e["task_id"]: e for e in document["episodes"]}


def test_unreadable_task_lists_are_one_line(tmp_path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    (tmp_path / "folder.json").mkdir()
    for path, message in [
        (deep, "is not valid JSON: nested"),
        (loop, "cannot be read"),
        (tmp_path / "folder.json", "is not a file"),
    ]:
        line = _one_line_error(*_eval(tmp_path, "--tasks", path)[::2])
        assert f"task list {path}" in line and message in line, line


def test_out_naming_a_file_is_one_line(tmp_path) -> None:
    (tmp_path / "results").write_text("an existing file")
    for out in (tmp_path / "results", tmp_path / "results" / "below"):
        result = run_arpo(["eval", "--policy", "expert", "--tasks", TASKS, "--out", out])
        line = _one_line_error(result.exit_code, result.stderr)
        assert f"--out {out}" in line and "not a directory" in line, line


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('["not", "an", "object"]', "must be a JSON object {domain: [task ids]}, got list"),
        ("{not json", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ('{"chrome": "one-id"}', "domain 'chrome' must map to a list of task ids"),
    ],
)
def test_bad_index_files_name_the_file(tmp_path, content: str, message: str) -> None:
    task_dir = _copy_test_data(tmp_path)
    index = task_dir / "test_broken.json"
    index.write_text(content)
    line = _one_line_error(*_eval(tmp_path, "--task-dir", task_dir)[::2])
    assert str(index) in line and message in line, line


def test_task_dir_that_is_a_file_is_one_line(tmp_path) -> None:
    (tmp_path / "plain").write_text("x")
    line = _one_line_error(*_eval(tmp_path, "--task-dir", tmp_path / "plain")[::2])
    assert f"{tmp_path / 'plain'} is not a directory" in line


def test_a_bad_task_file_is_its_episodes_error_and_the_run_goes_on(tmp_path) -> None:
    task_dir = _copy_test_data(tmp_path)
    bad = task_dir / "tasks" / f"{SEATGEEK}.json"
    task = json.loads(bad.read_text())
    task["config"][0]["parameters"]["command"] = [1, 2]
    bad.write_text(json.dumps(task))
    folder = task_dir / "tasks" / f"{APPLE}.json"
    folder.unlink()
    folder.mkdir()
    loop = task_dir / "noisy_tasks" / f"{APPLE}_noise.json"
    loop.unlink()
    loop.symlink_to(loop)
    code, stdout, stderr = _eval(
        tmp_path, "--task-dir", task_dir, "--noisy", TEST_DATA / "test_10tasks_noisy.json"
    )
    assert code == 0, stderr
    assert "Traceback" not in stderr
    episodes = _episodes(tmp_path / "out")
    assert len(episodes) == 10
    assert episodes[SEATGEEK]["env_error"] and str(bad) in episodes[SEATGEEK]["error"]
    assert "config[0].parameters.command[0]" in episodes[SEATGEEK]["error"]
    assert "Is a directory" in episodes[APPLE]["error"] and str(folder) in episodes[APPLE]["error"]
    assert str(loop) in episodes[f"{APPLE}_noise"]["error"]
    broken = {SEATGEEK, APPLE, f"{APPLE}_noise"}
    for task_id, episode in episodes.items():
        assert episode["success"] == (task_id not in broken), episode
    # the problems are printed before the run, each naming its own file
    assert f"task chrome/{SEATGEEK}" in stderr and str(bad) in stderr
    with (tmp_path / "out" / "results.csv").open() as handle:
        rows = {row["task_id"]: row for row in csv.DictReader(handle)}
    assert rows[SEATGEEK]["env_errors"] == "1" and rows[SEATGEEK]["noisy_success_rate"] == "1.0"
    assert rows[APPLE]["env_errors"] == "2" and rows[APPLE]["original_success_rate"] == ""
    frame = read_episode_log(tmp_path / "out" / "episodes.parquet")
    assert set(frame["task_id"]) == set(episodes) - broken
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Is a directory" in page


def _edit_task(task_dir: Path, task_id: str, edit: Callable[[dict], None]) -> None:
    path = task_dir / "tasks" / f"{task_id}.json"
    task = json.loads(path.read_text())
    edit(task)
    path.write_text(json.dumps(task))


def _listed(task: dict) -> None:
    ev = task["evaluator"]
    task["evaluator"] = {
        "func": [ev["func"]],
        "result": [ev["result"]],
        "expected": [ev["expected"]],
    }


def test_expert_and_evaluator_failures_are_the_episodes_error(tmp_path) -> None:
    task_dir = _copy_test_data(tmp_path)
    history = ORIGINAL_IDS[0]
    # The expert has no route for a list of funcs (a clear ExpertStuck) ...
    _edit_task(task_dir, APPLE, _listed)
    # ... nor a history rule without keywords (a KeyError in the expert and the metric).
    _edit_task(task_dir, history, lambda t: t["evaluator"]["expected"]["rules"].pop("keywords"))
    # A pattern that is no str: the expert never sees it solved, the metric fails at the end.
    _edit_task(
        task_dir, SEATGEEK, lambda t: t["evaluator"]["expected"]["rules"].update(expected=[5])
    )
    code, _, stderr = _eval(tmp_path, "--task-dir", task_dir)
    assert code == 0, stderr
    episodes = _episodes(tmp_path / "out")
    for task_id, error in [
        (APPLE, "no expert for the evaluator funcs"),
        (history, "the expert cannot read this task: KeyError: 'keywords'"),
    ]:
        assert episodes[task_id]["format_error"] and episodes[task_id]["steps"] == 1
        assert "expert stuck" in episodes[task_id]["error"]
        assert error in episodes[task_id]["error"]
    seatgeek = episodes[SEATGEEK]
    assert seatgeek["terminated_by"] == "max_steps" and not seatgeek["env_error"]
    assert "evaluator func 'is_expected_url_pattern_match': TypeError" in seatgeek["error"]
    for task_id in (ORIGINAL_IDS[2], ORIGINAL_IDS[4]):
        assert episodes[task_id]["success"] and episodes[task_id]["error"] is None


def test_osworld_evaluation_examples_layout(tmp_path) -> None:
    examples = tmp_path / "evaluation_examples"
    for task_id in ORIGINAL_IDS[:3]:
        target = examples / "examples" / "chrome" / f"{task_id}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TEST_DATA / "tasks" / f"{task_id}.json", target)
    (examples / "test_all.json").write_text(json.dumps({"chrome": ORIGINAL_IDS[:3]}))
    code, stdout, stderr = _eval(
        tmp_path, "--task-dir", examples, "--tasks", examples / "test_all.json"
    )
    assert code == 0, stderr
    episodes = _episodes(tmp_path / "out")
    assert sorted(episodes) == sorted(ORIGINAL_IDS[:3])
    assert all(e["success"] for e in episodes.values())
    # an index that lists a task without a file names the index and the id
    (examples / "test_small.json").write_text(json.dumps({"chrome": ["no-such-task"]}))
    line = _one_line_error(*_eval(tmp_path, "--task-dir", examples)[::2])
    assert str(examples / "test_small.json") in line and "'no-such-task'" in line


def test_task_dir_without_task_files_says_which_layouts(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    line = _one_line_error(*_eval(tmp_path, "--task-dir", tmp_path / "empty")[::2])
    assert "tasks/<id>.json" in line and "examples/<domain>/<id>.json" in line
