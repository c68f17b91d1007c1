"""The tune YAML schema: loading, one-line errors naming the key and file, every shipped YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rllib_arpo.launch.tune_config import (
    CONFIG_SECTIONS,
    TOP_LEVEL_KEYS,
    TuneConfigError,
    load_tune_file,
    tune_spec_from_dict,
)

REPO = Path(__file__).resolve().parents[2]
TUNE_CONFIGS = sorted((REPO / "tune_configs").glob("*.yaml"))

PPO_YAML = """\
algo: PPO
env: CartPole-v1
name: ppo-test
config:
  training: {lr: 1e-4, train_batch_size_per_learner: 128, minibatch_size: 64, num_epochs: 1}
  env_runners: {num_env_runners: 0}
  learners: {num_learners: 0}
  environment: {env_config: {size: 3}}
param_space:
  lr: {grid_search: [1.0e-4, 3.0e-4]}
  minibatch_size: {choice: [32, 64]}
  gamma: {uniform: [0.9, 0.99]}
  env_config.size: {randint: [2, 5]}
seeds: [0, 1, 2]
num_samples: 2
stop: {training_iteration: 3, env_runners/episode_return_mean: 400}
checkpoint_freq: 2
num_to_keep: 2
metric: env_runners/episode_return_mean
mode: max
max_concurrent_trials: 2
storage_path: /tmp/somewhere
resources: {num_cpus: 1, num_gpus: 0}
"""


def _write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(TuneConfigError) as info:
        load_tune_file(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    return message


def test_ppo_file_builds_the_config_and_the_search_space(tmp_path: Path) -> None:
    spec = load_tune_file(_write(tmp_path, PPO_YAML))
    assert spec.algo == "PPO" and spec.algo_class.__name__ == "PPO"
    assert spec.env == "CartPole-v1" and spec.config.env == "CartPole-v1"
    assert spec.config.lr == pytest.approx(1e-4)  # `1e-4` (no dot) is a float, not a string
    assert spec.config.train_batch_size_per_learner == 128
    assert spec.config.num_env_runners == 0
    assert spec.config.env_config == {"size": 3}
    assert spec.param_space["lr"] == {"grid_search": [1e-4, 3e-4]}
    assert spec.param_space["seed"] == {"grid_search": [0, 1, 2]}
    assert spec.num_trials() == 2 * 3 * 2  # lr grid x seeds x num_samples
    assert spec.stop == {"training_iteration": 3, "env_runners/episode_return_mean": 400}
    assert (spec.checkpoint_freq, spec.num_to_keep, spec.max_concurrent_trials) == (2, 2, 2)
    assert (spec.metric, spec.mode, spec.name) == (
        "env_runners/episode_return_mean",
        "max",
        "ppo-test",
    )
    assert str(spec.storage_dir) == "/tmp/somewhere"
    assert spec.trial_resources() == {"CPU": 1.0, "GPU": 0.0}

    space = spec.tune_param_space()
    assert space["lr"] == {"grid_search": [1e-4, 3e-4]}
    assert space["env"] == "CartPole-v1" and space["num_env_runners"] == 0
    assert list(space["minibatch_size"].categories) == [32, 64]
    assert space["env_config"]["size"].lower == 2  # dotted key reaches into the dict
    assert space["gamma"].lower == pytest.approx(0.9)


def test_json_file_and_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps({"algo": "PPO", "env": "CartPole-v1"}), "spec.json")
    spec = load_tune_file(path, env="Pendulum-v1", name=None)
    assert spec.env == "Pendulum-v1" and spec.name is None
    assert spec.param_space == {} and spec.num_trials() == 1


def test_dict_form_without_a_file() -> None:
    spec = tune_spec_from_dict({"algo": "ppo", "env": "CartPole-v1"})  # names fold case
    assert spec.algo_class.__name__ == "PPO" and spec.source is None
    with pytest.raises(TuneConfigError, match=r"^algo: unknown algorithm 'PPOO' \(did you mean"):
        tune_spec_from_dict({"algo": "PPOO"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("algo: PPO\nstopp: {}\n", r"stopp: unknown key \(did you mean 'stop'\?\)"),
        ("env: CartPole-v1\n", r"algo: required"),
        (
            "algo: PPO\nconfig: {trainig: {lr: 1}}\n",
            r"config.trainig: unknown section \(did you mean 'training'",
        ),
        (
            "algo: PPO\nconfig: {lr: 0.1}\n",
            r"config.lr: unknown section; it is a setting: put it under config.training",
        ),
        (
            "algo: PPO\nconfig: {training: {lrr: 0.1}}\n",
            r"config.training.lrr: unknown setting for PPOConfig.training\(\) \(did you mean 'lr'",
        ),
        (
            "algo: PPO\nconfig: {training: {num_env_runners: 1}}\n",
            r"config.training.num_env_runners: .*belongs under config.env_runners",
        ),
        ("algo: PPO\nconfig: {training: {lr: fast}}\n", r"config: Invalid `lr` \(fast\)"),
        ("algo: PPO\nconfig: {training: [1, 2]}\n", r"config.training: must be a mapping"),
        (
            "algo: PPO\nparam_space: {lrr: {grid_search: [1]}}\n",
            r"param_space.lrr: not a field of PPOConfig \(did you mean 'lr'",
        ),
        (
            "algo: PPO\nparam_space: {lr.x: {grid_search: [1]}}\n",
            r"param_space.lr.x: .*lr is not a dict field",
        ),
        ("algo: PPO\nparam_space: {lr: [1, 2]}\n", r"param_space.lr: must be one of \{grid_search"),
        ("algo: PPO\nparam_space: {lr: {grid: [1]}}\n", r"param_space.lr: must be one of"),
        (
            "algo: PPO\nparam_space: {lr: {grid_search: []}}\n",
            r"param_space.lr.grid_search: needs a non-empty list",
        ),
        (
            "algo: PPO\nparam_space: {lr: {loguniform: [0, 1]}}\n",
            r"param_space.lr.loguniform: needs low > 0",
        ),
        (
            "algo: PPO\nparam_space: {lr: {uniform: [2, 1]}}\n",
            r"param_space.lr.uniform: needs \[low, high\]",
        ),
        (
            "algo: PPO\nparam_space: {num_epochs: {randint: [1.5, 3]}}\n",
            r"param_space.num_epochs.randint: needs integers",
        ),
        (
            (
                "algo: PPO\nconfig: {training: {train_batch_size_per_learner: 128, "
                "minibatch_size: 64}}\nparam_space: {minibatch_size: {grid_search: [64, 100000]}}\n"
            ),
            r"param_space.minibatch_size.grid_search: value 100000: `minibatch_size` \(100000\) must be <=",
        ),
        ("algo: PPO\nseeds: [1, x]\n", r"seeds: must be a non-empty list of integers"),
        (
            "algo: PPO\nseeds: [1]\nparam_space: {seed: {grid_search: [2]}}\n",
            r"seeds: param_space.seed is set too",
        ),
        (
            "algo: PPO\nstop: {training_iteration: soon}\n",
            r"stop.training_iteration: must be a number",
        ),
        ("algo: PPO\nnum_samples: 0\n", r"num_samples: must be an integer >= 1"),
        ("algo: PPO\ncheckpoint_freq: -1\n", r"checkpoint_freq: must be an integer >= 0"),
        ("algo: PPO\nmode: best\nmetric: x\n", r"mode: must be one of \('max', 'min'\)"),
        ("algo: PPO\nmetric: x\n", r"mode: metric and mode go together"),
        (
            "algo: PPO\nresources: {gpus: 1}\n",
            r"resources.gpus: unknown key \(did you mean 'num_gpus'",
        ),
        (
            "algo: PPO\nconfig: {env_runners: {num_env_runners: 8}}\nresources: {num_cpus: 2}\n",
            r"resources.num_cpus: a trial of this config reserves 9 CPUs but resources.num_cpus is 2",
        ),
        ("algo: PPO\nenv: 3\n", r"env: must be an env name"),
        ("- algo\n- PPO\n", r"the top level must be a mapping"),
        ("algo: PPO\nconfig:\n  training: {lr: 1\n", r"invalid YAML: line \d+, column \d+"),
        (
            "algo: PPO\nalgo: APPO\n",
            r"invalid YAML: line 2, column 1: duplicate key 'algo' \(first on line 1\)",
        ),
    ],
)
def test_bad_files_give_one_line_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    message = _error(tmp_path, text)
    assert __import__("re").search(expected, message), message


def test_missing_file_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(TuneConfigError, match=r"nope.yaml: no such file"):
        load_tune_file(tmp_path / "nope.yaml")
    path = _write(tmp_path, '{"algo": "PPO",}', "bad.json")
    with pytest.raises(TuneConfigError, match=r"bad.json: invalid JSON at line 1, column 16"):
        load_tune_file(path)


def test_schema_constants_are_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in TOP_LEVEL_KEYS + CONFIG_SECTIONS:
        assert f"`{key}`" in doc, f"docs/configuration.md does not document {key!r}"


def _arpo_importable() -> bool:
    """True when ARPO exists; a broken ARPO (it exists but fails to import) is an error."""
    try:
        import rllib_arpo.algorithm  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name == "rllib_arpo.algorithm":
            return False
        raise
    return True


@pytest.mark.parametrize("path", TUNE_CONFIGS, ids=[p.name for p in TUNE_CONFIGS])
def test_every_shipped_yaml_loads_and_fits_its_resources(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if "algo: ARPO" in text and not _arpo_importable():
        pytest.skip("rllib_arpo.algorithm does not exist yet")
    spec = load_tune_file(path)  # validates every key, the config and each sweep value
    needed = spec.check_resources()
    assert spec.resources is not None, f"{path.name}: declare resources (checked here)"
    assert needed["CPU"] <= spec.resources["num_cpus"]
    assert needed.get("GPU", 0.0) <= spec.resources.get("num_gpus", 0.0)
    assert spec.stop, f"{path.name}: give stop criteria"


def test_the_shipped_yamls_cover_the_documented_runs() -> None:
    names = {p.name for p in TUNE_CONFIGS}
    assert {
        "minidesk_cpu_demo.yaml",
        "minidesk_grpo_vs_arpo.yaml",
        "minidesk_lr_clip_sweep.yaml",
        "osworld_uitars7b.yaml",
        "osworld_uitars7b_lora_1gpu.yaml",
        "ppo_cartpole_sweep.yaml",
    } <= names


def test_arpo_yamls_say_what_they_promise() -> None:
    if not _arpo_importable():
        pytest.skip("rllib_arpo.algorithm does not exist yet")
    folder = REPO / "tune_configs"
    sweep = load_tune_file(folder / "minidesk_grpo_vs_arpo.yaml")
    assert sweep.param_space["use_replay"] == {"grid_search": [False, True]}
    assert sweep.param_space["seed"] == {"grid_search": [0, 1, 2]}
    assert sweep.num_trials() == 6
    reference = load_tune_file(folder / "osworld_uitars7b.yaml")
    assert reference.config.num_learners > 0 and reference.config.num_gpus_per_learner == 1
    assert reference.trial_resources()["GPU"] == reference.resources["num_gpus"]
    assert reference.config.group_size == 8 and reference.config.tasks_per_iteration == 16
    lora = load_tune_file(folder / "osworld_uitars7b_lora_1gpu.yaml")
    assert lora.config.quantization == "nf4" and lora.config.lora_rank > 0
    assert lora.trial_resources()["GPU"] == 1.0
    demo = load_tune_file(folder / "minidesk_cpu_demo.yaml")
    assert demo.trial_resources() == {"CPU": 1.0, "GPU": 0.0}


GPU_YAMLS = ("osworld_uitars7b.yaml", "osworld_uitars7b_lora_1gpu.yaml")


@pytest.mark.parametrize("name", GPU_YAMLS)
def test_gpu_yamls_hold_gpu_learners_gpu_engines_and_cpu_only_env_runners(name) -> None:
    from rllib_arpo.algorithm import ARPO

    config = load_tune_file(REPO / "tune_configs" / name).config
    bundles = ARPO.default_resource_request(config).bundles  # no GPU needed to compute them
    runners = config.num_env_runners
    learners = config.num_learners
    main, rest = bundles[0], bundles[1:]
    runner_bundles = rest[:runners]
    learner_bundles = rest[runners : runners + learners]
    engine_bundles = rest[runners + learners :]
    assert runners >= 1 and all(b.get("GPU", 0) == 0 for b in runner_bundles)
    assert config.num_gpus_per_env_runner == 0
    assert len(engine_bundles) == config.num_engines >= 1
    assert all(b["GPU"] > 0 for b in engine_bundles)
    if learners:
        assert all(b["GPU"] == config.num_gpus_per_learner for b in learner_bundles)
    else:  # the local learner's GPU is the main process's
        assert main["GPU"] == config.num_gpus_per_learner > 0
    total_gpus = sum(b.get("GPU", 0) for b in bundles)
    assert total_gpus == load_tune_file(REPO / "tune_configs" / name).resources["num_gpus"]


def test_the_grpo_vs_arpo_sweep_trains_what_the_learning_study_trains() -> None:
    """bench/learning.py runs `arpo demo`; the sweep is its Tune form: same env, same knobs."""
    from bench.learning import ITERATIONS
    from rllib_arpo.recipes.demo import DemoSettings, demo_config

    spec = load_tune_file(REPO / "tune_configs" / "minidesk_grpo_vs_arpo.yaml")
    assert spec.stop == {"training_iteration": ITERATIONS}
    sweep = spec.config
    settings = DemoSettings()
    demo = demo_config(settings, Path("warmstart"), (112, 112))
    assert sweep.env_config == demo.env_config
    for name in (
        "task_order",
        "group_size",
        "tasks_per_iteration",
        "max_steps_per_episode",
        "max_new_tokens",
        "lr",
        "num_epochs",
        "minibatch_size",
    ):
        assert getattr(sweep, name) == getattr(demo, name), name
    from rllib_arpo.policy.paths import COMMITTED_WARMSTART, resolve_policy_path

    assert Path(resolve_policy_path(sweep.policy_path)) == COMMITTED_WARMSTART
