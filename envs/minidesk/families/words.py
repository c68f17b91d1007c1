"""Vocabularies of the procedural families: labels, words to type, option sets, pop-up texts.

Changing a list changes every task drawn from it (and the seeds' meaning): append, never reorder.
Lists are written as one string, split on spaces (or on ", " where entries hold spaces).
"""

from __future__ import annotations

from envs.minidesk.dates import MONTH_FULL
from envs.minidesk.widgets import PALETTE

BUTTON_WORDS = tuple(
    "Apply Cancel Save Delete Next Back Submit Reset Open Close Print Share Edit Copy Paste Undo "
    "Help Send Search Export Import Upload Refresh Archive Rename Move".split()
)
CHECK_WORDS = tuple(
    "Wi-Fi, Bluetooth, Dark mode, Alerts, Auto-update, Location, Sync, Backup, Sounds, Vibration, "
    "Hotspot, Night light, Captions, Cookies".split(", ")
)
FIELD_WORDS = tuple("Name Email City Phone Company Username Country Street".split())
TYPE_WORDS = tuple(
    "apple river cobalt maple orbit pixel tango zebra lemon harbor quartz violet falcon copper "
    "meadow sierra".split()
)
SELECT_SETS = {
    "Size": tuple("Small Medium Large X-Large XX-Large Tiny Huge Petite".split()),
    "Color": tuple("Red Green Blue Black White Yellow Purple Orange".split()),
    "Fruit": tuple("Apple Banana Cherry Grape Kiwi Lemon Mango Peach".split()),
    "Country": tuple(
        "Austria Belgium Canada Denmark Egypt France Ghana Hungary India Japan Kenya Mexico Norway "
        "Peru Spain Togo".split()
    ),
    "Month": tuple(MONTH_FULL.values()),
}
TAB_WORDS = tuple("General Privacy Display Sound Network Storage Accounts About".split())
LIST_WORDS = tuple(
    "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliet Kilo Lima Mike November Oscar "
    "Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey Xray Yankee Zulu".split()
)
SLIDER_WORDS = tuple("Volume Brightness Contrast Speed Zoom Balance Bass Treble".split())
POPUP_TEXTS = (
    "Subscribe to our newsletter?",
    "Allow notifications from this site?",
    "A new version is available.",
    "We use cookies to improve your experience.",
)
TITLES = tuple("Settings, Control panel, Order form, Preferences, Dashboard, Account".split(", "))
COLOURS = tuple(PALETTE)
