"""Orchestration the ``arpo`` commands call: ``demo`` (README command 1) and ``warmstart``.

Recipes take plain settings, report through callbacks and return results; they print nothing and
import no click. ``SettingError`` is their one error type for a setting a user can fix.
"""

from __future__ import annotations


class SettingError(ValueError):
    """A recipe setting that cannot be used; the message names the bad value and the choices.

    Attributes:
        setting: The setting's name (``"families"``, ``"rl_families"``, ...), for the caller to
            point at (a CLI shows it as ``--families``).
    """

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting
