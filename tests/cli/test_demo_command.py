"""`arpo demo` end to end at toy size: warm start, evaluation, ARPO, summary from the run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rllib_arpo.cli import arpo
from rllib_arpo.policy.paths import (
    COMMITTED_WARMSTART,
    COMMITTED_WARMSTART_FAMILIES,
    COMMITTED_WARMSTART_LEVEL,
    committed_warmstart,
    warmstart_record,
)
from rllib_arpo.recipes.demo import (
    FamilyScore,
    best_fixed_click,
    change_verdict,
    grid_cell_centres,
    sampled_success_trend,
    summary_table,
)


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
    with_reference = summary_table({"f": before}, {"f": large}, {"f": FamilyScore("f", 37, 100)})
    assert "fixed click" in with_reference.splitlines()[0]
    assert "37.0%" in with_reference.splitlines()[1]


def test_grid_cell_centres_cover_the_token_grid() -> None:
    centres = grid_cell_centres((112, 112))
    assert len(centres) == 16 and centres[0] == (14, 14) and centres[-1] == (98, 98)
    assert len(grid_cell_centres((224, 224))) == 64


def test_best_fixed_click_matches_clicking_each_point_by_hand() -> None:
    """The screen-blind reference equals stepping MiniDesk with each click, then DONE."""
    from envs.minidesk.env import MiniDeskEnv
    from rllib_arpo.core.coords import CoordinateSpace

    def env_factory() -> MiniDeskEnv:
        return MiniDeskEnv(screen_size=(112, 112), max_steps=4)

    tasks = [f"minidesk/select_dropdown/grid112/{seed}" for seed in range(12)]
    points = [(56, 42), (56, 70), (56, 98), (14, 14)]
    env = env_factory()
    by_hand = {}
    for x, y in points:
        wins = 0
        for task in tasks:
            env.reset(options={"task": task})
            env.step(f"pyautogui.click(x={x}, y={y})")
            wins += env.step("DONE")[1] > 0.5
        by_hand[(x, y)] = wins
    assert len(set(by_hand.values())) > 1  # the points differ, so "best" means something
    scores = best_fixed_click(
        env_factory,
        tasks,
        points,
        lambda w, h: CoordinateSpace(w, h, 2 * w, 2 * h),  # model frame twice the screen
        max_steps=4,
    )
    assert list(scores) == ["select_dropdown/grid112"]
    assert scores["select_dropdown/grid112"].successes == max(by_hand.values())
    assert scores["select_dropdown/grid112"].episodes == len(tasks)


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
            "--no-replay",
            "--training-seeds",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["iterations"] == 1 and summary["episodes_per_family"] == 2
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


def test_sampled_success_trend_compares_first_and_last_tenth() -> None:
    history = (
        [{"success_rate": 0.2}] * 10 + [{"success_rate": 0.5}] * 80 + [{"success_rate": 0.9}] * 10
    )
    assert sampled_success_trend(history) == pytest.approx((0.2, 0.9, 10))
    assert sampled_success_trend([{"success_rate": 0.3}]) is None
    short = [{"success_rate": 0.0}, {"success_rate": float("nan")}, {"success_rate": 1.0}]
    assert sampled_success_trend(short) == (0.0, 1.0, 1)


def test_the_committed_warm_start_loads_and_records_how_it_was_made() -> None:
    from rllib_arpo.policy.load import load_policy

    path = committed_warmstart(COMMITTED_WARMSTART_FAMILIES, COMMITTED_WARMSTART_LEVEL, seed=0)
    assert path == COMMITTED_WARMSTART
    record = warmstart_record(path)
    assert record["command"].startswith("arpo warmstart ") and record["steps"] == 2291
    assert record["duration_s"] > 60 and not record["interrupted"]
    assert sum(f.stat().st_size for f in path.iterdir()) < 8 * 2**20
    policy = load_policy(path)
    assert sum(p.numel() for p in policy.model.parameters()) < 2_000_000
    # Other families, levels or seeds are not what it was trained on: the demo builds those.
    assert committed_warmstart(["click_button"], COMMITTED_WARMSTART_LEVEL, seed=0) is None
    assert committed_warmstart(COMMITTED_WARMSTART_FAMILIES, "grid224", seed=0) is None
    assert committed_warmstart(COMMITTED_WARMSTART_FAMILIES, COMMITTED_WARMSTART_LEVEL, 1) is None


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


def test_ctrl_c_during_training_keeps_the_algorithm_for_the_checkpoint(tmp_path) -> None:
    """Ctrl-C stops training, not the demo: the algorithm comes back to be saved and evaluated."""
    from rllib_arpo.recipes.demo import train_arpo

    class InterruptedAlgo:
        calls = 0

        def train(self) -> dict:
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt
            return {"rollout/success_rate": 0.25 * self.calls, "reward/mean": 0.0}

    class Config:
        def training(self, **settings):
            self.settings = settings
            return self

        def build_algo(self) -> InterruptedAlgo:
            return InterruptedAlgo()

    config = Config()
    algo, done, _, interrupted, history = train_arpo(config, tmp_path, iterations=10, minutes=None)
    assert isinstance(algo, InterruptedAlgo) and interrupted and done == 2
    assert [h["success_rate"] for h in history] == [0.25, 0.5]
    assert config.settings == {"tensorboard_dir": str(tmp_path / "tensorboard")}
