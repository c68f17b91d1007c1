"""Name resolution: rllib.algorithms / rllib.envs entry points first, then RLlib's built-ins."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint

import pytest
from ray.rllib.algorithms.ppo import PPO

from rllib_arpo.launch import registry
from rllib_arpo.launch.registry import (
    ALGORITHM_ENTRY_POINT_GROUP,
    ENV_ENTRY_POINT_GROUP,
    NameResolutionError,
    PluginError,
    check_env_name,
    register_env_plugins,
    resolve_algorithm,
)


class MyAlgo(PPO):
    """A third-party algorithm (a PPO subclass is enough to be an Algorithm)."""


class FakeEnv:
    def __init__(self, config: dict) -> None:
        self.config = config


def make_fake_env(env_config=None):
    return FakeEnv(env_config or {})


registered_by_function: list[str] = []


def register_fake_envs() -> None:
    from ray.tune.registry import register_env

    registered_by_function.append("fake-registered")
    register_env("fake-registered", make_fake_env)


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch):
    """Installs fake entry points (pointing into a fake module) and returns a setter."""
    module = types.ModuleType("fake_rllib_plugins")
    module.MyAlgo = MyAlgo
    module.returns_algo = lambda: MyAlgo
    module.returns_none = lambda: None
    module.not_an_algo = lambda: dict
    module.number = 3
    module.FakeEnv = FakeEnv
    module.make_fake_env = make_fake_env
    module.register_fake_envs = register_fake_envs
    monkeypatch.setitem(sys.modules, "fake_rllib_plugins", module)
    installed: dict[str, list[EntryPoint]] = {
        ALGORITHM_ENTRY_POINT_GROUP: [],
        ENV_ENTRY_POINT_GROUP: [],
    }

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return installed.get(group, [])

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry, "PROJECT_ENVS", {})

    def add(group: str, name: str, value: str) -> None:
        installed[group].append(EntryPoint(name=name, value=value, group=group))

    return add


def test_builtins_resolve_case_insensitively() -> None:
    assert resolve_algorithm("PPO") is PPO
    assert resolve_algorithm("ppo") is PPO


def test_unknown_algorithm_lists_close_matches() -> None:
    with pytest.raises(NameResolutionError) as info:
        resolve_algorithm("PPOO")
    message = str(info.value)
    assert "unknown algorithm 'PPOO' (did you mean 'PPO'" in message
    assert "known:" in message and "\n" not in message


def test_plugin_class_wins_over_builtins(plugins) -> None:
    plugins(ALGORITHM_ENTRY_POINT_GROUP, "PPO", "fake_rllib_plugins:MyAlgo")
    assert resolve_algorithm("PPO") is MyAlgo
    assert "PPO" in registry.algorithm_names()


def test_plugin_callable_returning_the_class(plugins) -> None:
    plugins(ALGORITHM_ENTRY_POINT_GROUP, "MYALGO", "fake_rllib_plugins:returns_algo")
    assert resolve_algorithm("myalgo") is MyAlgo


def test_plugin_that_registers_with_tune_and_returns_none(plugins) -> None:
    from ray.tune.registry import register_trainable

    register_trainable("MyRegistered", MyAlgo)
    plugins(ALGORITHM_ENTRY_POINT_GROUP, "MyRegistered", "fake_rllib_plugins:returns_none")
    assert resolve_algorithm("MyRegistered") is MyAlgo


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fake_rllib_plugins:not_an_algo", "is not a subclass of"),
        ("fake_rllib_plugins:number", "loads to int"),
        ("fake_rllib_plugins:missing", "failed to load: AttributeError"),
        ("no_such_module_xyz:thing", "failed to load: ModuleNotFoundError"),
        ("fake_rllib_plugins:returns_none", "returned None but registered no trainable"),
    ],
)
def test_broken_algorithm_plugins_are_one_clear_error(plugins, value: str, expected: str) -> None:
    plugins(ALGORITHM_ENTRY_POINT_GROUP, "Broken", value)
    with pytest.raises(PluginError) as info:
        resolve_algorithm("Broken")
    assert expected in str(info.value) and "'Broken'" in str(info.value)


def test_env_plugins_register_creators_and_run_registration_functions(plugins) -> None:
    from ray.tune.registry import ENV_CREATOR, _global_registry

    plugins(ENV_ENTRY_POINT_GROUP, "fake-class", "fake_rllib_plugins:FakeEnv")
    plugins(ENV_ENTRY_POINT_GROUP, "fake-creator", "fake_rllib_plugins:make_fake_env")
    plugins(ENV_ENTRY_POINT_GROUP, "fake-function", "fake_rllib_plugins:register_fake_envs")
    done = register_env_plugins()
    assert done == ["fake-class", "fake-creator", "fake-function"]
    assert registered_by_function == ["fake-registered"]  # a function without parameters: called
    creator = _global_registry.get(ENV_CREATOR, "fake-creator")
    assert creator({"a": 1}).config == {"a": 1}  # optional env_config: still a creator
    assert _global_registry.get(ENV_CREATOR, "fake-class") is FakeEnv
    for name in ("fake-class", "fake-creator", "fake-registered"):
        check_env_name(name)


def test_env_names_gymnasium_and_class_paths() -> None:
    check_env_name("CartPole-v1")
    check_env_name("gymnasium.envs.classic_control.cartpole.CartPoleEnv")


def test_unknown_env_lists_close_matches_and_plugins() -> None:
    with pytest.raises(NameResolutionError) as info:
        check_env_name("CartPole-v7")
    message = str(info.value)
    assert "unknown env 'CartPole-v7' (did you mean 'CartPole-v1'" in message
    assert "minidesk" in message  # this project's env is offered


def test_broken_env_plugin_is_reported(plugins) -> None:
    plugins(ENV_ENTRY_POINT_GROUP, "bad", "fake_rllib_plugins:number")
    with pytest.raises(PluginError, match="env plugin 'bad' loads to int"):
        register_env_plugins()


def test_project_fallbacks_point_at_real_objects() -> None:
    """ARPO and the project's envs resolve from a checkout whose metadata lacks entry points."""
    import importlib

    for path in list(registry.PROJECT_ALGORITHMS.values()) + list(registry.PROJECT_ENVS.values()):
        module_name, _, attr = path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                pytest.skip(f"{module_name} does not exist yet")
            raise
        assert callable(getattr(module, attr)), path
