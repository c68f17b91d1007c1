"""rllib_arpo/policy/ never imports Ray (only rllib_arpo/module.py does)."""

from __future__ import annotations

import subprocess
import sys

POLICY_MODULES = [
    "conversation",
    "export",
    "generate",
    "load",
    "logprobs",
    "lora",
    "memory",
    "model",
    "processor",
    "tiny",
]


def test_policy_package_does_not_import_ray():
    imports = "; ".join(f"import rllib_arpo.policy.{name}" for name in POLICY_MODULES)
    code = (
        f"import sys; {imports}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'ray'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
