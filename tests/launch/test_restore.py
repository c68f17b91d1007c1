"""Restoring runs (``rllib_arpo/launch/run.py``): which checkpoint a resumed trial continues
from, and the ``rllib`` command end to end with ARPO on MiniDesk: ``--restore <checkpoint>`` and
``--restore <experiment>`` after ``kill -9`` at points around a checkpoint."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rllib_arpo.cli.rllib import rllib
from rllib_arpo.launch.run import (
    CHECKPOINT_COMPLETE_MARKER,
    RLLIB_CHECKPOINT_MARKERS,
    checkpoint_index,
    is_complete_checkpoint,
    plan_resume,
    write_complete_marker,
)

# ------------------------------------------------------------------------------------ the rule


def fake_checkpoint(trial_dir: Path, index: int, *, iteration: int | None = None) -> Path:
    """A checkpoint folder as Tune names it, with RLlib's top-level files; complete (marked)
    when ``iteration`` is given."""
    path = trial_dir / f"checkpoint_{index:06d}"
    (path / "learner_group").mkdir(parents=True)
    for name in RLLIB_CHECKPOINT_MARKERS:
        (path / name).write_bytes(b"x")
    if iteration is not None:
        write_complete_marker(path, {"training_iteration": iteration, "time_total_s": 1.5})
    return path


def test_checkpoint_index_reads_tunes_folder_names(tmp_path: Path) -> None:
    assert checkpoint_index(tmp_path / "checkpoint_000012") == 12
    assert checkpoint_index(tmp_path / "checkpoint_tmp") is None
    assert checkpoint_index(tmp_path / "events.out") is None


def test_a_checkpoint_is_complete_with_the_marker_and_rllibs_files(tmp_path: Path) -> None:
    complete = fake_checkpoint(tmp_path, 0, iteration=1)
    assert is_complete_checkpoint(complete)
    assert not is_complete_checkpoint(fake_checkpoint(tmp_path, 1))  # no marker: cut short
    (complete / RLLIB_CHECKPOINT_MARKERS[0]).unlink()
    assert not is_complete_checkpoint(complete)  # marked, but RLlib's files are not there
    garbled = fake_checkpoint(tmp_path, 2, iteration=3)
    (garbled / CHECKPOINT_COMPLETE_MARKER).write_text("{")
    assert not is_complete_checkpoint(garbled)
    assert not is_complete_checkpoint(tmp_path / "checkpoint_000009")


def test_plan_continues_from_the_newest_complete_and_numbers_after_the_last(
    tmp_path: Path,
) -> None:
    """Tune recorded checkpoint 0; 1 and 2 were written after its last state save, 3 was cut
    short by the kill. Resume from 2 (registering 1 and 2 in order); the next folder is 4."""
    recorded = fake_checkpoint(tmp_path, 0, iteration=1)
    for index in (1, 2):
        fake_checkpoint(tmp_path, index, iteration=index + 1)
    cut_short = fake_checkpoint(tmp_path, 3)
    plan = plan_resume(tmp_path, recorded)
    registered = [(checkpoint_index(p), m["training_iteration"]) for p, m in plan.newer]
    assert registered == [(1, 2), (2, 3)]
    assert plan.newer[0][1]["time_total_s"] == 1.5
    assert plan.last_index == 3
    assert plan.incomplete == [cut_short]
    assert plan.resume_from == tmp_path / "checkpoint_000002"


def test_plan_keeps_tunes_record_when_nothing_newer_is_complete(tmp_path: Path) -> None:
    """Folders without the marker (cut short, or written before markers existed) are never
    resumed from, and never reused: numbering goes on after them."""
    recorded = fake_checkpoint(tmp_path, 0)  # Tune's record needs no marker: Tune saw it finish
    fake_checkpoint(tmp_path, 1)
    plan = plan_resume(tmp_path, recorded)
    assert plan.newer == [] and plan.resume_from == recorded
    assert plan.last_index == 1
    empty = plan_resume(tmp_path / "missing", None)
    assert (empty.newer, empty.last_index, empty.resume_from) == ([], -1, None)


# ------------------------------------------------------------------------------------ Ray

ARPO_MINIDESK = """\
algo: ARPO
env: minidesk
config:
  environment:
    env_config: {screen_size: [112, 112], max_steps: 3}
  training:
    policy_path: warmstart
    tasks: [minidesk/close_popup/grid112/0, minidesk/close_popup/grid112/1,
            minidesk/close_popup/grid112/2, minidesk/close_popup/grid112/3,
            minidesk/close_popup/grid112/4]
    task_order: random
    group_size: 2
    tasks_per_iteration: 2
    max_steps_per_episode: 3
    max_new_tokens: 48
    minibatch_unit: trajectories
    minibatch_size: 8
    drop_zero_advantage_groups: false
    replay_capacity_per_task: 64
  env_runners: {num_env_runners: 0}
  learners: {num_learners: 0}
  debugging: {seed: 0}
