"""The package's layers, enforced: who may import whom, and no import circles.

Read statically with ``ast`` (imports inside functions count too, so a lazy import cannot hide an
upward arrow). The layers, top to bottom (docs/architecture.md draws them):

    cli/                      click: parse flags, call one function, print
    recipes/, launch/         orchestration (demo, warm start) and the generic rllib train/tune
    glue (top-level modules)  config, algorithm, learner, module, env_runner, episodes, callbacks,
                              registration: the only modules besides launch/ that import ray.rllib
    evaluation/               eval runs, eval policies, tables, selection, report
    rollout/, outputs/        the group rollout loop and task lists; episode logs and drawings
    policy/                   the HF model: load, generate, log-probs, LoRA, export
    core/                     pure logic: actions, coords, reward, advantages, loss, replay, ...
    envs/ (beside)            environments: import only core.actions, core.coords, core.images
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rllib_arpo", "envs")
FOLDERS = ("core", "policy", "outputs", "rollout", "evaluation", "recipes", "launch", "cli")

MAY_IMPORT = {
    "core": {"core"},
    "policy": {"core", "policy"},
    "outputs": {"core", "outputs"},
    "rollout": {"core", "policy", "rollout"},
    "evaluation": {"core", "policy", "outputs", "rollout", "evaluation", "envs"},
    "glue": {"core", "policy", "outputs", "rollout", "glue", "envs"},
    "launch": {"core", "policy", "outputs", "rollout", "glue", "launch", "envs"},
    "recipes": {"core", "policy", "outputs", "rollout", "evaluation", "glue", "launch", "recipes"}
    | {"envs"},
    "cli": {"core", "policy", "outputs", "rollout", "evaluation", "glue", "launch", "recipes"}
    | {"cli", "envs"},
}
"""Layer -> the layers its modules may import (arrows point down only)."""

ENVS_MAY_IMPORT = {"rllib_arpo.core.actions", "rllib_arpo.core.coords", "rllib_arpo.core.images"}
"""Environments interpret actions, map coordinates and encode screenshots; nothing else of ours."""

NO_RAY = ("core", "policy", "outputs", "rollout", "evaluation", "cli")
"""Layers that import no ``ray`` at all (the CLI never starts Ray: a recipe or launch/ does)."""
RAY_RLLIB_ONLY_IN = ("glue", "launch")
NO_TRANSFORMERS = ("core",)

ALLOWED_CIRCLES = {frozenset({"rllib_arpo.config", "rllib_arpo.algorithm"})}
"""RLlib's pattern: ``ARPOConfig.__init__`` names its ``algo_class`` (ARPO, imported lazily) so
that ``ARPOConfig().build_algo()`` works, and ``ARPO.get_default_config`` returns an ARPOConfig.
RLlib keeps both in one file (ppo.py); here they are two files and this pair is the one circle."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = all_modules()


def imported_names(path: Path) -> set[str]:
    """Every module name an import statement of the file names (relative ones resolved)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in MODULES else base)
    return names


def own_module(name: str) -> str | None:
    """The module of this repo that an imported name lands in (None: a third-party name)."""
    while name not in MODULES:
        if "." not in name:
            return None
        name = name.rpartition(".")[0]
    return name


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "envs":
        return "envs"
    if len(parts) > 1 and parts[1] in FOLDERS:
        return parts[1]
    return "glue"


GRAPH = {
    module: {
        own for name in imported_names(path) if (own := own_module(name)) not in (None, module)
    }
    for module, path in MODULES.items()
}
THIRD_PARTY = {
    module: {name for name in imported_names(path) if own_module(name) is None}
    for module, path in MODULES.items()
}


def arrows(
    edges: dict[str, set[str]], source: Callable[[str], bool], bad: Callable[[str], bool]
) -> list[str]:
    """``"module -> name"`` for each import of a module where ``source(module)`` that is bad."""
    return sorted(
        f"{module} -> {name}"
        for module, names in edges.items()
        if source(module)
        for name in names
        if bad(name)
    )


def under(package: str) -> Callable[[str], bool]:
    """Whether a dotted name is ``package`` or inside it."""
    return lambda name: name == package or name.startswith(package + ".")


def test_the_walk_sees_the_layers() -> None:
    assert {layer(m) for m in MODULES} == set(MAY_IMPORT) | {"envs"}
    assert "rllib_arpo.core.loss" in GRAPH["rllib_arpo.learner"]
    assert "rllib_arpo.algorithm" in GRAPH["rllib_arpo.config"]  # a lazy import counts
    assert "torch" in THIRD_PARTY["rllib_arpo.core.loss"]


@pytest.mark.parametrize("source_layer", sorted(MAY_IMPORT))
def test_arrows_point_down(source_layer: str) -> None:
    allowed = MAY_IMPORT[source_layer]
    upward = arrows(GRAPH, lambda m: layer(m) == source_layer, lambda t: layer(t) not in allowed)
    assert not upward, f"{source_layer}/ may import only {sorted(allowed)}"


def test_envs_import_only_actions_coords_and_images() -> None:
    reaching = arrows(
        GRAPH,
        lambda m: layer(m) == "envs",
        lambda t: layer(t) != "envs" and t not in ENVS_MAY_IMPORT,
    )
    assert not reaching


@pytest.mark.parametrize("source_layer", NO_RAY)
def test_layers_without_ray(source_layer: str) -> None:
    assert not arrows(THIRD_PARTY, lambda m: layer(m) == source_layer, under("ray"))


def test_only_the_glue_and_launch_import_ray_rllib() -> None:
    assert not arrows(THIRD_PARTY, lambda m: layer(m) not in RAY_RLLIB_ONLY_IN, under("ray.rllib"))


def test_core_imports_no_transformers() -> None:
    assert not arrows(THIRD_PARTY, lambda m: layer(m) in NO_TRANSFORMERS, under("transformers"))


def test_an_upward_import_would_be_caught() -> None:
    fake = {"rllib_arpo.core.loss": {"rllib_arpo.algorithm"}}
    assert arrows(fake, lambda m: layer(m) == "core", lambda t: layer(t) not in MAY_IMPORT["core"])
    assert arrows({"rllib_arpo.core.x": {"ray.rllib.core"}}, lambda m: True, under("ray"))
    assert not arrows({"rllib_arpo.core.x": {"rayon"}}, lambda m: True, under("ray"))


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's components with more than one module (each is an import circle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_import_circles() -> None:
    circles = [c for c in strongly_connected(GRAPH) if frozenset(c) not in ALLOWED_CIRCLES]
    assert not circles, [sorted(c) for c in circles]


def test_the_circle_finder_finds_a_circle() -> None:
    graph = defaultdict(set, {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    graph.update({"e": set()})
    assert strongly_connected(dict(graph)) == [{"a", "b", "c"}]
