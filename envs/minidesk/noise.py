"""Noisy twins: the same task (instruction and evaluator unchanged) with distractions added.

``make_noisy_twin(task, seed)`` appends setup steps of the kinds the seed's noisy tasks use
(decoy tabs opened after the real ones, so a decoy is the active tab; fake browsing history)
plus MiniDesk ones (a modal pop-up dialog; inert distractor widgets in form tasks).
Deterministic in (task, seed, level). The twin records what was added under ``noise_meta``.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from envs.minidesk.widgets import text_width

DECOY_URLS = (
    "https://ads.example.com/tracker?campaign=summer_sale",
    "https://www.example.com/unrelated-page",
    "https://www.example.com/news",
    "https://www.example.com/weather",
    "https://ads.example.com/banner?session=abc123",
)
FAKE_HISTORY = (
    ("https://www.example.com/", "Example Domain"),
    ("https://ads.example.com/banner", "Ad Banner"),
    ("https://www.weather.com/", "Weather"),
    ("https://www.bbc.co.uk/", "BBC"),
    ("https://www.cnn.com/", "CNN"),
)
POPUPS = (
    (
        "Software Updater",
        "Updated software is available for this computer.",
        ["Remind me later", "Install now"],
    ),
    ("Notification", "Your storage is almost full.", ["Dismiss"]),
    ("Network", "Connected to Wi-Fi network 'Office'.", ["OK"]),
)
NOISE_LEVELS = ("light", "heavy")


def _uses_browser(task: dict[str, Any]) -> bool:
    apps = " ".join(task.get("related_apps", []))
    return "chrome" in apps or any(s["type"].startswith("chrome") for s in task["config"])


def make_noisy_twin(task: dict[str, Any], seed: int, level: str = "light") -> dict[str, Any]:
    """A copy of ``task`` with distractions; its instruction and evaluator are unchanged.

    Args:
        task: An OSWorld-schema task dict.
        seed: Noise seed (same seed, same twin).
        level: "light" (one or two distractions) or "heavy" (all kinds that apply).
    """
    if level not in NOISE_LEVELS:
        raise ValueError(f"level must be one of {NOISE_LEVELS}, got {level!r}")
    rng = random.Random(f"noise/{task['id']}/{seed}/{level}")
    twin = copy.deepcopy(task)
    added: list[str] = []
    heavy = level == "heavy"
    if _uses_browser(task):
        if heavy or rng.random() < 0.8:
            urls = rng.sample(DECOY_URLS, rng.randint(1, 3))
            twin["config"].append(
                {"type": "chrome_open_tabs", "parameters": {"urls_to_open": urls}}
            )
            added.append("decoy_tabs")
        if heavy or rng.random() < 0.5:
            history = [
                {"url": u, "title": t, "visit_time_from_now_in_seconds": rng.randint(60, 20000)}
                for u, t in rng.sample(FAKE_HISTORY, rng.randint(2, 4))
            ]
            twin["config"].append(
                {"type": "update_browse_history", "parameters": {"history": history}}
            )
            added.append("fake_history")
    form_step = next(
        (
            s
            for s in twin["config"]
            if s["type"] == "minidesk_app_state" and s["parameters"]["app"] == "form"
        ),
        None,
    )
    size = twin.get("minidesk", {}).get("screen_size")
    if (
        form_step is not None
        and (heavy or rng.random() < 0.6)
        and _add_distractors(form_step["parameters"]["state"], rng, size)
    ):
        added.append("distractor_widgets")
    if heavy or rng.random() < 0.5 or not added:
        title, text, buttons = rng.choice(POPUPS)
        twin["config"].append(
            {
                "type": "minidesk_dialog",
                "parameters": {"title": title, "text": text, "buttons": buttons},
            }
        )
        added.append("popup")
    twin["noise_meta"] = {
        "generated_by": "envs.minidesk.noise",
        "seed": seed,
        "noise_level": level,
        "added": added,
    }
    return twin


def _add_distractors(state: dict[str, Any], rng: random.Random, size: list[int] | None) -> bool:
    """Inert labels/buttons (no action, no state) in free space of a form; False if no room."""
    if not size or size[1] <= 224:
        return False
    w, h = size
    taken = [e["rect"] for e in state["elements"] if e.get("kind") != "dialog"]
    added = 0
    for label in rng.sample(["Advertisement", "Sponsored", "Tip of the day", "Promo"], 2):
        bw, bh = text_width(label, 11) + 16, 22
        for _ in range(100):
            x, y = rng.randint(4, w - bw - 4), rng.randint(4, h - bh - 4)
            rect = [x, y, x + bw, y + bh]
            if all(
                rect[2] + 8 <= t[0]
                or t[2] + 8 <= rect[0]
                or rect[3] + 8 <= t[1]
                or t[3] + 8 <= rect[1]
                for t in taken
            ):
                state["elements"].append(
                    {
                        "kind": "image",
                        "id": f"noise{added}",
                        "text": label,
                        "color": "gray",
                        "rect": rect,
                    }
                )
                taken.append(rect)
                added += 1
                break
    return added > 0
