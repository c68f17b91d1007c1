"""``STATIC_PAGES``: every static page of the catalogue, by host/path key (see ``canonical``)."""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites.apple import PAGES as APPLE_PAGES
from envs.minidesk.apps.sites.generic import PAGES as GENERIC_PAGES
from envs.minidesk.apps.sites.seatgeek import PAGES as SEATGEEK_PAGES

STATIC_PAGES: dict[str, dict[str, Any]] = {**SEATGEEK_PAGES, **APPLE_PAGES, **GENERIC_PAGES}
"""Key -> ``{"title", "blocks", "bg"?}`` (order: what the search page lists first)."""
