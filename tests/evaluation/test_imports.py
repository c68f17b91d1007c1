"""Layering: evaluation sits below the RLlib glue and imports no Ray at all."""

from __future__ import annotations

import subprocess
import sys

EVALUATION_MODULES = (
    "rllib_arpo.evaluation.envs",
    "rllib_arpo.evaluation.errors",
    "rllib_arpo.evaluation.policies",
    "rllib_arpo.evaluation.records",
    "rllib_arpo.evaluation.report",
    "rllib_arpo.evaluation.run",
    "rllib_arpo.evaluation.selection",
    "rllib_arpo.evaluation.session",
    "rllib_arpo.evaluation.tables",
    "rllib_arpo.rollout.tasks",
)


def _loaded_after_import(modules: tuple[str, ...], probe: str) -> str:
    code = f"import sys, {', '.join(modules)}; print({probe})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_evaluation_and_report_do_not_import_ray() -> None:
    modules = ("rllib_arpo.evaluation.session", "rllib_arpo.evaluation.report")
    assert _loaded_after_import(modules, "'ray' in sys.modules") == "False"


def test_evaluation_and_task_lists_do_not_import_the_rllib_glue() -> None:
    glue = ("rllib_arpo.config", "rllib_arpo.algorithm", "ray.rllib", "ray")
    probe = f"sorted(m for m in {glue!r} if m in sys.modules)"
    assert _loaded_after_import(EVALUATION_MODULES, probe) == "[]"


def test_task_lists_import_nothing_of_evaluation() -> None:
    probe = "sorted(m for m in sys.modules if m.startswith('rllib_arpo.evaluation'))"
    assert _loaded_after_import(("rllib_arpo.rollout.tasks",), probe) == "[]"
