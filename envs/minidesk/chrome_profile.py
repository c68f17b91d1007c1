"""Chrome's profile on the desktop: Preferences, Local State, Bookmarks and Cookies.

Kept on the ``Desktop`` (``desk.chrome``), not on the browser window, because Chrome keeps them in
files under ``~/.config/google-chrome`` that outlive the browser: OSWorld's postconfig steps kill
and relaunch Chrome before the getters read them. The data keeps Chrome's own JSON shapes and
keys, so that the getters (``chrome_evaluators.py``) read the keys OSWorld's getters read:

- ``preferences``: ``Default/Preferences`` (``enable_do_not_track``, ``safebrowsing.enhanced``,
  ``session.restore_on_startup``, ``profile.name``, ``profile.default_content_setting_values``,
  ``default_search_provider_data.template_url_data.short_name``, ``webkit.webprefs``,
  ``extensions.settings``);
- ``local_state``: ``Local State`` (``browser.enabled_labs_experiments``, ``intl.app_locale``);
- ``bookmarks``: the ``roots`` of ``Default/Bookmarks``;
- ``cookies``: the rows of the ``Default/Cookies`` database.

The settings pages (``apps/sites/chrome_settings.py``) and the browser write them as Chrome does.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CHROME_CONFIG = "/home/user/.config/google-chrome"
"""Where Chrome keeps the profile on OSWorld's Ubuntu image."""
DEFAULT_PROFILE_NAME = "Person 1"
"""The name of a fresh profile."""
DEFAULT_FONT_SIZE = 16
"""``webkit.webprefs.default_font_size`` of a fresh profile (Medium)."""
FONT_SIZES = [
    ["9", "Very small"],
    ["12", "Small"],
    ["16", "Medium (Recommended)"],
    ["20", "Large"],
    ["24", "Very large"],
]
"""Settings > Appearance > Font size: [pixels, label]."""
SEARCH_ENGINES = {
    "Google": ("google.com", "https://www.google.com/search?q={searchTerms}"),
    "Bing": ("bing.com", "https://www.bing.com/search?q={searchTerms}"),
    "Yahoo!": ("yahoo.com", "https://search.yahoo.com/search?p={searchTerms}"),
    "DuckDuckGo": ("duckduckgo.com", "https://duckduckgo.com/?q={searchTerms}"),
    "Ecosia": ("ecosia.org", "https://www.ecosia.org/search?q={searchTerms}"),
}
"""Settings > Search engine: short name -> (keyword, URL template)."""
RESTORE_ON_STARTUP = {"newtab": 5, "continue": 1, "specific": 4}
"""Settings > On startup: choice -> ``session.restore_on_startup`` (5 is the New Tab page)."""
SITE_DATA_SETTINGS = {"allow": None, "delete_on_close": 4, "block": 2}
"""Settings > Site settings > On-device site data: choice -> the ``cookies`` content setting
(None: the default, no entry)."""
FLAG_CHOICES = [["0", "Default"], ["1", "Enabled"], ["2", "Disabled"]]
"""chrome://flags choices of an on/off flag; a non-default choice is stored as ``name@index``."""

_JQ_MERGE = re.compile(
    r"cd\s+(?P<dir>\S+)\s*&&\s*jq\s+'\.\s*\+\s*(?P<obj>\{.*\})'\s+Preferences\s*>\s*(?P<tmp>\S+)"
    r"\s*&&\s*mv\s+(?P=tmp)\s+Preferences\s*$",
    re.DOTALL,
)


def _fresh_bookmarks() -> dict[str, Any]:
    def folder(name: str) -> dict[str, Any]:
        return {"children": [], "name": name, "type": "folder"}

    return {
        "bookmark_bar": folder("Bookmarks bar"),
        "other": folder("Other bookmarks"),
        "synced": folder("Mobile bookmarks"),
    }


@dataclass
class Cookie:
    """One row of Chrome's ``cookies`` table (the columns the getters read, in its order)."""

    creation_utc: float
    """Seconds since the epoch (virtual clock)."""
    host_key: str
    """The cookie's domain, e.g. ``.amazon.com``."""
    name: str
    value: str = "1"
    path: str = "/"

    def row(self) -> tuple[float, str, str, str, str]:
        return (self.creation_utc, self.host_key, self.name, self.value, self.path)