stop: {training_iteration: 12}
checkpoint_freq: 1
"""
"""Iterations of ~0.3 s. The committed warm start closes MiniDesk's popups every time, so each
iteration adds successes to the replay (room for all: none evicted); tasks drawn at random, so
the driver's generator moves every iteration; one AdamW step per iteration (4 trajectories, one
minibatch, no group dropped)."""
CLI = [sys.executable, "-c", "from rllib_arpo.cli.rllib import rllib; rllib()"]
PROGRESS = re.compile(r"\] iter (\d+)/")


def checkpoints(experiment: Path) -> list[Path]:
    return sorted(experiment.glob("*/checkpoint_*"), key=checkpoint_index)


def folder_digest(path: Path) -> list[tuple[str, int, str]]:
    """Every file of a folder: relative path, mtime, content hash."""
    return [
        (str(f.relative_to(path)), f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest())
        for f in sorted(path.rglob("*"))
        if f.is_file()
    ]


def snapshot(experiment: Path) -> dict[str, list[tuple[str, int, str]]]:
    return {p.name: folder_digest(p) for p in checkpoints(experiment)}


def assert_untouched(before: dict, experiment: Path) -> None:
    after = snapshot(experiment)
    for name, digest in before.items():
        assert after.get(name) == digest, f"{name} was rewritten"


def saved_state(checkpoint: Path) -> dict:
    """What an ARPO checkpoint holds that must carry over: iteration, RNG, replay (episode ids
    per task), AdamW step count."""
    algo = pickle.loads((checkpoint / "algorithm_state.pkl").read_bytes())
    learner = pickle.loads((checkpoint / "learner_group" / "learner" / "state.pkl").read_bytes())
    (optimizer,) = learner["optimizer"].values()
    steps = {float(p["step"]) for p in optimizer["state"]["state"].values()}
    driver = algo["arpo_driver"]
    replay = {
        task: {entry["trajectory"]["episode_id"] for entry in entries}
        for task, entries in driver["replay"]["tasks"].items()
    }
    return {
        "iteration": algo["training_iteration"],
        "rng": driver["rng"],
        "replay": replay,
        "adam_step": steps.pop(),
    }


def rng_continues(before: dict, after: dict, max_draws: int = 100_000) -> bool:
    """Whether ``after`` is ``before``'s PCG64 stream advanced by at most ``max_draws`` draws."""
    generator = np.random.PCG64()
    generator.state = before
    for _ in range(max_draws):
        if generator.state["state"] == after["state"]:
            return True
        generator.advance(1)
    return False


def assert_continues(source: Path, first_new: Path) -> None:
    """``first_new`` is the checkpoint of the one iteration trained after restoring ``source``
    (an iteration >= 2, so its generator is more than one iteration's draws past the seed: a
    generator not restored cannot be ahead of it)."""
    old, new = saved_state(source), saved_state(first_new)
    assert old["iteration"] >= 2
    assert new["iteration"] == old["iteration"] + 1
    assert new["adam_step"] == old["adam_step"] + 1, "AdamW state restored"
    assert old["replay"], "the warm start closes popups: the replay holds successes"
    for task, episodes in old["replay"].items():
        assert episodes <= new["replay"].get(task, set()), f"replay of {task} restored"
    assert rng_continues(old["rng"], new["rng"]), "the driver's generator was restored"


def wait_for(condition, process: subprocess.Popen, what: str, timeout_s: float = 240) -> None:
    deadline = time.time() + timeout_s
    while not condition():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.time() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(0.02)


