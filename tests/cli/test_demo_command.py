"""`arpo demo` end to end at toy size: warm start, evaluation, ARPO, summary from the run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rllib_arpo.cli import arpo
from rllib_arpo.demo import FamilyScore, change_verdict, summary_table


def test_verdict_says_when_a_change_is_within_noise() -> None:
    before, small, large = (
        FamilyScore("f", 24, 100),
        FamilyScore("f", 30, 100),
        FamilyScore("f", 60, 100),
    )
    assert change_verdict(before, small).endswith("within noise")
    assert change_verdict(before, large).endswith("better")
    assert change_verdict(large, before).endswith("worse")
    table = summary_table({"f": before}, {"f": large})
    assert (
        "24.0% ±  4.3" in table
        and "60.0% ±  4.9" in table
        and table.splitlines()[-1].startswith("all")
    )


@pytest.mark.ray
def test_one_iteration_demo_prints_a_summary_from_its_own_numbers(tmp_path, monkeypatch) -> None:
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
            "1",
            "--eval-episodes",
            "2",
            "--group-size",
            "2",
            "--tasks-per-iteration",
            "1",
            "--rl-families",
            "click_button",
            "--warm-families",
            "click_button",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["iterations"] == 1 and summary["episodes_per_family"] == 2
    before = summary["before"]["click_button/grid112"]
    after = summary["after"]["click_button/grid112"]
    assert f"{before * 100:6.1f}% ±" in result.output and f"{after * 100:6.1f}% ±" in result.output
    assert f"tensorboard --logdir {out / 'tensorboard'}" in result.output
    assert (out / "checkpoint").is_dir() and (out / "policy" / "config.json").exists()
    assert any((out / "tensorboard").iterdir())
