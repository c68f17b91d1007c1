"""``TaskSet``: each task file is read and checked when it is used (a bad one blames itself and
blocks no other), index files are checked when the set is made, and OSWorld's own
``evaluation_examples`` layout is read beside the test_data one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from minidesk_helpers import FIXED_NOW

from envs.minidesk import MiniDeskEnv, TaskError, TaskSet
from envs.minidesk.tasks import default_test_data

TEST_DATA = default_test_data()
IDS = json.loads((TEST_DATA / "test_10tasks.json").read_text())["chrome"]
SEATGEEK = "f3b19d1e-2d48-44e9-b4e1-defcae1a0197"


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    """A copy of test_data to break."""
    return Path(shutil.copytree(TEST_DATA, tmp_path / "test_data"))


def test_a_bad_task_file_blocks_no_other_task_and_names_itself(task_dir: Path) -> None:
    bad = task_dir / "tasks" / f"{IDS[0]}.json"
    bad.write_text(json.dumps({"id": IDS[0], "instruction": "x", "config": 3, "evaluator": {}}))
    tasks = TaskSet(task_dir)
    assert len(tasks) == 10 and IDS[0] in tasks
    assert tasks[SEATGEEK]["id"] == SEATGEEK
    with pytest.raises(TaskError) as error:
        tasks[IDS[0]]
    assert str(bad) in str(error.value) and "'config'" in str(error.value)
    env = MiniDeskEnv(task_dir=task_dir, now=FIXED_NOW)
    _, info = env.reset(options={"task": SEATGEEK})
    assert info["task_id"] == SEATGEEK
    with pytest.raises(TaskError, match=str(bad)):
        env.reset(options={"task": IDS[0]})


def _replace(path: Path, by: str) -> Path:
    """The file at ``path`` replaced by a folder or by a symlink to itself (a loop)."""
    path.unlink()
    if by == "folder":
        path.mkdir()
    else:
        path.symlink_to(path)
    return path


def test_unreadable_task_files_are_task_errors_naming_them(task_dir: Path) -> None:
    folder = _replace(task_dir / "tasks" / f"{IDS[0]}.json", "folder")
    loop = _replace(task_dir / "tasks" / f"{IDS[1]}.json", "loop")
    deep = task_dir / "tasks" / f"{IDS[2]}.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    tasks = TaskSet(task_dir)
    for path, problem in [
        (folder, "Is a directory"),
        (loop, "symbolic links"),
        (deep, "nested too deeply"),
    ]:
        with pytest.raises(TaskError) as error:
            tasks[path.stem]
        assert str(path) in str(error.value) and problem in str(error.value)
    assert tasks[IDS[3]]["id"] == IDS[3]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('["a", "b"]', "must be a JSON object {domain: [task ids]}, got list"),
        ("{not json", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON: nested too deeply"),
        ('{"chrome": [1]}', "domain 'chrome' must map to a list of task ids"),
        ('{"chrome": ["missing"]}', "lists 'missing', which has no task file"),
    ],
)
def test_bad_index_files_are_task_errors_naming_them(
    task_dir: Path, content: str, problem: str
) -> None:
    index = task_dir / "test_broken.json"
    index.write_text(content)
    with pytest.raises(TaskError) as error:
        TaskSet(task_dir)
    assert str(index) in str(error.value) and problem in str(error.value)


def test_an_index_that_is_a_directory_names_it(task_dir: Path) -> None:
    (task_dir / "test_folder.json").mkdir()
    with pytest.raises(TaskError, match=r"test_folder.json: cannot read"):
        TaskSet(task_dir)


def _osworld_layout(root: Path, domains: dict[str, list[str]]) -> Path:
    for domain, ids in domains.items():
        for task_id in ids:
            target = root / "examples" / domain / f"{task_id}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(TEST_DATA / "tasks" / f"{task_id}.json", target)
    (root / "test_all.json").write_text(json.dumps(domains))
    return root


def test_osworld_evaluation_examples_layout(tmp_path: Path) -> None:
    root = _osworld_layout(tmp_path / "evaluation_examples", {"chrome": IDS[:2], "web": IDS[2:3]})
    tasks = TaskSet(root)
    assert tasks.layout == "osworld"
    assert sorted(tasks.keys()) == sorted(IDS[:3])
    assert tasks.index["test_all"] == IDS[:3]
    assert tasks[IDS[2]]["id"] == IDS[2]
    env = MiniDeskEnv(task_dir=root, now=FIXED_NOW)
    _, info = env.reset(options={"task": IDS[1]})
    assert info["task_id"] == IDS[1]
    assert TaskSet(TEST_DATA).layout == "test_data"


def test_an_id_in_two_domains_names_both_files(tmp_path: Path) -> None:
    root = _osworld_layout(tmp_path / "ee", {"chrome": IDS[:1]})
    twin = root / "examples" / "other" / f"{IDS[0]}.json"
    twin.parent.mkdir()
    shutil.copy(root / "examples" / "chrome" / f"{IDS[0]}.json", twin)
    tasks = TaskSet(root)
    with pytest.raises(TaskError) as error:
        tasks[IDS[0]]
    assert "chrome" in str(error.value) and str(twin) in str(error.value)