def kill_9(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, RAY_AUTH_MODE="disabled", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,  # the run and its Ray processes: one group to kill -9
    )


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """`rllib train` with a checkpoint per iteration, killed -9 the moment the fourth checkpoint
    folder appears (Tune is copying it: the kill lands during or just after it). Tune saves its
    experiment state at most every 10 s, so its record lags the folders on disk."""
    root = tmp_path_factory.mktemp("restore")
    config = root / "arpo.yaml"
    config.write_text(ARPO_MINIDESK)
    experiment = root / "runs" / "killed"
    process = start(
        [
            "train",
            "--config",
            str(config),
            "--storage-path",
            str(root / "runs"),
            "--name",
            "killed",
        ],
        root,
    )
    try:
        wait_for(
            lambda: list(experiment.glob("*/checkpoint_000003")), process, "a fourth checkpoint"
        )
    finally:
        kill_9(process)
    yield config, experiment


@pytest.mark.ray
@pytest.mark.slow
def test_rllib_train_restore_continues_an_arpo_checkpoint(killed_run, tmp_path: Path) -> None:
    """`rllib train --restore <checkpoint>` with ARPO: weights, AdamW, replay, RNG and task
    cursor come from the checkpoint, and the iterations go on from its number."""
    config, experiment = killed_run
    source = next(p for p in checkpoints(experiment) if checkpoint_index(p) == 1)  # iteration 2
    result = CliRunner().invoke(
        rllib,
        [
            "train",
            "--config",
            str(config),
            "--restore",
            str(source),
            "--stop-iters",
            "3",
            "--storage-path",
            str(tmp_path),
            "--name",
            "restored",
        ],  # fmt: skip
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert f"Starting from the RLlib checkpoint {source}" in result.output
    assert [int(i) for i in PROGRESS.findall(result.output)] == [3]
    (first_new,) = checkpoints(tmp_path / "restored")
    assert_continues(source, first_new)


@pytest.mark.ray
@pytest.mark.slow
def test_kill_9_then_resume_continues_from_the_newest_complete_checkpoint(killed_run) -> None:
    """Kill -9 during/just after a checkpoint (the fixture), then while the resumed run is
    training (before its next checkpoint), then resume to the end: each resume starts at the
    newest complete checkpoint's iteration + 1, restores its replay and RNG, and writes new
    folders after the highest existing one, never into one."""
    config, experiment = killed_run
    resume = ["train", "--config", str(config), "--restore", str(experiment)]

    # 1. After the first kill: checkpoints 0-2 were finished before folder 3 appeared.
    before = snapshot(experiment)
    complete = [p for p in checkpoints(experiment) if is_complete_checkpoint(p)]
    assert [checkpoint_index(p) for p in complete][:3] == [0, 1, 2]
    newest = complete[-1]

    # 2. Resume; kill -9 as soon as it reports its first iteration (before that checkpoint).
    process = start(resume, experiment.parent)
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if PROGRESS.search(line):
                break
    finally:
        kill_9(process)
    output = "".join(lines)
    iterations = [int(i) for i in PROGRESS.findall(output)]
    assert iterations == [saved_state(newest)["iteration"] + 1], output
    assert f"resuming from {newest}" in output, output
    assert_untouched(before, experiment)

    # 3. A folder cut short by a kill mid-copy (RLlib's top files there, the learner's not):
    #    never resumed from, never written into.
    newest = [p for p in checkpoints(experiment) if is_complete_checkpoint(p)][-1]
    last = checkpoints(experiment)[-1]
    cut_short = last.with_name(f"checkpoint_{checkpoint_index(last) + 1:06d}")
    shutil.copytree(newest, cut_short, ignore=shutil.ignore_patterns("learner_group"))
    (cut_short / CHECKPOINT_COMPLETE_MARKER).unlink()
    before = snapshot(experiment)

    # 4. Resume to the end.
    result = CliRunner().invoke(rllib, resume, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    iterations = [int(i) for i in PROGRESS.findall(result.output)]
    start_iteration = saved_state(newest)["iteration"] + 1
    assert iterations == list(range(start_iteration, 13)), result.output  # nothing twice
    assert re.search(r"^trial \S+: 12 iterations", result.output, re.MULTILINE), result.output
    assert_untouched(before, experiment)
    new = [p for p in checkpoints(experiment) if p.name not in before]
    assert min(checkpoint_index(p) for p in new) == checkpoint_index(cut_short) + 1
    assert all(is_complete_checkpoint(p) for p in new)
    assert_continues(newest, new[0])
    assert (
        json.loads((new[-1] / CHECKPOINT_COMPLETE_MARKER).read_text())["training_iteration"] == 12
    )


# ------------------------------------------------------------------------------------ async

ARPO_MINIDESK_ASYNC = (
    ARPO_MINIDESK.replace("num_env_runners: 0", "num_env_runners: 1")
    .replace(
        "    replay_capacity_per_task: 64\n",
        "    replay_capacity_per_task: 64\n    max_policy_lag: 1\n",
    )
    .replace("training_iteration: 12", "training_iteration: 8")
)
"""The same run with asynchronous rollouts: one env runner samples while the learner updates."""


def async_state(checkpoint: Path) -> dict:
    """The saved pipeline: ledger counts, waiting group ids, groups sampling at the save."""
    algo = pickle.loads((checkpoint / "algorithm_state.pkl").read_bytes())
    saved = algo["arpo_driver"]["async"]
    return {
        **saved["ledger"],
        "waiting": {g["trajectories"][0]["group_id"] for g in saved["waiting"]},
        "in_flight": saved["in_flight_groups"],
    }


def assert_balanced(checkpoint: Path) -> None:
    state = async_state(checkpoint)
    accounted = (
        state["trained"]
        + state["dropped"]
        + state["discarded"]
        + len(state["waiting"])
        + state["in_flight"]
    )
    assert state["launched"] == accounted, (checkpoint.name, state)


@pytest.mark.ray
@pytest.mark.slow
def test_kill_9_during_async_training_then_resume_loses_and_repeats_no_group(
    tmp_path: Path,
) -> None:
    """Asynchronous rollouts, kill -9 the moment the fourth checkpoint folder appears, resume to
    the end. Every checkpoint accounts for every group launched (trained, dropped, discarded,
    waiting or sampling); the resumed run trains the groups that waited at its checkpoint, counts
    those that were sampling as discarded, keeps the replay, and never trains an iteration twice."""
    config = tmp_path / "arpo-async.yaml"
    config.write_text(ARPO_MINIDESK_ASYNC)
    experiment = tmp_path / "runs" / "killed-async"
    args = ["--config", str(config), "--storage-path", str(tmp_path / "runs")]
    process = start(["train", *args, "--name", "killed-async"], tmp_path)
    try:
        wait_for(
            lambda: list(experiment.glob("*/checkpoint_000003")), process, "a fourth checkpoint"
        )
    finally:
        kill_9(process)
    complete = [p for p in checkpoints(experiment) if is_complete_checkpoint(p)]
    assert len(complete) >= 3
    for checkpoint in complete:
        assert_balanced(checkpoint)
    newest = complete[-1]
    before = async_state(newest)
    assert before["launched"] > before["trained"], "runners were sampling ahead of the learner"
    on_disk = {p.name for p in checkpoints(experiment)}

    result = CliRunner().invoke(
        rllib, ["train", "--config", str(config), "--restore", str(experiment)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    iterations = [int(i) for i in PROGRESS.findall(result.output)]
    assert iterations == list(range(saved_state(newest)["iteration"] + 1, 9)), result.output
    new = [p for p in checkpoints(experiment) if p.name not in on_disk]
    assert new and all(is_complete_checkpoint(p) for p in new)
    assert_continues(newest, new[0])  # iteration, AdamW, replay, task generator
    for checkpoint in new:
        assert_balanced(checkpoint)
    after = async_state(new[0])
    # The groups sampling at the checkpoint died with the process: discarded and counted once.
    assert after["discarded"] == before["discarded"] + before["in_flight"]
    assert after["dropped"] == before["dropped"] == 0
    # The groups waiting at the checkpoint were the resumed update's (the oldest), trained once.
    assert after["trained"] == before["trained"] + 2  # one update: 2 groups
    assert not before["waiting"] & after["waiting"]
    assert after["launched"] > before["launched"]  # new groups, under new ids
