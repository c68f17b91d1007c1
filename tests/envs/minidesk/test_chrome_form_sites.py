"""OSWorld's Chrome tasks on the form sites (kohls.com, qatarairways.com, macys.com): the expert
solves each task file, DONE and FAIL score 0; the sites' URLs are built as the real ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from minidesk_helpers import FIXED_NOW, run_expert

from envs.minidesk import MiniDeskEnv
from envs.minidesk.apps.sites.kohls import catalog_url, parse_catalog
from envs.minidesk.apps.sites.macys import category_url, parse_category
from envs.minidesk.form_site_expert import kohls_goal
from envs.minidesk.tasks import TaskSet

CHROME = Path(__file__).resolve().parents[3] / "test_data" / "osworld_chrome"
FORM_TASKS = [
    "cabb3bae-cccb-41bd-9f5d-0f3a9fecd825",  # kohls.com: spider-man toys, kids, lowest price
    "82bc8d6a-36eb-4d2d-8801-ef714fb1e55a",  # qatarairways.com: Mumbai to Stockholm next Monday
    "2888b4e6-5b47-4b57-8bf5-c73827890774",  # macys.com: men's striped T-shirt, L, on sale
]


TASKS = TaskSet(CHROME)


def _answer_score(env: MiniDeskEnv, task_id: str, answer: str) -> float:
    env.reset(options={"task": TASKS[task_id]})
    return env.step(answer)[1]


@pytest.mark.parametrize("task_id", FORM_TASKS)
def test_expert_solves_and_doing_nothing_scores_zero(task_id: str) -> None:
    env = MiniDeskEnv(screen_size=(1280, 720), max_steps=30, now=FIXED_NOW)
    reward, steps, _ = run_expert(env, TASKS[task_id])
    answers = {a: _answer_score(env, task_id, a) for a in ("DONE", "FAIL")}
    assert (reward, answers) == (1.0, {"DONE": 0.0, "FAIL": 0.0})
    assert steps >= 4  # a form to fill in, then DONE


def test_kohls_urls_round_trip_and_goal_reading() -> None:
    url = catalog_url("spider-man toys", ["AgeAppropriate:Kids", "Gender:Boys"], "4")
    assert url.endswith("?CN=AgeAppropriate:Kids+Gender:Boys&search=spider-man%20toys&S=4")
    assert parse_catalog(url) == ("spider-man toys", ["AgeAppropriate:Kids", "Gender:Boys"], "4")
    assert kohls_goal(["AgeAppropriate:Kids", "search=spider[-%20]?man%20toys", "S=4"]) == (
        "spider-man toys",
        ["AgeAppropriate:Kids"],
        "4",
    )
    with pytest.raises(ValueError, match="not a search, filter or sort"):
        kohls_goal(["price<10"])


def test_macys_filters_follow_the_category_facet_order() -> None:
    path = "/shop/mens-clothing/mens-t-shirts"
    ticked = {"Special_offers": ["Sales & Discounts"], "Size": ["L", "XL"], "Pattern": ["Stripe"]}
    url = category_url(path, ticked)
    assert url == (
        "https://www.macys.com/shop/mens-clothing/mens-t-shirts/Pattern,Size,Special_offers/"
        "Stripe,L|XL,Sales%20%26%20Discounts?id=30423"
    )
    key = url.split("://www.", 1)[1].split("?")[0]
    assert parse_category(key) == (path, {"Pattern": ["Stripe"], "Size": ["L", "XL"],
                                          "Special_offers": ["Sales & Discounts"]})  # fmt: skip
