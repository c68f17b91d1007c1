"""Name resolution for ``rllib train --algo NAME --env NAME``: plugins first, then RLlib's own.

Algorithms
    1. Entry points of the group ``rllib.algorithms`` (``importlib.metadata``), matched by name
       (exactly, else case-insensitively). An entry point loads to either an ``Algorithm``
       subclass, or a zero-argument callable that returns one (or returns None after calling
       ``ray.tune.register_trainable(NAME, cls)``). Example (``setup.cfg``)::

           [options.entry_points]
           rllib.algorithms =
               ARPO = rllib_arpo.registration:arpo_algorithm

    2. ``PROJECT_ALGORITHMS``: this project's own algorithms by import path, so a checkout whose
       installed metadata predates an entry point still finds them.
    3. RLlib's built-ins and anything registered with Tune:
       ``ray.tune.registry.get_trainable_cls(NAME)`` (PPO, APPO, IMPALA, DQN, SAC, BC, ...).

Environments
    A name is a Tune-registered env (``ray.tune.registry.register_env``), a gymnasium id
    (``CartPole-v1``, ``ale_py:ALE/Pong-v5``), a class path (``pkg.module.EnvClass``), or an
    entry point of the group ``rllib.envs`` that ``register_env_plugins`` registers with Tune
    (after ``ray.init``: registrations live in the cluster). An ``rllib.envs`` entry point loads
    to either an env creator (a class or a callable with a positional ``env_config`` parameter,
    optional or not), registered under the entry point's name, or a function without parameters
    that calls ``register_env`` itself. Example::

        rllib.envs =
            minidesk = envs:make_minidesk
            osworld = envs.osworld:make_rllib_env
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import warnings
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ray.rllib.algorithms.algorithm import Algorithm

logger = logging.getLogger(__name__)

ALGORITHM_ENTRY_POINT_GROUP = "rllib.algorithms"
"""Entry-point group of third-party RLlib algorithms."""
ENV_ENTRY_POINT_GROUP = "rllib.envs"
"""Entry-point group of environments that register themselves with Tune."""

PROJECT_ALGORITHMS: dict[str, str] = {"ARPO": "rllib_arpo.registration:arpo_algorithm"}
"""This project's algorithms by import path; used when no entry point of the name is installed."""
PROJECT_ENVS: dict[str, str] = {
    "minidesk": "envs:make_minidesk",
    "osworld": "envs.osworld:make_rllib_env",
    "miniwob": "envs.miniwob:make_rllib_env",
}
"""This project's envs, same forms as ``rllib.envs`` entry points; fallback as above."""


class NameResolutionError(LookupError):
    """An algorithm or env name that resolves to nothing; the message is one line with hints."""


class PluginError(RuntimeError):
    """An entry point that fails to load or loads to something unusable."""


# ------------------------------------------------------------------------------------ algorithms


def algorithm_entry_points() -> dict[str, EntryPoint]:
    """Installed ``rllib.algorithms`` entry points by name."""
    return {ep.name: ep for ep in entry_points(group=ALGORITHM_ENTRY_POINT_GROUP)}


def rllib_builtin_algorithms() -> list[str]:
    """Names of RLlib's built-in algorithms (``ray.rllib.algorithms.registry.ALGORITHMS``)."""
    from ray.rllib.algorithms.registry import ALGORITHMS

    return sorted(ALGORITHMS)


def algorithm_names() -> list[str]:
    """Every name ``resolve_algorithm`` knows without importing the algorithms: plugins first."""
    names = list(algorithm_entry_points())
    names += [n for n in PROJECT_ALGORITHMS if n not in names]
    names += [n for n in rllib_builtin_algorithms() if n not in names]
    return names


def resolve_algorithm(name: str) -> type[Algorithm]:
    """The ``Algorithm`` class for ``name`` (entry points, then this project, then RLlib).

    Raises:
        NameResolutionError: No algorithm of that name; the message lists close matches.
        PluginError: An entry point or project algorithm failed to import.
    """
    plugins = algorithm_entry_points()
    match = _match(name, plugins)
    if match is not None:
        return _algorithm_from_plugin(match, _load_entry_point(plugins[match]))
    match = _match(name, PROJECT_ALGORITHMS)
    if match is not None:
        return _algorithm_from_plugin(match, _load_path(PROJECT_ALGORITHMS[match], match))
    builtin = _match(name, rllib_builtin_algorithms()) or name
    cls = _tune_trainable(builtin)
    if cls is None:
        raise NameResolutionError(
            f"unknown algorithm {name!r}{_hint(name, algorithm_names())}; "
            f"known: {', '.join(algorithm_names())}"
        )
    return _check_algorithm(builtin, cls)


def _tune_trainable(name: str) -> type | None:
    from ray.tune.error import TuneError
    from ray.tune.registry import get_trainable_cls

    try:
        with warnings.catch_warnings():
            # RLlib's first lookup imports every built-in; DreamerV3's debugging module makes a
            # gymnasium env at import time, which warns about float64 Box bounds.
            warnings.simplefilter("ignore", UserWarning)
            return get_trainable_cls(name)
    except (TuneError, ValueError):
        return None


