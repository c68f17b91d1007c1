"""`arpo warmstart`: demonstrations from MiniDesk's expert teach a tiny policy; the run is recorded."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rllib_arpo.cli import arpo


def test_warmstart_lowers_the_loss_and_writes_a_loadable_checkpoint(tmp_path) -> None:
    out = tmp_path / "warm"
    result = CliRunner().invoke(
        arpo,
        [
            "warmstart",
            "--out",
            str(out),
            "--size",
            "0.2m",
            "--steps",
            "25",
            "--batch-size",
            "4",
            "--lr",
            "3e-3",
            "--families",
            "click_button,tick_checkboxes",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "warmstart.json").read_text())
    assert record["steps"] == 25 and record["families"] == ["click_button", "tick_checkboxes"]
    assert record["final_loss"] < 4.0  # from ~6 (uniform over the vocabulary) at step 1

    from rllib_arpo.policy.load import load_policy

    load_policy(out)


def test_unknown_family_is_one_clear_line(tmp_path) -> None:
    result = CliRunner().invoke(arpo, ["warmstart", "--out", str(tmp_path), "--families", "nope"])
    assert result.exit_code == 2
    assert "unknown families ['nope']" in result.output and "Traceback" not in result.output
