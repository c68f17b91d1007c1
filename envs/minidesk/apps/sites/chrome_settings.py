"""Chrome's settings pages, chrome://flags and chrome://bookmarks, over ``desk.chrome``.

Each control reads its value from the profile (``chrome_profile.ChromeProfile``) when the page is
built and writes it back, through a page script, the moment it changes, as Chrome's settings do.
OSWorld tasks and the getters that read what these pages write (``chrome_evaluators.py``):

- Privacy and security > Third-party cookies > "Do Not Track" (030eeff7, ``enable_do_not_track``);
- Privacy and security > Security > Enhanced protection (9656a811,
  ``enable_enhanced_safety_browsing``);
- Privacy and security > Site settings > On-device site data > delete on close (99146c54,
  ``data_delete_automacally``);
- You and Google > Customize your Chrome profile > name (2ae9ba84, ``profile_name``);
- On startup > Open the New Tab page (3299584d, ``new_startup_page``);
- Search engine (bb5e4c0d, ``default_search_engine``); Appearance > Font size (af630914,
  ``chrome_font_size``);
- chrome://flags (480bcfea, ``enabled_experiments``); chrome://bookmarks > Add new folder
  (2ad9387a, ``bookmarks``);
- Autofill and passwords > Google Password Manager: ``chrome://password-manager/passwords``, the
  saved logins with their passwords hidden (12086550, ``is_expected_active_tab`` on the URL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from envs.minidesk.apps.sites.page import Page, PageCtx, blocks_page, script
from envs.minidesk.apps.urls import CLEAR_DATA_URL, HISTORY_URL
from envs.minidesk.chrome_profile import (
    DEFAULT_FONT_SIZE,
    FLAG_CHOICES,
    FONT_SIZES,
    RESTORE_ON_STARTUP,
    SEARCH_ENGINES,
    SITE_DATA_SETTINGS,
    ChromeProfile,
)
from envs.minidesk.document import Element, Flow

SETTINGS = "chrome://settings/"
BOOKMARKS_URL = "chrome://bookmarks/"
FLAGS_URL = "chrome://flags/"
PASSWORD_MANAGER = "chrome://password-manager/"
PASSWORDS_URL = PASSWORD_MANAGER + "passwords"
SECTIONS = [
    ("You and Google", SETTINGS + "people"),
    ("Autofill and passwords", SETTINGS + "autofill"),
    ("Privacy and security", SETTINGS + "privacy"),
    ("Appearance", SETTINGS + "appearance"),
    ("Search engine", SETTINGS + "search"),
    ("On startup", SETTINGS + "onStartup"),
    ("Languages", SETTINGS + "languages"),
]
"""The settings page's menu: (label, URL)."""
FLAGS = [
    ("chrome-refresh-2023", "Chrome Refresh 2023", "Chrome UI refresh 2023 (the new design)."),
    ("chrome-webui-refresh-2023", "Chrome WebUI Refresh 2023", "Refresh 2023 for WebUI pages."),
    ("smooth-scrolling", "Smooth Scrolling", "Animate smoothly when scrolling page content."),
    ("enable-parallel-downloading", "Parallel downloading", "Speeds up downloads."),
    ("enable-force-dark", "Auto Dark Mode for Web Contents", "Renders web content dark."),
    ("tab-hover-card-images", "Tab Hover Card Images", "Shows a preview image on hover cards."),
]
"""chrome://flags entries: (name, title, description)."""
SAVED_LOGINS = [
    ("amazon.com", "jamie.lee@example.com"),
    ("etsy.com", "jamie.lee@example.com"),
    ("etsy.com", "jlee_crafts"),
    ("github.com", "jlee-dev"),
    ("netflix.com", "jamie.lee@example.com"),
]
"""The password manager's saved logins: (site, username); passwords are hidden."""
SITE_DATA_PREF = "profile.default_content_setting_values.cookies"
STARTUP_PREF = "session.restore_on_startup"
SAFE_BROWSING = [
    ["enhanced", "Enhanced protection"],
    ["standard", "Standard protection"],
    ["none", "No protection (not recommended)"],
]
SITE_DATA = [
    ["allow", "Allow sites to save data on your device"],
    ["delete_on_close", "Delete data sites have saved to your device when you close all windows"],
    ["block", "Don't allow sites to save data on your device"],
]
STARTUP = [
    ["newtab", "Open the New Tab page"],
    ["continue", "Continue where you left off"],
    ["specific", "Open a specific page or set of pages"],
]


def _profile(obj: Any) -> ChromeProfile:
    """The profile of a page context or a browser (both hold the desktop as ``desk``)."""
    return obj.desk.chrome


