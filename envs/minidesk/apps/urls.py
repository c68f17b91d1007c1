"""Browser URLs: Chrome's own pages, what the address bar shows, what typing in it opens.

Shared by the browser (``browser.py``) and the pages of the site catalogue (``sites/``), which
both navigate; neither imports the other for these.
"""

from __future__ import annotations

from urllib.parse import ParseResult, urlencode, urlparse, urlunparse

NEW_TAB_URL = "chrome://newtab/"
HISTORY_URL = "chrome://history/"
SETTINGS_URL = "chrome://settings/"
CLEAR_DATA_URL = "chrome://settings/clearBrowserData"
SEARCH_URL = "https://www.google.com/search"


def display_url(url: str) -> str:
    """The address bar text Chrome shows when not editing: no scheme, no ``www.``."""
    if url.startswith("chrome://"):
        return url
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            url = url[len(scheme) :]
            break
    url = url.removeprefix("www.")
    if url.endswith("/") and url.count("/") == 1:
        url = url[:-1]
    return url


def normalize_typed_url(text: str) -> str:
    """What Enter in the address bar opens: a URL as typed, a bare host over https, else a
    Google search for the text (an empty bar opens a new tab page)."""
    text = text.strip()
    if not text:
        return NEW_TAB_URL
    if text.startswith(("http://", "https://", "chrome://")):
        return text
    if " " not in text and "." in text:
        return "https://" + text
    return f"{SEARCH_URL}?" + urlencode({"q": text})


def compare_urls(url1: str | None, url2: str | None, full: bool = True) -> bool:
    """OSWorld's URL normalization: scheme default http, lower-case host without ``www.``,
    ``/`` path dropped."""
    if url1 is None or url2 is None:
        return url1 == url2

    def norm(url: str) -> str:
        p = urlparse(url)
        scheme = (p.scheme or "http").lower()
        netloc = p.netloc.lower().replace("www.", "")
        path = p.path if p.path != "/" else ""
        return urlunparse(
            ParseResult(
                scheme,
                netloc,
                path,
                p.params if full else "",
                p.query if full else "",
                p.fragment if full else "",
            )
        )

    return norm(url1) == norm(url2)
