"""Repository invariants: CI runs the README's test command; core stays free of Ray."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set-up: tests in one command", 1)[1].split("\n## ", 1)[0]
    (test_command,) = re.findall(r"```bash\n(.*?)\n```", section, re.S)
    assert test_command in (ROOT / ".ci" / "run").read_text()
    script = (ROOT / test_command.split()[-1]).read_text()  # bash scripts/test_all.sh
    for step in (".venv/bin/ruff check .", ".venv/bin/pytest\n", "vllm_cpu_venv.sh",
                 ".venv-vllm/bin/pytest -m vllm"):  # fmt: skip
        assert step in script, step


def test_core_does_not_import_ray() -> None:
    code = (
        "import sys, importlib, pkgutil, rllib_arpo.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__): importlib.import_module(f'rllib_arpo.core.{m.name}')\n"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