def _flow(ctx: PageCtx, heading: str, back: str = SETTINGS) -> Flow:
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.add("link", h=t.font_size + 6, text="< Settings", href=back, w=90)
    f.add("heading", h=t.font_size + 8, text=heading)
    return f


def _radios(f: Flow, name: str, choices: list[list[str]], on_change: str) -> None:
    for value, label in choices:
        f.add("radio", name=name, value=value, text=label, on_change=on_change)


def _choice(table: dict[str, Any], stored: Any, default: str) -> str:
    """The radio choice whose stored value (``table[choice]``) is ``stored``."""
    return next((k for k, v in table.items() if v == stored), default)


def _store_choice(browser: Any, doc: Any, el: Element, table: dict[str, Any], path: str) -> None:
    """Store the radio group's choice as ``table[choice]`` at the Preferences ``path``."""
    _profile(browser).set_pref(path, table[doc.values[el.name]])


def settings_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings``: the sections, "Clear browsing data" and History."""
    links = [*SECTIONS, ("Clear browsing data", CLEAR_DATA_URL), ("History", HISTORY_URL)]
    return blocks_page(ctx, "Settings", [("h1", "Settings"), ("links", links)])


def autofill_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/autofill``: Autofill and passwords."""
    links = [
        ("Google Password Manager", PASSWORDS_URL),
        ("Payment methods", SETTINGS + "payments"),
        ("Addresses and more", SETTINGS + "addresses"),
    ]
    blocks = [("h1", "Autofill and passwords"), ("links", links)]
    return blocks_page(ctx, "Settings - Autofill and passwords", blocks)


def payments_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/payments``: no saved cards."""
    blocks = [("h1", "Payment methods"), ("p", "Saved payment methods will appear here.")]
    return blocks_page(ctx, "Settings - Payment methods", blocks)


def addresses_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/addresses``: no saved addresses."""
    blocks = [("h1", "Addresses and more"), ("p", "Saved addresses will appear here.")]
    return blocks_page(ctx, "Settings - Addresses and more", blocks)


def _password_manager(ctx: PageCtx, heading: str, blocks: list) -> Page:
    """A Google Password Manager page: its menu (Passwords, Checkup, Settings), then ``blocks``."""
    nav = [
        ("Passwords", PASSWORDS_URL),
        ("Checkup", PASSWORD_MANAGER + "checkup"),
        ("Settings", PASSWORD_MANAGER + "settings"),
    ]
    return blocks_page(ctx, "Password Manager", [("nav", nav), ("h1", heading), *blocks])


def password_manager_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://password-manager``: the manager's menu only."""
    return _password_manager(ctx, "Google Password Manager", [])


def passwords_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://password-manager/passwords``: the saved logins, passwords hidden."""
    rows = [("p", f"{site}    {user}    ********") for site, user in SAVED_LOGINS]
    return _password_manager(ctx, "Passwords", rows)


def checkup_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://password-manager/checkup``."""
    blocks = [("p", "No compromised passwords found. 2 reused passwords.")]
    return _password_manager(ctx, "Checkup", blocks)


def password_settings_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://password-manager/settings``."""
    blocks = [("p", "Offer to save passwords: on"), ("p", "Sign in automatically: on")]
    return _password_manager(ctx, "Settings", blocks)


def people_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/people``: You and Google."""
    blocks = [("h1", "You and Google")]
    blocks.append(("links", [("Customize your Chrome profile", SETTINGS + "manageProfile")]))
    return blocks_page(ctx, "Settings - You and Google", blocks)


def manage_profile_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/manageProfile``: the profile's name (Enter or Done saves it)."""
    f = _flow(ctx, "Customize your profile", SETTINGS + "people")
    f.add("text", text="Name your profile")
    f.row(
        [
            ("input", None, {"name": "profile_name", "action": "profile_rename"}),
            ("button", 70, {"text": "Done", "action": "profile_rename"}),
        ]
    )
    name = _profile(ctx).pref("profile.name", "")
    return Page("Settings - Customize profile", f.elements, initial={"profile_name": name})


