"""``follow_links``: Follow a chain of links through a procedural link site in the browser."""

from __future__ import annotations

from typing import Any

from envs.minidesk.apps.sites.links import ADJECTIVES, LINK_HOST, NOUNS, link_site, link_url
from envs.minidesk.document import Element
from envs.minidesk.families.forms import form_task, maximize_step
from envs.minidesk.families.layout import TaskGen
from envs.minidesk.widgets import GRID


def generate(g: TaskGen) -> dict[str, Any]:
    """Follow a link of a one-page list (grid levels), or a chain of 1 / 2-3 / 5 links through a
    procedural link site in the browser (easy / medium / hard). Scored by the form's click log
    (grid) or by ``is_expected_active_tab`` on ``active_url_from_accessTree``."""
    rng = g.rng
    if g.grid:
        # A one-click link page on the grid (the form app logs followed links).
        n = 3 if g.level == "grid112" else rng.randint(3, 6)
        names = [f"{a} {b}" for a, b in zip(g.pick(ADJECTIVES, n), g.pick(NOUNS, n))]
        if g.level == "grid112":
            names = [nm.split()[0] for nm in names]
        rows = sorted(g.pick(range(g.h // GRID), n))
        els = [
            Element(
                "link",
                id=f"a{i}",
                text=nm,
                href=f"https://{LINK_HOST}/grid/{i}",
                rect=g.row_rect(r, 0, g.w // GRID),
            )
            for i, (nm, r) in enumerate(zip(names, rows))
        ]
        target = rng.randrange(n)
        return form_task(
            g,
            f"Follow the link '{names[target]}'.",
            els,
            {"clicks": [els[target].href]},
            [{"op": "click", "id": f"a{target}"}],
            field="state",
        )
    depth, fanout = {
        "easy": (1, rng.randint(3, 5)),
        "medium": (rng.randint(2, 3), 3),
        "hard": (5, 3),
    }[g.level]
    seed = rng.randint(0, 10**6)
    nodes = link_site(seed, depth, fanout)
    leaf = ".".join(str(rng.randrange(fanout)) for _ in range(depth))
    path = [leaf[:i] for i in range(1, len(leaf) + 1) if i == len(leaf) or leaf[i] == "."]
    level_key = f"{depth}x{fanout}"
    target = link_url(level_key, seed, leaf)
    titles = [nodes[p] for p in path]
    instruction = (
        f"Open the link '{titles[0]}'."
        if depth == 1
        else "Follow the links " + " > ".join(f"'{t}'" for t in titles) + "."
    )
    return {
        "instruction": instruction,
        "config": [
            {"type": "launch", "parameters": {"command": ["google-chrome"]}},
            {
                "type": "chrome_open_tabs",
                "parameters": {"urls_to_open": [link_url(level_key, seed, "")]},
            },
            {"type": "activate_window", "parameters": {"window_name": "Google Chrome"}},
            maximize_step(),
        ],
        "related_apps": ["chrome"],
        "evaluator": {
            "func": "is_expected_active_tab",
            "result": {"type": "active_url_from_accessTree", "goto_prefix": "https://"},
            "expected": {"type": "rule", "rules": {"type": "url", "url": target}},
        },
        "plan": [
            {
                "op": "links",
                "path": [link_url(level_key, seed, p) for p in path],
                "titles": titles,
            }
        ],
    }