def _algorithm_from_plugin(name: str, loaded: Any) -> type[Algorithm]:
    if inspect.isclass(loaded):
        return _check_algorithm(name, loaded)
    if callable(loaded):
        result = loaded()
        if result is None:
            cls = _tune_trainable(name)
            if cls is None:
                raise PluginError(
                    f"algorithm plugin {name!r} returned None but registered no trainable "
                    f"named {name!r}; return the Algorithm class or call "
                    f"ray.tune.register_trainable({name!r}, cls)"
                )
            return _check_algorithm(name, cls)
        return _check_algorithm(name, result)
    raise PluginError(
        f"algorithm plugin {name!r} loads to {type(loaded).__name__}; expected an Algorithm "
        "subclass or a zero-argument callable returning one"
    )


def _check_algorithm(name: str, cls: Any) -> type[Algorithm]:
    from ray.rllib.algorithms.algorithm import Algorithm

    if not (inspect.isclass(cls) and issubclass(cls, Algorithm)):
        raise PluginError(
            f"{name!r} resolves to {cls!r}, which is not a subclass of "
            "ray.rllib.algorithms.algorithm.Algorithm"
        )
    return cls


# ------------------------------------------------------------------------------------ envs


def env_entry_points() -> dict[str, EntryPoint]:
    """Installed ``rllib.envs`` entry points by name."""
    return {ep.name: ep for ep in entry_points(group=ENV_ENTRY_POINT_GROUP)}


def plugin_env_names() -> list[str]:
    """Env names declared by ``rllib.envs`` entry points and ``PROJECT_ENVS``."""
    names = list(env_entry_points())
    return names + [n for n in PROJECT_ENVS if n not in names]


def register_env_plugins(names: Iterable[str] | None = None) -> list[str]:
    """Registers ``rllib.envs`` entry points (and ``PROJECT_ENVS``) with Tune's registry.

    Call it after ``ray.init`` (registrations are stored in the cluster); again after each init.

    Args:
        names: Only these plugin names; None registers all of them.

    Returns:
        The plugin names that were registered.

    Raises:
        PluginError: A plugin failed to import or loads to something unusable.
    """
    plugins: dict[str, Callable[[], Any]] = {
        name: (lambda path=path, name=name: _load_path(path, name))
        for name, path in PROJECT_ENVS.items()
    }
    for name, ep in env_entry_points().items():
        plugins[name] = lambda ep=ep: _load_entry_point(ep)
    wanted = set(plugins) if names is None else set(names) & set(plugins)
    done = []
    for name in sorted(wanted):
        _register_env_object(name, plugins[name]())
        done.append(name)
    return done


def _register_env_object(name: str, loaded: Any) -> None:
    from ray.tune.registry import register_env

    if inspect.isclass(loaded) or (callable(loaded) and _positional_params(loaded) >= 1):
        register_env(name, loaded)
    elif callable(loaded):
        loaded()  # a registration function: it calls register_env itself
    else:
        raise PluginError(
            f"env plugin {name!r} loads to {type(loaded).__name__}; expected an env class, "
            "an env creator taking env_config, or a zero-argument registration function"
        )


def check_env_name(name: str) -> None:
    """Raises ``NameResolutionError`` unless ``name`` is an env RLlib can make.

    Known: Tune-registered names (register plugins first), gymnasium ids and class paths.
    """
    from ray.tune.registry import ENV_CREATOR, _global_registry

    if _global_registry.contains(ENV_CREATOR, name):
        return
    if _is_gymnasium_id(name):
        return
    if "." in name and _is_class_path(name):
        return
    candidates = plugin_env_names() + _gymnasium_ids()
    raise NameResolutionError(
        f"unknown env {name!r}{_hint(name, candidates)}; use a gymnasium id (e.g. CartPole-v1), "
        f"an env registered with ray.tune.register_env, or one of the plugins: "
        f"{', '.join(plugin_env_names()) or 'none installed'}"
    )


def _is_gymnasium_id(name: str) -> bool:
    import gymnasium

    try:
        gymnasium.spec(name)
    except (gymnasium.error.Error, ModuleNotFoundError, ImportError, ValueError):
        return False
    return True


def _gymnasium_ids() -> list[str]:
    import gymnasium

    return list(gymnasium.registry)


def _is_class_path(path: str) -> bool:
    module_name, _, attr = path.rpartition(".")
    try:
        return hasattr(importlib.import_module(module_name), attr)
    except ImportError:
        return False


# ------------------------------------------------------------------------------------ helpers


def _match(name: str, names: Iterable[str]) -> str | None:
    names = list(names)
    if name in names:
        return name
    folded = [n for n in names if n.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def _hint(name: str, candidates: Iterable[str]) -> str:
    pool = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(pool), n=4, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {', '.join(repr(pool[c]) for c in close)}?)"


def _load_entry_point(ep: EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as error:  # any import failure is reported the same way
        raise PluginError(
            f"plugin {ep.name!r} ({ep.group} = {ep.value}) failed to load: "
            f"{type(error).__name__}: {error}"
        ) from error


def _load_path(path: str, name: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # plugin code may raise anything on import
        raise PluginError(
            f"{name!r} ({path}) failed to import: {type(error).__name__}: {error}"
        ) from error
    try:
        return getattr(module, attr)
    except AttributeError:
        raise PluginError(f"{name!r}: module {module_name} has no {attr!r}") from None


def _positional_params(fn: Callable[..., Any]) -> int:
    """Positional parameters, optional ones included: ``make(env_config=None)`` is a creator."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    return sum(p.kind in positional for p in params)