@script
def profile_rename(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """Save the typed profile name (``profile.name``)."""
    name = str(doc.values.get("profile_name", "")).strip()
    if name:
        _profile(browser).set_pref("profile.name", name)


def privacy_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/privacy``: Privacy and security."""
    links = [
        ("Clear browsing data", CLEAR_DATA_URL),
        ("Third-party cookies", SETTINGS + "cookies"),
        ("Security", SETTINGS + "security"),
        ("Site settings", SETTINGS + "content"),
    ]
    blocks = [("h1", "Privacy and security"), ("links", links)]
    return blocks_page(ctx, "Settings - Privacy and security", blocks)


def cookies_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/cookies``: the "Do Not Track" switch (``enable_do_not_track``)."""
    f = _flow(ctx, "Third-party cookies", SETTINGS + "privacy")
    f.text_block("Sites can use cookies to improve your browsing experience.")
    f.add(
        "checkbox",
        name="do_not_track",
        text='Send a "Do Not Track" request with your browsing traffic',
        on_change="set_do_not_track",
    )
    on = bool(_profile(ctx).pref("enable_do_not_track", False))
    return Page("Settings - Third-party cookies", f.elements, initial={"do_not_track": on})


@script
def set_do_not_track(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    _profile(browser).set_pref("enable_do_not_track", bool(doc.values.get(el.name)))


def security_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/security``: Safe Browsing level (``safebrowsing.enhanced``)."""
    f = _flow(ctx, "Security", SETTINGS + "privacy")
    f.add("text", text="Safe Browsing")
    _radios(f, "safe_browsing", SAFE_BROWSING, "set_safe_browsing")
    profile = _profile(ctx)
    level = "standard"
    if profile.pref("safebrowsing.enhanced"):
        level = "enhanced"
    elif profile.pref("safebrowsing.enabled") is False:
        level = "none"
    return Page("Settings - Security", f.elements, initial={"safe_browsing": level})


@script
def set_safe_browsing(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    level = doc.values.get(el.name)
    profile = _profile(browser)
    profile.set_pref("safebrowsing.enabled", level != "none")
    profile.set_pref("safebrowsing.enhanced", level == "enhanced")


def content_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/content``: Site settings."""
    links = [("On-device site data", SETTINGS + "content/siteData")]
    return blocks_page(ctx, "Settings - Site settings", [("h1", "Site settings"), ("links", links)])


def site_data_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/content/siteData``: the default behaviour for sites' data
    (``profile.default_content_setting_values.cookies``)."""
    f = _flow(ctx, "On-device site data", SETTINGS + "content")
    _radios(f, "site_data", SITE_DATA, "set_site_data")
    choice = _choice(SITE_DATA_SETTINGS, _profile(ctx).pref(SITE_DATA_PREF), "allow")
    return Page("Settings - On-device site data", f.elements, initial={"site_data": choice})


@script
def set_site_data(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    _store_choice(browser, doc, el, SITE_DATA_SETTINGS, SITE_DATA_PREF)


def appearance_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/appearance``: font size (``webkit.webprefs.default_font_size``)."""
    f = _flow(ctx, "Appearance")
    f.row(
        [
            ("text", 90, {"text": "Font size"}),
            (
                "select",
                None,
                {"name": "font_size", "options": FONT_SIZES, "on_change": "set_font_size"},
            ),
        ]
    )
    size = _profile(ctx).pref("webkit.webprefs.default_font_size", DEFAULT_FONT_SIZE)
    return Page("Settings - Appearance", f.elements, initial={"font_size": str(size)})


@script
def set_font_size(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    size = int(doc.values.get(el.name) or DEFAULT_FONT_SIZE)
    _profile(browser).set_pref("webkit.webprefs.default_font_size", size)


def search_engine_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/search``: the address bar's search engine
    (``default_search_provider_data.template_url_data.short_name``)."""
    f = _flow(ctx, "Search engine")
    engines = [[name, name] for name in SEARCH_ENGINES]
    f.row(
        [
            ("text", 170, {"text": "Search engine used in the address bar"}),
            ("select", None, {"name": "engine", "options": engines, "on_change": "set_engine"}),
        ]
    )
    name = _profile(ctx).pref("default_search_provider_data.template_url_data.short_name")
    return Page("Settings - Search engine", f.elements, initial={"engine": name or "Google"})


@script
def set_engine(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    _profile(browser).set_search_engine(doc.values.get(el.name) or "Google")


def startup_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/onStartup``: what launching Chrome opens
    (``session.restore_on_startup``, ``session.startup_urls``)."""
    f = _flow(ctx, "On startup")
    _radios(f, "startup", STARTUP, "set_startup")
    profile = _profile(ctx)
    for url in profile.startup_urls():
        f.add("text", text=f"    {url}")
    code = profile.pref(STARTUP_PREF, RESTORE_ON_STARTUP["newtab"])
    return Page(
        "Settings - On startup",
        f.elements,
        initial={"startup": _choice(RESTORE_ON_STARTUP, code, "newtab")},
    )


@script
def set_startup(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    _store_choice(browser, doc, el, RESTORE_ON_STARTUP, STARTUP_PREF)
    tab.refresh(keep_state=True)


def languages_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://settings/languages``: preferred languages for websites (on Linux, Chrome's own
    interface language follows the system and has no setting here)."""
    blocks = [
        ("h1", "Languages"),
        ("p", "Preferred languages: English (United States)"),
        ("p", "Websites will show in your preferred languages, when possible."),
    ]
    return blocks_page(ctx, "Settings - Languages", blocks)


def flags_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://flags/?q=``: the experiments matching the search, each with a Default /
    Enabled / Disabled choice (``browser.enabled_labs_experiments`` of Local State)."""
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="Experiments")
    q = query.get("q", "")
    f.row(
        [
            ("input", None, {"name": "q", "placeholder": "Search flags", "action": "flags_search"}),
            ("button", 70, {"text": "Search", "action": "flags_search"}),
        ]
    )
    profile = _profile(ctx)
    initial: dict[str, Any] = {"q": q}
    for name, title, about in FLAGS:
        if q.lower() not in f"{name} {title} {about}".lower():
            continue
        f.add("text", text=title)
        f.add("text", text=f"{about}  #{name}")
        f.add("select", name=name, options=FLAG_CHOICES, on_change="set_flag", w=120)
        initial[name] = str(profile.flag_choice(name))
    f.add("text", text="Your changes will take effect the next time you relaunch Chrome.")
    return Page("Experiments", f.elements, initial=initial)


def search_in(browser: Any, tab: Any, doc: Any, url: str) -> None:
    """Reload the page at ``url`` with the search box's text as ``?q=`` (none when empty)."""
    q = doc.values.get("q", "")
    browser.navigate(tab, url + (("?" + urlencode({"q": q})) if q else ""))


@script
def flags_search(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    search_in(browser, tab, doc, FLAGS_URL)


@script
def set_flag(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    _profile(browser).set_flag(el.name, int(doc.values.get(el.name) or 0))


def bookmarks_page(ctx: PageCtx, query: dict[str, str]) -> Page:
    """``chrome://bookmarks``: the bookmarks bar's folders and pages (Delete each), and "Add new
    folder" with its name."""
    f = Flow(ctx.width, ctx.theme)
    t = ctx.theme
    f.add("heading", h=t.font_size + 8, text="Bookmarks")
    f.add("text", text="Bookmarks bar")
    for node in _profile(ctx).bookmark_bar():
        label = f"[folder] {node['name']}" if node["type"] == "folder" else node["name"]
        f.row(
            [
                ("text", None, {"text": label}),
                ("button", 60, {"text": "Delete", "name": f"del{node['id']}", "action": "bm_del"}),
            ]
        )
    f.row(
        [
            ("input", None, {"name": "folder", "placeholder": "New folder name"}),
            ("button", 110, {"text": "Add new folder", "action": "bookmark_add_folder"}),
        ]
    )
    return Page("Bookmarks", f.elements)


@script
def bookmark_add_folder(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """Add a folder named as typed ("New folder" when empty) to the bookmarks bar."""
    _profile(browser).add_folder(str(doc.values.get("folder", "")).strip() or "New folder")
    tab.refresh(keep_state=False)


@script
def bm_del(browser: Any, tab: Any, doc: Any, el: Element) -> None:
    """A bookmark's Delete button."""
    _profile(browser).remove_bookmark(el.name[3:])
    tab.refresh(keep_state=False)


SETTINGS_PAGES: dict[str, Callable[[PageCtx, dict[str, str]], Page]] = {
    "settings": settings_page,
    "settings/people": people_page,
    "settings/autofill": autofill_page,
    "settings/payments": payments_page,
    "settings/addresses": addresses_page,
    "password-manager": password_manager_page,
    "password-manager/passwords": passwords_page,
    "password-manager/checkup": checkup_page,
    "password-manager/settings": password_settings_page,
    "settings/manageProfile": manage_profile_page,
    "settings/privacy": privacy_page,
    "settings/cookies": cookies_page,
    "settings/security": security_page,
    "settings/content": content_page,
    "settings/content/siteData": site_data_page,
    "settings/appearance": appearance_page,
    "settings/search": search_engine_page,
    "settings/onStartup": startup_page,
    "settings/languages": languages_page,
    "flags": flags_page,
    "bookmarks": bookmarks_page,
}
"""``chrome://<name>`` builders of this module (merged into ``chrome.CHROME_PAGES``)."""
