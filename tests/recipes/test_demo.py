"""The demo recipe's pure parts: warm-start choice, progress line, training trend, Ctrl-C."""

from __future__ import annotations

import time

import pytest

from rllib_arpo.policy.paths import COMMITTED_WARMSTART
from rllib_arpo.recipes import SettingError
from rllib_arpo.recipes.demo import (
    HISTORY_FIELDS,
    DemoSettings,
    ProgressLine,
    history_entry,
    run_demo,
    sampled_success_trend,
    train_arpo,
    warmstart_path,
)


def test_sampled_success_trend_compares_first_and_last_tenth() -> None:
    history = (
        [{"success_rate": 0.2}] * 10 + [{"success_rate": 0.5}] * 80 + [{"success_rate": 0.9}] * 10
    )
    assert sampled_success_trend(history) == pytest.approx((0.2, 0.9, 10))
    assert sampled_success_trend([{"success_rate": 0.3}]) is None
    short = [{"success_rate": 0.0}, {"success_rate": float("nan")}, {"success_rate": 1.0}]
    assert sampled_success_trend(short) == (0.0, 1.0, 1)


def test_ctrl_c_during_training_keeps_the_algorithm_for_the_checkpoint(tmp_path) -> None:
    """Ctrl-C stops training, not the demo: the algorithm comes back to be saved and evaluated."""

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


def test_evaluations_during_training_stop_the_clock(tmp_path) -> None:
    class Algo:
        def train(self) -> dict:
            return {"rollout/success_rate": 0.5, "train/num_trajectories": 8.0}

    class Config:
        def training(self, **settings):
            return self

        def build_algo(self) -> Algo:
            return Algo()

    seen = []

    def evaluate(algo, history) -> None:
        seen.append(len(history))
        time.sleep(0.4)

    _, done, seconds, _, history = train_arpo(
        Config(), tmp_path, iterations=5, minutes=None, evaluate_every=2, evaluate=evaluate
    )
    assert done == 5 and seen == [2, 4]  # not after the last: the demo evaluates then anyway
    assert seconds < 0.4 and history[-1]["seconds"] < 0.4  # 0.8 s of evaluation not counted


def test_history_keeps_what_the_learning_study_plots() -> None:
    result = {
        "rollout/success_rate": 0.5,
        "reward/mean": 0.25,
        "train/num_trajectories": 24.0,
        "replay/injections": 2.0,
    }
    entry = history_entry(7, result, 12.345)
    assert tuple(entry) == HISTORY_FIELDS
    assert entry == {
        "iteration": 7,
        "seconds": 12.35,
        "success_rate": 0.5,
        "reward_mean": 0.25,
        "trained_trajectories": 24.0,
        "replay_injections": 2.0,
    }
    bare = history_entry(1, {}, 0.0)  # GRPO logs no replay metrics; a skipped update has no count
    assert bare["replay_injections"] == 0.0 and bare["trained_trajectories"] != 0.0


def test_default_settings_use_the_committed_warm_start(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RLLIB_ARPO_CACHE", str(tmp_path))
    assert warmstart_path(DemoSettings()) == COMMITTED_WARMSTART
    other = warmstart_path(DemoSettings(warm_families=("click_button",), warm_minutes=0.5))
    assert other == tmp_path / "warmstart-grid112-click_button-0.5min-s0"
    given = tmp_path / "mine"
    assert warmstart_path(DemoSettings(warmstart_dir=given)) == given


def test_progress_line_averages_the_window_and_counts_down_a_time_budget() -> None:
    line = ProgressLine(budget_s=600.0)
    line(1, {"rollout/success_rate": 0.0, "reward/mean": -0.5}, 30.0)
    text = line(2, {"rollout/success_rate": 1.0, "reward/mean": 1.0}, 60.0)
    assert text.startswith("\r  iteration 2  success 1.00 (last 2: 0.50)  reward +1.00")
    assert "elapsed 1.0 min  eta 9.0 min" in text
    assert "eta" not in ProgressLine(budget_s=None)(1, {}, 1.0)


@pytest.mark.parametrize(
    ("bad", "setting", "value"),
    [
        ({"rl_families": ("nope",)}, "rl_families", "nope"),
        ({"warm_families": ("nope",)}, "warm_families", "nope"),
        ({"level": "grid999"}, "level", "grid999"),
        ({"max_policy_lag": 1}, "max_policy_lag", "--env-runners 1"),
        ({"env_runners": -1}, "env_runners", "-1"),
    ],
)
def test_bad_settings_are_named_before_anything_runs(tmp_path, bad, setting, value) -> None:
    with pytest.raises(SettingError, match=value) as raised:
        run_demo(DemoSettings(out_dir=tmp_path / "run", **bad))
    assert raised.value.setting == setting
    assert not (tmp_path / "run").exists()
