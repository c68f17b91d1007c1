"""The Tune run engine's pure parts (``rllib_arpo/launch/run.py``): progress lines, restore
paths, the end-of-run report. Real runs are tested through the CLI (tests/cli/test_rllib_cli.py).

(Named test_launch_run.py, not test_run.py: tests/evaluation/test_run.py has that basename.)
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from rllib_arpo.launch.run import (
    EXIT_TRIAL_FAILED,
    LaunchError,
    ProgressCallback,
    Restore,
    check_restore,
    summarize_results,
)


def test_progress_line_shows_iteration_success_return_and_eta() -> None:
    line = ProgressCallback(stop_iters=10).line(
        "T",
        {
            "training_iteration": 2,
            "time_total_s": 30.0,
            "rollout/success_rate": 0.25,
            "env_runners": {"episode_return_mean": 1.5},
        },
    )
    assert line == "[T] iter 2/10  success 0.250  return 1.500  time 30s  ETA 2m00s"


def test_progress_line_falls_back_to_arpos_mean_reward() -> None:
    line = ProgressCallback(stop_iters=None).line(
        "T", {"training_iteration": 1, "reward": {"mean": -0.5}}
    )
    assert line == "[T] iter 1  return -0.500"


def test_restore_path_is_an_experiment_a_checkpoint_or_an_error(tmp_path: Path) -> None:
    assert check_restore(None) is None
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "tuner.pkl").write_bytes(b"")
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "rllib_checkpoint.json").write_text("{}")
    assert check_restore(tmp_path / "exp") == Restore("experiment", tmp_path / "exp")
    assert check_restore(tmp_path / "ckpt") == Restore("checkpoint", tmp_path / "ckpt")
    with pytest.raises(LaunchError, match="neither an RLlib checkpoint") as raised:
        check_restore(tmp_path)
    assert raised.value.option == "restore"
    with pytest.raises(LaunchError, match="no such file"):
        check_restore(tmp_path / "missing")


class _Results(list):
    experiment_path = "/runs/exp"


def test_report_names_each_trial_and_fails_with_a_failed_trial() -> None:
    spec = SimpleNamespace(metric=None, mode=None)
    done = SimpleNamespace(
        metrics={"training_iteration": 3, "trial_id": "a"},
        error=None,
        checkpoint=SimpleNamespace(path="/runs/exp/a/checkpoint_000002"),
        path="/runs/exp/a",
    )
    failed = SimpleNamespace(
        metrics={"training_iteration": 1, "trial_id": "b"},
        error=RuntimeError("boom\nlast line"),
        checkpoint=None,
        path="/runs/exp/b",
    )
    pending = SimpleNamespace(metrics={}, error=None, checkpoint=None, path="/runs/exp/c")
    report = summarize_results(_Results([done, failed, pending]), spec, interrupted=True)
    assert report.lines[1] == "trial a: 3 iterations, checkpoint /runs/exp/a/checkpoint_000002"
    assert report.lines[2] == (
        "trial b: 1 iterations, FAILED: RuntimeError: last line (log: /runs/exp/b/error.txt)"
    )
    assert report.lines[3] == "trial c: not started"
    assert report.lines[4].startswith("Stopped by Ctrl-C")
    assert report.lines[-1] == "To watch: tensorboard --logdir /runs/exp"
    assert report.failure == "1 of 3 trials failed." and report.exit_code == EXIT_TRIAL_FAILED
