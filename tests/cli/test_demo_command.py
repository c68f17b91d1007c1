"""`arpo demo` end to end at toy size: warm start, evaluation, ARPO, summary from the run.

The recipe's pure parts are tested in tests/recipes/."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rllib_arpo.cli import arpo
from rllib_arpo.policy.paths import COMMITTED_WARMSTART


@pytest.mark.ray
def test_a_two_iteration_demo_prints_a_summary_from_its_own_numbers(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RLLIB_ARPO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    result = CliRunner().invoke(
        arpo,
        [
            "demo",
            "--out",
            str(out),
            "--warm-minutes",
            "0.05",
            "--iterations",
            "2",
            "--eval-episodes",
            "2",
            "--eval-every",
            "1",
            "--group-size",
            "2",
            "--tasks-per-iteration",
            "1",
            "--rl-families",
            "click_button",
            "--warm-families",
            "click_button",
            "--no-replay",
            "--training-seeds",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["iterations"] == 2 and summary["episodes_per_family"] == 2
    # Evaluated after iteration 1 too; iteration 2's evaluation is the "after" one.
    (during,) = summary["held_out_during"]
    assert during["iteration"] == 1 and during["trained_trajectories"] in (0, 2)
    assert list(during["rates"]) == ["click_button/grid112"]
    assert during["rates"]["click_button/grid112"] in (0.0, 0.5, 1.0)
    assert summary["use_replay"] is False and "success replay off (GRPO)" in result.output
    assert summary["training_seeds"] == 3 and "(grid112, 3 training tasks each)" in result.output
    before = summary["before"]["click_button/grid112"]
    after = summary["after"]["click_button/grid112"]
    assert f"{before * 100:6.1f}% ±" in result.output and f"{after * 100:6.1f}% ±" in result.output
    assert f"tensorboard --logdir {out / 'tensorboard'}" in result.output
    fixed = summary["fixed_click"]["click_button/grid112"]
    assert 0.0 <= fixed <= 1.0 and "fixed click" in result.output
    assert (out / "checkpoint").is_dir() and (out / "policy" / "config.json").exists()
    assert any((out / "tensorboard").iterdir())


@pytest.mark.ray
def test_default_demo_starts_from_the_committed_warm_start(tmp_path, monkeypatch) -> None:
    """README command 1 with its defaults, cut to one iteration and a few evaluation episodes."""
    monkeypatch.setenv("RLLIB_ARPO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    args = ["demo", "--out", str(out), "--iterations", "1", "--eval-episodes", "4"]
    result = CliRunner().invoke(arpo, args)
    assert result.exit_code == 0, result.output
    assert f"warm start: {COMMITTED_WARMSTART} (2291 supervised steps" in result.output
    assert not (tmp_path / "cache").exists()  # nothing was built
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["before"]) == ["drag_slider/grid112", "select_dropdown/grid112"]
    assert summary["warmstart"] == str(COMMITTED_WARMSTART)
    assert summary["use_replay"] is True and "success replay on" in result.output
    assert "sampled success while training" not in result.output  # one iteration: no trend


def test_unknown_rl_family_is_one_line_naming_the_flag(tmp_path) -> None:
    result = CliRunner().invoke(
        arpo, ["demo", "--out", str(tmp_path / "run"), "--rl-families", "nope"]
    )
    assert result.exit_code == 2, result.output
    assert (
        "Invalid value for --rl-families" in result.output
        and "unknown families ['nope']" in result.output
    )
    assert "Traceback" not in result.output and not (tmp_path / "run").exists()
