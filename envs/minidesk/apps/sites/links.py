"""Procedural link sites: seeded trees of pages, for the ``follow_links`` family.

The task is scored by OSWorld's ``is_expected_active_tab`` on the ``active_url_from_accessTree``
getter: the active tab must show the leaf page's URL,
``https://links.minidesk.test/<depth>x<fanout>/<seed>/<node>``.
"""

from __future__ import annotations

import random
from typing import Any

from envs.minidesk.apps.sites.page import Block, Page, PageCtx, blocks_page

LINK_HOST = "links.minidesk.test"
ADJECTIVES = tuple(
    "Amber Brisk Calm Dusty Eager Fuzzy Golden Hidden Ivory Jolly Kind Lunar Misty Noble Olive "
    "Proud Quiet Rapid Silver Tidy".split()
)
NOUNS = tuple(
    "Otter Harbor Meadow Lantern Falcon Canyon Willow Comet Garden Bridge Island Forest Castle "
    "Valley Beacon Orchard River Summit Prairie Glacier".split()
)
"""Page titles are "<adjective> <noun>" (400 of them, shuffled per site)."""


def link_site(seed: int, depth: int, fanout: int) -> dict[str, Any]:
    """A deterministic tree of pages: node ids are paths ("", "0", "0.2", ...), titles unique."""
    rng = random.Random(f"links-{seed}-{depth}-{fanout}")
    names = [f"{a} {n}" for a in ADJECTIVES for n in NOUNS]
    rng.shuffle(names)
    nodes: dict[str, str] = {}
    frontier = [""]
    it = iter(names)
    nodes[""] = "Home"
    for _ in range(depth):
        nxt = []
        for node in frontier:
            for i in range(fanout):
                child = f"{node}.{i}" if node else str(i)
                nodes[child] = next(it)
                nxt.append(child)
        frontier = nxt
    return nodes


def link_url(level_key: str, seed: int, node: str) -> str:
    """The URL of ``node`` ("" is the home page) of site ``seed`` at ``level_key`` ("3x3")."""
    return f"https://{LINK_HOST}/{level_key}/{seed}/{node or 'home'}"


def links_page(ctx: PageCtx, key: str, query: dict[str, str]) -> Page:
    """A page of a link site: its title, Home/Up links and one link per child page."""
    parts = key.split("/")[1:]
    try:
        level_key, seed, node = parts[0], int(parts[1]), parts[2]
        depth, fanout = (int(v) for v in level_key.split("x"))
    except (IndexError, ValueError):
        return blocks_page(ctx, "Not found", [("h1", "404 Not found")])
    node = "" if node == "home" else node
    nodes = link_site(seed, depth, fanout)
    if node not in nodes:
        return blocks_page(ctx, "Not found", [("h1", "404 Not found")])
    children = [
        (nodes[c], link_url(level_key, seed, c))
        for c in nodes
        if c.rpartition(".")[0] == node
        and c != node
        and (c.count(".") == (node.count(".") + 1 if node else 0))
    ]
    blocks: list[Block] = [("h1", nodes[node])]
    if node:
        parent = node.rpartition(".")[0]
        blocks.append(
            (
                "nav",
                [
                    ("Home", link_url(level_key, seed, "")),
                    ("Up", link_url(level_key, seed, parent)),
                ],
            )
        )
    blocks.append(("p", f"You are on the page {nodes[node]}."))
    if children:
        blocks.append(("links", children))
    return blocks_page(ctx, nodes[node], blocks)
