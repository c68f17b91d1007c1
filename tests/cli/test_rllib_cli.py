"""The `rllib` command: one-line errors (fast), and real runs through Ray Tune (marked ray)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rllib_arpo.cli.rllib import rllib

REPO = Path(__file__).resolve().parents[2]

SMALL_PPO = """\
algo: PPO
env: CartPole-v1
config:
  training: {train_batch_size_per_learner: 128, minibatch_size: 64, num_epochs: 1}
  env_runners: {num_env_runners: 0}
  learners: {num_learners: 0}
stop: {training_iteration: 1}
"""


def invoke(*args: str):
    return CliRunner().invoke(rllib, list(args), catch_exceptions=False)


def assert_one_line_error(result, pattern: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert re.search(pattern, errors[0]), errors[0]


# ------------------------------------------------------------------------------------ fast


def test_help_lists_both_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "train" in result.output and "tune" in result.output
    train_help = invoke("train", "--help").output
    for flag in ("--algo", "--env", "--config", "--stop-iters", "--num-env-runners",
                 "--num-learners", "--storage-path", "--checkpoint-freq", "--restore"):  # fmt: skip
        assert flag in train_help


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (
            ("train", "--algo", "PPOO", "--env", "CartPole-v1"),
            r"--algo: unknown algorithm 'PPOO' \(did you mean 'PPO'",
        ),
        (
            ("train", "--algo", "PPO", "--env", "CartPole-v7"),
            r"unknown env 'CartPole-v7' \(did you mean 'CartPole-v1'",
        ),
        (("train", "--env", "CartPole-v1"), r"Missing option '--algo'"),
        (("train", "--algo", "PPO", "--config", "/no/such.yaml"), r"/no/such.yaml: no such file"),
        (("train", "--algo", "PPO", "--stop-iters", "0"), r"Invalid value for '--stop-iters'"),
        (
            ("train", "--algo", "PPO", "--num-env-runners", "many"),
            r"Invalid value for '--num-env-runners'",
        ),
        (("train", "--algo", "PPO", "--bogus"), r"No such option '--bogus'"),
        (("tune",), r"Missing argument 'FILE'"),
        (("tune", "/no/such.yaml"), r"/no/such.yaml: no such file"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], pattern: str) -> None:
    assert_one_line_error(invoke(*args), pattern)


def test_bad_yaml_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("algo: PPO\nconfig:\n  training: {lrr: 0.1}\n")
    result = invoke("train", "--config", str(path))
    assert_one_line_error(result, rf"{re.escape(str(path))}: config.training.lrr: unknown setting")
    path.write_text("algo: PPO\nconfig: [\n")
    assert_one_line_error(invoke("tune", str(path)), r"invalid YAML: line \d+, column \d+")


def test_train_refuses_a_sweep_file() -> None:
    sweep = REPO / "tune_configs" / "ppo_cartpole_sweep.yaml"
    assert_one_line_error(invoke("train", "--config", str(sweep)), r"run it with `rllib tune")


def test_bad_restore_path_is_checked_before_anything_runs(tmp_path: Path) -> None:
    config = tmp_path / "small.yaml"
    config.write_text(SMALL_PPO)
    result = invoke("train", "--config", str(config), "--restore", str(tmp_path))
    # tmp_path exists but is neither an RLlib checkpoint nor a Tune experiment
    assert result.exit_code == 2, result.output
    assert "neither an RLlib checkpoint" in result.output


def test_layout_flags_override_the_files_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rllib_arpo.cli import rllib as cli

    seen = {}

    def fake_run(spec, *, restore, verbose):
        seen.update(resources=spec.resources, needed=spec.check_resources(), stop=spec.stop)

    monkeypatch.setattr(cli, "_run", fake_run)
    config = tmp_path / "one.yaml"
    config.write_text(SMALL_PPO + "resources: {num_cpus: 1}\n")
    result = invoke("train", "--config", str(config), "--num-env-runners", "3", "--stop-iters", "4")
    assert result.exit_code == 0, result.output
    assert seen["resources"] is None and seen["needed"]["CPU"] == 4.0
    assert seen["stop"]["training_iteration"] == 4


def test_dry_run_prints_trials_and_resources() -> None:
    result = invoke("tune", str(REPO / "tune_configs" / "ppo_cartpole_sweep.yaml"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "trials: 2" in result.output
    assert "lr: grid_search [0.0001, 0.001]" in result.output
    assert "per trial: 1 CPUs, 0 GPUs" in result.output


# ------------------------------------------------------------------------------------ Ray


def _experiment_dir(output: str) -> Path:
    match = re.search(r"^To watch: tensorboard --logdir (\S+)$", output, re.MULTILINE)
    assert match, output
    return Path(match.group(1))


def _checkpoints(output: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"checkpoint (\S+checkpoint_\d+)", output)]


@pytest.mark.ray
@pytest.mark.slow
def test_train_ppo_cartpole_the_documented_command(tmp_path: Path) -> None:
    """`rllib train --algo PPO --env CartPole-v1 --stop-iters 1`, PPO's defaults (2 runners)."""
    result = invoke(
        "train", "--algo", "PPO", "--env", "CartPole-v1", "--stop-iters", "1",
        "--storage-path", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(r"\] iter 1/1 .*return", result.output)
    experiment = _experiment_dir(result.output)
    assert experiment.parent == tmp_path
    assert list(experiment.rglob("events.out.tfevents.*")), "no TensorBoard event files"
    (checkpoint,) = _checkpoints(result.output)
    assert (checkpoint / "rllib_checkpoint.json").exists()


@pytest.mark.ray
def test_train_checkpoints_then_restores(tmp_path: Path) -> None:
    config = tmp_path / "small.yaml"
    config.write_text(SMALL_PPO)
    first = invoke("train", "--config", str(config), "--storage-path", str(tmp_path / "a"),
                   "--checkpoint-freq", "1", "--name", "first")  # fmt: skip
    assert first.exit_code == 0, first.output
    (checkpoint,) = _checkpoints(first.output)
    assert checkpoint.is_relative_to(tmp_path / "a" / "first")

    second = invoke("train", "--config", str(config), "--storage-path", str(tmp_path / "b"),
                    "--restore", str(checkpoint))  # fmt: skip
    assert second.exit_code == 0, second.output
    assert f"Starting from the RLlib checkpoint {checkpoint}" in second.output
    assert _checkpoints(second.output)


@pytest.mark.ray
def test_tune_runs_a_two_trial_sweep(tmp_path: Path) -> None:
    sweep = REPO / "tune_configs" / "ppo_cartpole_sweep.yaml"
    result = invoke("tune", str(sweep), "--storage-path", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"\] iter 1/1", result.output)) == 2
    assert len(_checkpoints(result.output)) == 2
    assert "best trial (env_runners/episode_return_mean, max)" in result.output
    experiment = _experiment_dir(result.output)
    assert experiment == tmp_path / "ppo-cartpole-sweep"
    assert len(list(experiment.glob("PPO_CartPole-v1_*"))) == 2


