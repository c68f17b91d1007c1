"""The tune YAML schema: one file describes an RLlib run or a Ray Tune sweep.

Used by ``rllib tune FILE.yaml`` and ``rllib train --config FILE``; documented in
docs/configuration.md. A file (YAML, or JSON with the same keys)::

    algo: ARPO                      # required: resolved like `rllib train --algo`
    env: minidesk                   # env name (or set config.environment.env)
    name: arpo-demo                 # experiment folder under storage_path
    description: free text          # ignored
    config:                         # AlgorithmConfig builder sections -> keyword arguments
      environment: {env_config: {...}}
      training: {lr: 1.0e-5, group_size: 4}
      env_runners: {num_env_runners: 0}
      learners: {num_learners: 0}
    param_space:                    # flat config fields (as in AlgorithmConfig.to_dict) to sweep
      use_replay: {grid_search: [false, true]}
      lr: {loguniform: [1.0e-6, 1.0e-4]}
      env_config.size: {choice: [4, 8]}   # dotted: an entry of a dict field
    seeds: [0, 1, 2]                # adds `seed: {grid_search: seeds}`
    num_samples: 1                  # Tune repeats of the whole grid (random samplers redraw)
    stop: {training_iteration: 10}  # any result key -> threshold
    storage_path: ~/ray_results
    checkpoint_freq: 1              # iterations between checkpoints; 0 = only at the end
    checkpoint_at_end: true
    num_to_keep: null               # checkpoints kept per trial (null = all)
    metric: env_runners/episode_return_mean   # with mode: picks the best trial to report
    mode: max
    max_concurrent_trials: null
    resources: {num_cpus: 17, num_gpus: 8}    # what one trial may reserve; checked

Loading checks every key (an unknown one is an error naming it, the file and close matches),
builds the config as ``get_trainable_cls(algo).get_default_config()`` + one builder call per
section, then ``validate()``; each ``grid_search``/``choice`` value is validated too.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from rllib_arpo.core.values import is_int, is_number
from rllib_arpo.launch.registry import resolve_algorithm

if TYPE_CHECKING:
    from ray import tune
    from ray.rllib.algorithms.algorithm import Algorithm
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

DEFAULT_STORAGE_PATH = "~/ray_results"
"""Where runs go when neither the file nor ``--storage-path`` says (Tune's default)."""

TOP_LEVEL_KEYS = (
    "algo", "env", "name", "description", "config", "param_space", "seeds", "num_samples",
    "stop", "storage_path", "checkpoint_freq", "checkpoint_at_end", "num_to_keep", "metric",
    "mode", "max_concurrent_trials", "resources",
)  # fmt: skip
"""Every key a tune file may have at the top."""

CONFIG_SECTIONS = (
    "api_stack", "environment", "env_runners", "learners", "training", "framework",
    "evaluation", "reporting", "checkpointing", "debugging", "fault_tolerance", "rl_module",
    "multi_agent", "offline_data",
)  # fmt: skip
"""Keys of ``config:``: AlgorithmConfig builder methods, each given its keyword arguments."""

SEARCH_SPACES = ("grid_search", "choice", "uniform", "loguniform", "randint")
"""Ways to sweep one field in ``param_space``."""

RESOURCE_KEYS = ("num_cpus", "num_gpus")
MODES = ("max", "min")

# YAML 1.1 reads `1e-5` (no dot) as a string; accept it as a float like YAML 1.2 and JSON do.
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class TuneConfigError(ValueError):
    """A tune file that cannot be used; the message names the file and the key."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``1e-5`` as a float and rejects duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:float"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _mapping_without_duplicates(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


@dataclass
class TuneSpec:
    """A loaded and validated tune file.

    Attributes:
        algo: The algorithm name as written.
        algo_class: The resolved ``Algorithm`` subclass.
        config: The base AlgorithmConfig (sections applied, env set, validated).
        param_space: Flat config keys -> Tune search spaces (``seeds`` included as ``seed``).
        stop: Tune stop criteria.
        source: The file it came from (None when built from a dict).
    """

    algo: str
    algo_class: type[Algorithm]
    config: AlgorithmConfig
    env: str | None = None
    name: str | None = None
    param_space: dict[str, Any] = field(default_factory=dict)
    stop: dict[str, Any] = field(default_factory=dict)
    num_samples: int = 1
    storage_path: str = DEFAULT_STORAGE_PATH
    checkpoint_freq: int = 0
    checkpoint_at_end: bool = True
    num_to_keep: int | None = None
    metric: str | None = None
    mode: str | None = None
    max_concurrent_trials: int | None = None
    resources: dict[str, float] | None = None
    source: Path | None = None

    @property
    def storage_dir(self) -> Path:
        """``storage_path`` with ``~`` expanded, absolute."""
        return Path(os.path.expanduser(self.storage_path)).resolve()

    def num_trials(self) -> int:
        """Trials the sweep makes: product of the grid sizes times ``num_samples``."""
        grid = 1
        for space in self.param_space.values():
            if isinstance(space, dict) and "grid_search" in space:
                grid *= len(space["grid_search"])
        return grid * self.num_samples

    def tune_param_space(self) -> dict[str, Any]:
        """The dict Tune samples trials from: ``config.to_dict()`` with the search spaces in."""
        space = self.config.to_dict()
        for key, value in self.param_space.items():
            _set_dotted(space, key, value)
        return space

    def trial_resources(self) -> dict[str, float]:
        """CPUs and GPUs one trial reserves (its placement group, from the algorithm)."""
        factory = self.algo_class.default_resource_request(self.config)
        bundles = getattr(factory, "bundles", None)
        if bundles is None:  # a plain Resources object (old API stack)
            return {"CPU": float(factory.cpu), "GPU": float(factory.gpu)}
        total = {"CPU": 0.0, "GPU": 0.0}
        for bundle in bundles:
            for resource, amount in bundle.items():
                total[resource] = total.get(resource, 0.0) + float(amount)
        return total

    def check_resources(self) -> dict[str, float]:
        """Checks that one trial fits in ``resources`` (when given); returns what it needs."""
        needed = self.trial_resources()
        if self.resources is None:
            return needed
        for key, resource in (("num_cpus", "CPU"), ("num_gpus", "GPU")):
            declared = self.resources.get(key)
            if declared is not None and needed.get(resource, 0.0) > declared + 1e-9:
                raise self._error(
                    f"resources.{key}",
                    f"a trial of this config reserves {format_amount(needed.get(resource, 0.0))} "
                    f"{resource}s but resources.{key} is {format_amount(declared)}; raise it or lower "
                    "num_env_runners / num_learners / num_*_per_* in config",
                )
        return needed

    def tuner(
        self,
        *,
        callbacks: list[Any] | None = None,
        stopper: tune.Stopper | None = None,
        trainable: Any = None,
        verbose: int | None = None,
    ) -> tune.Tuner:
        """A ``ray.tune.Tuner`` for this spec (call after ``ray.init`` and env registration).

        Args:
            callbacks: Extra Tune callbacks.
            stopper: A Tune stopper combined with ``stop`` (the CLI's Ctrl-C stopper).
            trainable: What Tune runs; default ``algo_class``.
            verbose: Tune's console verbosity (0 silent, 1 default, 2 status tables).
        """
        from ray import tune
        from ray.tune.stopper import CombinedStopper

        stop: Any = dict(self.stop) or None
        if stopper is not None:
            stop = stopper if not stop else CombinedStopper(_dict_stopper(stop), stopper)
        return tune.Tuner(
            trainable or self.algo_class,
            param_space=self.tune_param_space(),
            tune_config=tune.TuneConfig(
                num_samples=self.num_samples,
                metric=self.metric,
                mode=self.mode,
                max_concurrent_trials=self.max_concurrent_trials,
            ),
            run_config=tune.RunConfig(
                name=self.name,
                storage_path=str(self.storage_dir),
                stop=stop,
                callbacks=callbacks,
                verbose=verbose,
                checkpoint_config=tune.CheckpointConfig(
                    checkpoint_frequency=self.checkpoint_freq,
                    checkpoint_at_end=self.checkpoint_at_end,
                    num_to_keep=self.num_to_keep,
                ),
            ),
        )

    def _error(self, key: str, message: str) -> TuneConfigError:
        prefix = f"{self.source}: " if self.source is not None else ""
        return TuneConfigError(f"{prefix}{key}: {message}")


# ------------------------------------------------------------------------------------ loading


def load_tune_file(path: str | Path, **overrides: Any) -> TuneSpec:
    """Reads, checks and resolves a tune file (YAML, or JSON for ``.json``).

    Args:
        path: The file.
        **overrides: Top-level keys that replace the file's (e.g. ``algo=``, ``env=``), applied
            before checking; a None value leaves the file's setting.

    Raises:
        TuneConfigError: Missing or unreadable file, bad syntax, unknown key, bad value; one
            line naming the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise TuneConfigError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except json.JSONDecodeError as error:
        raise TuneConfigError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except yaml.YAMLError as error:
        raise TuneConfigError(f"{path}: invalid YAML: {_yaml_problem(error)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TuneConfigError(
            f"{path}: the top level must be a mapping of {', '.join(TOP_LEVEL_KEYS)}; "
            f"got a {type(data).__name__}"
        )
    data.update({k: v for k, v in overrides.items() if v is not None})
    return tune_spec_from_dict(data, source=path)


def tune_spec_from_dict(data: Mapping[str, Any], source: Path | None = None) -> TuneSpec:
    """``load_tune_file`` for an already-parsed mapping (same checks)."""

    def error(key: str, message: str) -> TuneConfigError:
        prefix = f"{source}: " if source is not None else ""
        return TuneConfigError(f"{prefix}{key}: {message}")

    for key in data:
        if key not in TOP_LEVEL_KEYS:
            hint = _did_you_mean(str(key), TOP_LEVEL_KEYS)
            known = ", ".join(TOP_LEVEL_KEYS)
            raise error(str(key), f"unknown key{hint}; top-level keys are: {known}")

    algo = data.get("algo")
    if not isinstance(algo, str) or not algo:
        raise error("algo", "required: the algorithm name (e.g. ARPO, PPO)")
    from rllib_arpo.launch.registry import NameResolutionError, PluginError

    try:
        algo_class = resolve_algorithm(algo)
    except (NameResolutionError, PluginError) as problem:
        raise error("algo", str(problem)) from None

    config = algo_class.get_default_config()
    sections = _mapping(data.get("config", {}), "config", error)
    for section, kwargs in sections.items():
        _apply_section(config, str(section), kwargs, error)

    env = data.get("env")
    if env is not None:
        if not isinstance(env, str) or not env:
            raise error("env", f"must be an env name, got {env!r}")
        config.environment(env=env)
    elif isinstance(config.env, str):
        env = config.env

    try:
        config.validate()
    except Exception as problem:  # noqa: BLE001 - RLlib raises ValueError or TypeError
        raise error("config", _one_line(problem)) from None

    param_space = _param_space(config, data, error)

    spec = TuneSpec(
        algo=algo,
        algo_class=algo_class,
        config=config,
        env=env,
        name=_optional(data, "name", str, error),
        param_space=param_space,
        stop=_stop(data.get("stop", {}), error),
        num_samples=_int(data, "num_samples", 1, 1, error),
        storage_path=_optional(data, "storage_path", str, error) or DEFAULT_STORAGE_PATH,
        checkpoint_freq=_int(data, "checkpoint_freq", 0, 0, error),
        checkpoint_at_end=_optional(data, "checkpoint_at_end", bool, error) is not False,
        num_to_keep=_int(data, "num_to_keep", None, 1, error),
        metric=_optional(data, "metric", str, error),
        mode=_optional(data, "mode", str, error),
        max_concurrent_trials=_int(data, "max_concurrent_trials", None, 1, error),
        resources=_resources(data.get("resources"), error),
        source=source,
    )
    if spec.mode is not None and spec.mode not in MODES:
        raise error("mode", f"must be one of {MODES}, got {spec.mode!r}")
    if (spec.metric is None) != (spec.mode is None):
        raise error("metric" if spec.metric is None else "mode", "metric and mode go together")
    spec.check_resources()
    return spec


# ------------------------------------------------------------------------------------ pieces


def _apply_section(
    config: AlgorithmConfig,
    section: str,
    kwargs: Any,
    error: Callable[[str, str], TuneConfigError],
) -> None:
    key = f"config.{section}"
    if section not in CONFIG_SECTIONS:
        owner = _section_of(config, section)
        hint = (
            f"; it is a setting: put it under config.{owner}"
            if owner
            else _did_you_mean(section, CONFIG_SECTIONS)
        )
        raise error(key, f"unknown section{hint}; sections are: {', '.join(CONFIG_SECTIONS)}")
    kwargs = _mapping(kwargs, key, error)
    allowed = _section_params(config, section)
    for name in kwargs:
        if name not in allowed:
            owner = _section_of(config, str(name))
            hint = (
                f"; it belongs under config.{owner}"
                if owner and owner != section
                else _did_you_mean(str(name), allowed)
            )
            method = f"{type(config).__name__}.{section}()"
            raise error(f"{key}.{name}", f"unknown setting for {method}{hint}")
    try:
        getattr(config, section)(**kwargs)
    except Exception as problem:  # noqa: BLE001 - builders raise ValueError/TypeError
        raise error(key, _one_line(problem)) from None


def _section_params(config: AlgorithmConfig, section: str) -> list[str]:
    """Keyword names the builder ``section`` accepts, over the class hierarchy (``**kwargs``)."""
    names: list[str] = []
    for cls in type(config).__mro__:
        method = cls.__dict__.get(section)
        if method is None:
            continue
        for param in inspect.signature(method).parameters.values():
            named = param.kind in (
                inspect.Parameter.KEYWORD_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            )
            if named and param.name != "self" and param.name not in names:
                names.append(param.name)
    return names


def _section_of(config: AlgorithmConfig, name: str) -> str | None:
    for section in CONFIG_SECTIONS:
        if hasattr(config, section) and name in _section_params(config, section):
            return section
    return None


def _param_space(
    config: AlgorithmConfig, data: Mapping[str, Any], error: Callable[[str, str], TuneConfigError]
) -> dict[str, Any]:
    from ray import tune

    raw = _mapping(data.get("param_space", {}), "param_space", error)
    fields = config.to_dict()
    space: dict[str, Any] = {}
    for key, spec in raw.items():
        where = f"param_space.{key}"
        flat = _field_key(str(key), fields)
        if flat is None:
            top = str(key).split(".")[0]
            hint = (
                f"; {top} is not a dict field (dotted keys reach into dict fields such as "
                "env_config, model_config, learner_config_dict)"
                if "." in str(key) and (top in fields or "_" + top in fields)
                else _did_you_mean(str(key), [k.lstrip("_") for k in fields])
            )
            raise error(where, f"not a field of {type(config).__name__}{hint}")
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SEARCH_SPACES:
            forms = (
                "{grid_search: [...]}, {choice: [...]}, {uniform: [low, high]}, "
                "{loguniform: [low, high]}, {randint: [low, high]}"
            )
            raise error(where, f"must be one of {forms}; got {spec!r}")
        kind, values = next(iter(spec.items()))
        if kind in ("grid_search", "choice"):
            if not isinstance(values, list) or not values:
                raise error(f"{where}.{kind}", "needs a non-empty list of values")
            for value in values:
                _check_value(config, flat, value, f"{where}.{kind}", error)
            space[flat] = tune.grid_search(values) if kind == "grid_search" else tune.choice(values)
        else:
            if (
                not isinstance(values, list)
                or len(values) != 2
                or not all(is_number(v) for v in values)
                or not values[0] < values[1]
            ):
                raise error(
                    f"{where}.{kind}", f"needs [low, high] numbers, low < high; got {values!r}"
                )
            if kind == "loguniform" and values[0] <= 0:
                raise error(f"{where}.{kind}", f"needs low > 0, got {values[0]!r}")
            if kind == "randint" and not all(is_int(v) for v in values):
                raise error(f"{where}.{kind}", f"needs integers, got {values!r}")
            for value in values:
                _check_value(config, flat, value, f"{where}.{kind}", error)
            space[flat] = getattr(tune, kind)(*values)

    seeds = data.get("seeds")
    if seeds is not None:
        if not isinstance(seeds, list) or not seeds or not all(is_int(s) for s in seeds):
            raise error("seeds", f"must be a non-empty list of integers, got {seeds!r}")
        if "seed" in space:
            raise error("seeds", "param_space.seed is set too; keep one of them")
        space["seed"] = tune.grid_search(list(seeds))
    return space


def _field_key(key: str, fields: Mapping[str, Any]) -> str | None:
    """The ``to_dict`` key for a param_space key (``x`` or its private ``_x``; dotted ok)."""
    top, dot, rest = key.partition(".")
    for candidate in (top, "_" + top):
        if candidate in fields:
            if dot and not isinstance(fields[candidate], dict):
                return None
            return candidate + dot + rest
    return None


def _check_value(
    config: AlgorithmConfig,
    flat: str,
    value: Any,
    where: str,
    error: Callable[[str, str], TuneConfigError],
) -> None:
    """Validates the config with ``flat = value`` (catches a bad sweep value at load time)."""
    trial = copy.deepcopy(config.to_dict())
    _set_dotted(trial, flat, value)
    try:
        type(config)(algo_class=config.algo_class).update_from_dict(trial).validate()
    except Exception as problem:  # noqa: BLE001
        raise error(where, f"value {value!r}: {_one_line(problem)}") from None


def _set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
        else:
            child = dict(child)
        target[part] = child
        target = child
    target[last] = value


def _stop(value: Any, error: Callable[[str, str], TuneConfigError]) -> dict[str, Any]:
    stop = _mapping(value, "stop", error)
    for key, threshold in stop.items():
        if not is_number(threshold):
            raise error(
                f"stop.{key}", f"must be a number (a result value to reach), got {threshold!r}"
            )
    return dict(stop)


def _resources(value: Any, error: Callable[[str, str], TuneConfigError]) -> dict[str, float] | None:
    if value is None:
        return None
    resources = _mapping(value, "resources", error)
    for key, amount in resources.items():
        if key not in RESOURCE_KEYS:
            hint = _did_you_mean(str(key), RESOURCE_KEYS)
            known = ", ".join(RESOURCE_KEYS)
            raise error(f"resources.{key}", f"unknown key{hint}; known: {known}")
        if not is_number(amount) or amount < 0:
            raise error(f"resources.{key}", f"must be a number >= 0, got {amount!r}")
    return {k: float(v) for k, v in resources.items()}


def _mapping(value: Any, key: str, error: Callable[[str, str], TuneConfigError]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise error(key, f"must be a mapping, got {type(value).__name__} {value!r}")
    return value


def _optional(
    data: Mapping[str, Any], key: str, kind: type, error: Callable[[str, str], TuneConfigError]
) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise error(key, f"must be a {kind.__name__}, got {value!r}")
    return value


def _int(
    data: Mapping[str, Any],
    key: str,
    default: int | None,
    minimum: int,
    error: Callable[[str, str], TuneConfigError],
) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if not is_int(value, minimum):
        raise error(key, f"must be an integer >= {minimum}, got {value!r}")
    return value


def _did_you_mean(name: str, candidates: Any) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _one_line(problem: BaseException) -> str:
    text = " ".join(str(problem).split())
    return text if len(text) <= 400 else text[:399] + "…"


def format_amount(amount: float) -> str:
    """A resource amount as a person writes it: ``4`` for 4.0, ``0.5`` for 0.5."""
    return str(int(amount)) if float(amount).is_integer() else f"{amount:g}"


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return _one_line(error)


def _dict_stopper(stop: dict[str, Any]) -> tune.Stopper:
    """Tune's dict stop criteria as a Stopper (to combine with another stopper)."""
    from ray.tune.stopper import Stopper
    from ray.tune.utils import flatten_dict

    class _DictStopper(Stopper):
        def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
            flat = flatten_dict(result)
            return any(
                key in flat and is_number(flat[key]) and flat[key] >= threshold
                for key, threshold in stop.items()
            )

        def stop_all(self) -> bool:
            return False

    return _DictStopper()
