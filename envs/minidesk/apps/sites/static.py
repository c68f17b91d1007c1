"""``STATIC_PAGES``: every static page of the catalogue, by host/path key (see ``canonical``)."""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites import (
    babycenter,
    dmv_virginia,
    drugs,
    flightaware,
    justice,
    nfl,
    united,
)
from envs.minidesk.apps.sites.apple import PAGES as APPLE_PAGES
from envs.minidesk.apps.sites.generic import PAGES as GENERIC_PAGES
from envs.minidesk.apps.sites.profile_sites import PAGES as PROFILE_PAGES
from envs.minidesk.apps.sites.seatgeek import PAGES as SEATGEEK_PAGES

SITE_MAPS = (drugs, babycenter, dmv_virginia, flightaware, nfl, united, justice)
"""Site-map modules (``sitemap.site_pages``) of the site-visiting OSWorld tasks."""

STATIC_PAGES: dict[str, dict[str, Any]] = {
    **SEATGEEK_PAGES,
    **APPLE_PAGES,
    **GENERIC_PAGES,
    **PROFILE_PAGES,
    **{key: spec for site in SITE_MAPS for key, spec in site.PAGES.items()},
}
"""Key -> ``{"title", "blocks", "bg"?}`` (order: what the search page lists first)."""

SITE_MAP_HOSTS = frozenset(key.split("/", 1)[0] for site in SITE_MAPS for key in site.PAGES)
"""Hosts of the site maps: the scripted expert finds its way through them by links."""
