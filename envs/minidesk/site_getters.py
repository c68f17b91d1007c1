"""OSWorld getters that read the URL of the active tab in parts (the site-visiting tasks).

Registered into ``evaluators.GETTERS`` on import (``tasks.py`` imports this module, so every
loaded task sees them).
"""

from __future__ import annotations

from typing import Any

from envs.minidesk.desktop import Desktop
from envs.minidesk.evaluators import get_active_url_from_accessTree, getter


def url_dash_part(url: str, config: dict[str, Any]) -> str | dict[str, str]:
    """OSWorld's ``get_url_dashPart`` on ``url``: the ``partIndex``-th "/"-separated part, its
    query cut when ``needDeleteId``; ``returnType`` "string" gives it, "json" ``{key: part}``.

    Raises:
        ValueError: ``returnType`` is neither "string" nor "json".
    """
    part = url.split("/")[config["partIndex"]]
    if config.get("needDeleteId"):
        part = part.split("?")[0]
    kind = config["returnType"]
    if kind == "string":
        return part
    if kind == "json":
        return {config["key"]: part}
    raise ValueError(f"returnType must be 'string' or 'json', got {kind!r}")


@getter("url_dashPart")
def get_url_dashPart(desk: Desktop, config: dict[str, Any]) -> str | dict[str, str] | None:
    """OSWorld getter ``url_dashPart``: ``url_dash_part`` of ``active_url_from_accessTree``'s
    URL; None without a browser tab."""
    url = get_active_url_from_accessTree(desk, config)
    return None if url is None else url_dash_part(url, config)
