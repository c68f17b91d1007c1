"""More OSWorld Chrome task files on MiniDesk: Chrome's password manager, Delta's flight search
with miles, cars.com's search. The expert solves each file, DONE and FAIL score 0; the expert
also recovers from a results page with the wrong filters."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from minidesk_helpers import FIXED_NOW, run_expert

from envs.minidesk import MiniDeskEnv
from envs.minidesk.apps.sites.catalogue import build_page, simulated
from envs.minidesk.apps.sites.delta import BOOK_URL
from envs.minidesk.expert_routes import find_route
from envs.minidesk.relative_time import relative_day
from envs.minidesk.tasks import TaskSet

CHROME = Path(__file__).resolve().parents[3] / "test_data" / "osworld_chrome"
PASSWORDS = "12086550-11c0-466b-b367-1d9e75b3910e"
DELTA_MILES = "6c4c23a1-42a4-43cc-9db1-2f86ff3738cc"
CARS = "82279c77-8fc6-46f6-9622-3ba96f61b477"


TASKS = TaskSet(CHROME)
ENV = MiniDeskEnv(screen_size=(1280, 720), max_steps=25, now=FIXED_NOW)


def _url() -> str:
    return ENV.desk.find_app("browser").app.current.url


@pytest.mark.parametrize("task_id", [PASSWORDS, DELTA_MILES, CARS])
def test_expert_solves_and_doing_nothing_scores_zero(task_id: str) -> None:
    reward, steps, _ = run_expert(ENV, TASKS[task_id])
    assert reward == 1.0 and steps >= 3
    for answer in ("DONE", "FAIL"):
        ENV.reset(options={"task": TASKS[task_id]})
        assert ENV.step(answer)[1] == 0.0


def test_password_manager_is_reached_from_settings_by_links() -> None:
    run_expert(ENV, TASKS[PASSWORDS])
    assert _url() == "chrome://password-manager/passwords"
    app = ENV.desk.find_app("browser").app
    ctx = app.page_ctx(app._content_width)
    texts = [e.text for e in build_page(_url(), ctx).elements]
    assert any("etsy.com" in t and "********" in t for t in texts)  # listed, not revealed
    route = find_route("chrome://settings", lambda u: u == _url(), ctx)
    assert route == ["chrome://settings/autofill", "chrome://password-manager/passwords"]


def _opening(task: dict[str, Any], url: str) -> dict[str, Any]:
    """``task`` with its setup opening ``url`` instead of the site's home page."""
    task = copy.deepcopy(task)
    for step in task["config"]:
        if step["type"] == "chrome_open_tabs":
            step["parameters"]["urls_to_open"] = [url]
    return task


def test_delta_results_in_money_switch_to_the_miles_tab() -> None:
    day = relative_day("5th next month", FIXED_NOW).date().isoformat()
    query = {"tripType": "ONE_WAY", "from": "SEA", "to": "NYC", "departureDate": day,
             "shopWithMiles": "false"}  # fmt: skip
    task = _opening(TASKS[DELTA_MILES], f"{BOOK_URL}?{urlencode(query)}")
    ENV.reset(options={"task": task})
    assert ENV.step("DONE")[1] == 0.0  # the Money tab is selected
    reward, steps, _ = run_expert(ENV, task)
    assert (reward, steps) == (1.0, 2)  # click "Miles", DONE
    assert "shopWithMiles=true" in _url()


def test_cars_results_filters_are_corrected() -> None:
    url = ("https://www.cars.com/shopping/results/?stock_type=all&fuel_slugs[]=hybrid"
           "&list_price_max=55000&maximum_distance=50&zip=10002")  # fmt: skip
    task = _opening(TASKS[CARS], url)
    ENV.reset(options={"task": task})
    assert ENV.step("DONE")[1] == 0.0
    reward, _, _ = run_expert(ENV, task)
    assert reward == 1.0
    app = ENV.desk.find_app("browser").app
    listed = [e.text for e in app.current.doc.elements if e.kind == "link" and "$" in e.text]
    assert listed and all("Mustang" not in t and "Toyota" not in t for t in listed)


def test_the_new_sites_are_simulated() -> None:
    assert simulated("https://www.cars.com/")
    assert simulated("https://www.delta.com/flight-search/search-results?from=SEA")