@pytest.mark.ray
@pytest.mark.slow
def test_tune_runs_the_grpo_vs_arpo_sweep_at_tiny_size(tmp_path: Path) -> None:
    """The shipped GRPO-vs-ARPO sweep cut to one seed (2 trials: replay off, on), 1 iteration."""
    import yaml

    spec = yaml.safe_load((REPO / "tune_configs" / "minidesk_grpo_vs_arpo.yaml").read_text())
    spec["seeds"] = [0]
    spec["config"]["training"].update(group_size=2, tasks_per_iteration=2, minibatch_size=4)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump(spec))
    result = invoke("tune", str(sweep), "--storage-path", str(tmp_path), "--stop-iters", "1")
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"\] iter 1/1  success \d\.\d{3}", result.output)) == 2
    assert len(_checkpoints(result.output)) == 2
    trials = sorted((tmp_path / "minidesk-grpo-vs-arpo").glob("ARPO_minidesk_*"))
    assert len(trials) == 2
    replay = sorted("use_replay=True" in t.name for t in trials)
    assert replay == [False, True], [t.name for t in trials]


@pytest.mark.ray
@pytest.mark.slow
def test_train_arpo_on_minidesk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rllib train --algo ARPO --env minidesk --stop-iters 2` with the CPU demo's settings."""
    try:
        import rllib_arpo.algorithm  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "rllib_arpo.algorithm":
            raise
        pytest.skip("rllib_arpo.algorithm does not exist yet")
    monkeypatch.setenv("RLLIB_ARPO_CACHE", str(tmp_path / "cache"))
    demo = REPO / "tune_configs" / "minidesk_cpu_demo.yaml"
    result = invoke(
        "train", "--algo", "ARPO", "--env", "minidesk", "--config", str(demo),
        "--stop-iters", "2", "--storage-path", str(tmp_path), "--name", "arpo",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(r"\] iter 2/2  success \d\.\d{3}", result.output)
    assert _checkpoints(result.output)
    assert list((tmp_path / "arpo").rglob("events.out.tfevents.*"))


SLOW_SWEEP = """\
algo: PPO
env: CartPole-v1
name: sweep
config:
  training: {train_batch_size_per_learner: 64, minibatch_size: 64, num_epochs: 1}
  env_runners: {num_env_runners: 0}
  learners: {num_learners: 0}
  reporting: {min_time_s_per_iteration: 1.5}
param_space:
  lr: {grid_search: [1.0e-4, 1.0e-3]}
stop: {training_iteration: 3}
max_concurrent_trials: 1
"""


@pytest.mark.ray
@pytest.mark.slow
def test_ctrl_c_checkpoints_running_trials_and_restore_runs_the_rest(tmp_path: Path) -> None:
    """Ctrl-C mid-sweep: the running trial stops after its iteration with a checkpoint, the
    pending one never starts; `rllib tune FILE --restore EXPERIMENT` then runs it."""
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SLOW_SWEEP)
    storage = tmp_path / "runs"
    env = dict(os.environ, RAY_AUTH_MODE="disabled", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-c", "from rllib_arpo.cli.rllib import rllib; rllib()"]
    process = subprocess.Popen(
        [*command, "tune", str(sweep), "--storage-path", str(storage)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    assert process.stdout is not None
    try:
        for line in process.stdout:
            lines.append(line)
            if re.search(r"\] iter 1/3", line):
                process.send_signal(signal.SIGINT)
                break
        rest, _ = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert "Ctrl-C: stopping every trial after its current iteration" in output
    assert "Stopped by Ctrl-C" in output
    (checkpoint,) = _checkpoints(output)
    assert (checkpoint / "rllib_checkpoint.json").exists()
    assert re.search(r"trial \S+: [12] iterations", output), output  # stopped before 3
    assert len(re.findall(r"^trial \S+: ", output, re.MULTILINE)) == 1, output  # 2nd never ran

    experiment = storage / "sweep"
    resumed = invoke("tune", str(sweep), "--restore", str(experiment))
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming the Tune experiment in {experiment}" in resumed.output
    assert re.search(r"\] iter 3/3", resumed.output), resumed.output
    assert len(re.findall(r"^trial \S+: 3 iterations", resumed.output, re.MULTILINE)) == 1
    assert len(_checkpoints(resumed.output)) == 2