@dataclass
class ChromeProfile:
    """The files of Chrome's Default profile, as JSON-like data (see the module docstring)."""

    preferences: dict[str, Any] = field(
        default_factory=lambda: {"profile": {"name": DEFAULT_PROFILE_NAME}}
    )
    local_state: dict[str, Any] = field(default_factory=dict)
    bookmarks: dict[str, Any] = field(default_factory=_fresh_bookmarks)
    cookies: list[Cookie] = field(default_factory=list)
    next_bookmark_id: int = 1

    # ------------------------------------------------------------------ Preferences
    def pref(self, path: str, default: Any = None) -> Any:
        """The Preferences value at a dotted ``path`` (``"safebrowsing.enhanced"``)."""
        node: Any = self.preferences
        for key in path.split("."):
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    def set_pref(self, path: str, value: Any) -> None:
        """Set the Preferences value at a dotted ``path``; None removes it (and empty parents),
        as Chrome drops a setting that is back to its default."""
        keys = path.split(".")
        chain = [self.preferences]
        for key in keys[:-1]:
            chain.append(chain[-1].setdefault(key, {}))
        if value is not None:
            chain[-1][keys[-1]] = value
            return
        chain[-1].pop(keys[-1], None)
        for parent, key, node in zip(
            reversed(chain[:-1]), reversed(keys[:-1]), reversed(chain[1:])
        ):
            if not node:
                parent.pop(key, None)

    def run_shell(self, command: str) -> bool:
        """Emulate the one shell edit of Preferences OSWorld's task files make: ``cd
        <profile dir> && jq '. + {...}' Preferences > tmp && mv tmp Preferences`` merges the
        object's top-level keys into Preferences. Returns whether ``command`` was that edit."""
        m = _JQ_MERGE.search(command)
        if m is None or not m.group("dir").rstrip("/").endswith("google-chrome/Default"):
            return False
        obj = json.loads(m.group("obj"))
        if not isinstance(obj, dict):
            return False
        self.preferences.update(copy.deepcopy(obj))
        return True

    def startup_urls(self) -> list[str]:
        """The pages Chrome opens when launched ("Open a specific page or set of pages")."""
        if self.pref("session.restore_on_startup") != RESTORE_ON_STARTUP["specific"]:
            return []
        return [str(u) for u in self.pref("session.startup_urls", []) or []]

    def set_search_engine(self, short_name: str) -> None:
        keyword, url = SEARCH_ENGINES[short_name]
        self.set_pref(
            "default_search_provider_data.template_url_data",
            {"short_name": short_name, "keyword": keyword, "url": url},
        )

    # ------------------------------------------------------------------ Local State
    def enabled_experiments(self) -> list[str]:
        return list(self.local_state.get("browser", {}).get("enabled_labs_experiments", []))

    def set_flag(self, name: str, choice: int) -> None:
        """chrome://flags: ``choice`` 0 (Default) removes the flag, else ``name@choice``; Chrome
        keeps the list sorted."""
        kept = [e for e in self.enabled_experiments() if e.split("@")[0] != name]
        if choice:
            kept.append(f"{name}@{choice}")
        self.local_state.setdefault("browser", {})["enabled_labs_experiments"] = sorted(kept)

    def flag_choice(self, name: str) -> int:
        for entry in self.enabled_experiments():
            flag, _, choice = entry.partition("@")
            if flag == name:
                return int(choice or 0)
        return 0

    # ------------------------------------------------------------------ Bookmarks
    def bookmark_bar(self) -> list[dict[str, Any]]:
        return self.bookmarks["bookmark_bar"]["children"]

    def _node(self, **node: Any) -> dict[str, Any]:
        node["id"] = str(self.next_bookmark_id)
        self.next_bookmark_id += 1
        return node

    def add_bookmark(self, url: str, name: str) -> None:
        """Ctrl+D: the page goes to the end of the bookmarks bar (once)."""
        if not any(b.get("url") == url for b in self.bookmark_bar()):
            self.bookmark_bar().append(self._node(type="url", name=name or url, url=url))

    def add_folder(self, name: str) -> None:
        """Bookmark manager > Add new folder, on the bookmarks bar."""
        self.bookmark_bar().append(self._node(type="folder", name=name, children=[]))

    def remove_bookmark(self, node_id: str) -> None:
        bar = self.bookmarks["bookmark_bar"]
        bar["children"] = [b for b in bar["children"] if b["id"] != node_id]

    # ------------------------------------------------------------------ Cookies
    def set_cookies(self, url: str, names: tuple[str, ...], now: float) -> None:
        """A site at ``url`` stores the cookies ``names`` on its domain (``.host``, no ``www.``)."""
        host = urlsplit(url).netloc.lower().removeprefix("www.")
        domain = "." + host
        for name in names:
            self.cookies = [c for c in self.cookies if (c.host_key, c.name) != (domain, name)]
            self.cookies.append(Cookie(now, domain, name))

    def delete_cookies(self, since: float, domain: str | None = None) -> None:
        """Delete the cookies created at or after ``since`` (of ``domain`` only, when given)."""
        self.cookies = [
            c
            for c in self.cookies
            if c.creation_utc < since or (domain is not None and c.host_key != domain)
        ]
