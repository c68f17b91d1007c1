"""`arpo action`: the debugging command for model answers."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rllib_arpo.cli import arpo


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(arpo, ["action", *args], input=stdin)
    return result.exit_code, result.output


def test_prints_parsed_action_and_code_as_json() -> None:
    code, out = run("Thought: ok\nAction: click(start_box='(966,546)')")
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert report["actions"] == [{"kind": "click", "start": [966, 546]}]
    assert report["pyautogui"] == "pyautogui.click(x=960, y=540)"
    assert report["resized"] == [1932, 1092]


def test_reads_standard_input_and_honours_sizes_and_convention() -> None:
    code, out = run(
        "-",
        "--screen",
        "800x600",
        "--coords",
        "relative1000",
        stdin="Action: click(start_box='(500,500)')",
    )
    assert code == 0
    assert json.loads(out)["pyautogui"] == "pyautogui.click(x=400, y=300)"
    code, out = run(
        "Action: click(start_box='(10,10)')", "--screen", "100x100", "--resized", "50x50"
    )
    assert json.loads(out)["pyautogui"] == "pyautogui.click(x=20, y=20)"


def test_parse_failure_is_reported_not_raised() -> None:
    code, out = run("Thought: hmm")
    assert code == 1  # reported on stdout; the status lets a script test it
    report = json.loads(out)
    assert report["ok"] is False and "Action:" in report["error"] and report["pyautogui"] is None


def test_bad_size_is_one_clear_line() -> None:
    code, out = run("Action: wait()", "--screen", "big")
    assert code == 2
    assert "expected WIDTHxHEIGHT" in out and "Traceback" not in out


def test_number_too_large_for_a_float_is_a_clear_parse_failure() -> None:
    result = CliRunner().invoke(
        arpo, ["action", "Thought: x\nAction: click(start_box='(" + "9" * 400 + ",1)')"]
    )
    assert result.exit_code == 1  # a parse failure is a report, as for any malformed answer
    report = json.loads(result.output)
    assert report["ok"] is False and report["pyautogui"] is None
    assert "99999999999999999999... (400 digits)" in report["error"]


def test_huge_screen_sizes_are_one_clear_line() -> None:
    huge = "1" + "0" * 300
    for flags in (["--screen", f"{huge}x{huge}"], ["--resized", f"{huge}x10"]):
        result = CliRunner().invoke(arpo, ["action", "Action: wait()", *flags])
        assert result.exit_code == 2, (flags, result.output, repr(result.exception))
        assert flags[0] in result.output and "(301 digits)" in result.output
        assert "Traceback" not in result.output
