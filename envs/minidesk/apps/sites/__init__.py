"""The browser's site catalogue: look-alike pages, as data, for the sites the tasks need.

``build_page(url, ctx)`` makes the page of a URL: static pages (``STATIC_PAGES``, block lists,
see ``page.py``) are keyed by host/path (scheme, ``www.`` and trailing slash ignored); dynamic
pages (forms, search results, browser history, the procedural link sites) are small builders
keyed by host/path prefix (``catalogue.DYNAMIC``). ``run_script`` runs the page scripts their
buttons and pickers name.

One module per site, each saying which OSWorld task, evaluator func and getter read it:
``seatgeek`` (``is_expected_url_pattern_match`` / ``active_tab_info``), ``apple``
(``is_expected_active_tab`` / ``active_url_from_accessTree``), ``ryanair``
(``check_direct_json_object`` / ``active_tab_url_parse``), ``delta``
(``check_direct_json_object`` / ``active_tab_html_parse``), ``chrome`` (``check_history_deleted``
/ ``history``), ``links`` (the ``follow_links`` family), ``google`` and ``generic`` (distractors);
for OSWorld's Chrome domain also ``chrome_settings`` (settings, flags, bookmarks, password
manager), ``profile_sites``, the link-only sites (``drugs``, ``babycenter``, ``justice``,
``dmv_virginia``, ``flightaware``, ``nfl``, ``united``; ``sitemap``) and the form sites (``cars``,
``kohls``, ``macys``, ``qatar``), each module naming its task and evaluator.
"""

from envs.minidesk.apps.sites.catalogue import DYNAMIC, build_page, canonical, run_script
from envs.minidesk.apps.sites.delta import DELTA_AIRPORTS
from envs.minidesk.apps.sites.links import ADJECTIVES, LINK_HOST, NOUNS, link_site, link_url
from envs.minidesk.apps.sites.page import Block, Page, PageCtx, blocks_page, script
from envs.minidesk.apps.sites.static import STATIC_PAGES

__all__ = [
    "ADJECTIVES",
    "DELTA_AIRPORTS",
    "DYNAMIC",
    "LINK_HOST",
    "NOUNS",
    "STATIC_PAGES",
    "Block",
    "Page",
    "PageCtx",
    "blocks_page",
    "build_page",
    "canonical",
    "link_site",
    "link_url",
    "run_script",
    "script",
]
