"""Shared parts of the evaluation tests: episode records, and ``arpo eval`` runs (each runs once
per session)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rllib_arpo.cli.arpo import arpo
from rllib_arpo.evaluation.records import EpisodeResult

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "test_data" / "test_10tasks.json"
NOISY = ROOT / "test_data" / "test_10tasks_noisy.json"
ORIGINAL_IDS = json.loads(TASKS.read_text())["chrome"]


def run_arpo(args: Sequence[str]) -> Result:
    """``arpo ARGS`` in-process; stdout and stderr apart."""
    return CliRunner().invoke(arpo, [str(a) for a in args], catch_exceptions=False)


def eval_args(policy: str, out: Path, *extra: str) -> list[str]:
    return ["eval", "--policy", policy, "--tasks", TASKS, "--noisy", NOISY, "--trials", "1",
            "--out", out, *extra]  # fmt: skip


@pytest.fixture(scope="session")
def expert_eval(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The scripted expert over the 10 test_data tasks, report images as files."""
    out = tmp_path_factory.mktemp("expert_eval")
    result = run_arpo(eval_args("expert", out, "--report-images", "files"))
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture(scope="session")
def tiny_eval(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """A warm-started tiny policy (``arpo warmstart``, a few seconds of demonstrations), 1 trial
    over the 10 test_data tasks, report images inline."""
    warm = tmp_path_factory.mktemp("warm")
    warmed = run_arpo(["warmstart", "--out", warm, "--size", "0.2m", "--steps", "30",
                       "--batch-size", "4", "--lr", "3e-3"])  # fmt: skip
    assert warmed.exit_code == 0, warmed.output
    out = tmp_path_factory.mktemp("tiny_eval")
    result = run_arpo(eval_args(str(warm), out, "--max-new-tokens", "24", "--device", "cpu"))
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture
def make_episode() -> Callable[..., EpisodeResult]:
    """``make_episode(task_id, trial, success, steps=3, ended="DONE")``: a chrome episode's record;
    ``ended`` "parse_error" or "env_error" marks a format or env error."""

    def make(task_id: str, trial: int, success: bool, steps: int = 3, ended: str = "DONE"):
        return EpisodeResult(
            "chrome", task_id, trial, f"e{task_id}{trial}", float(success), success, steps,
            ended, ended == "parse_error", ended == "env_error",
        )  # fmt: skip

    return make
