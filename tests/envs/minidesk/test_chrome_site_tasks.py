"""OSWorld's site-visiting Chrome task files on MiniDesk: the expert solves each covered file,
DONE and FAIL score 0; unknown sites refuse a task at load; the relative-time grammar and
``url_dashPart``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from minidesk_helpers import FIXED_NOW, run_expert

from envs.minidesk import MiniDeskEnv
from envs.minidesk.relative_time import relative_day
from envs.minidesk.site_getters import url_dash_part
from envs.minidesk.tasks import TaskSet, UnknownSiteError, validate_task

CHROME = Path(__file__).resolve().parents[3] / "test_data" / "osworld_chrome"
SITE_TASKS = [
    "0d8b7de3-e8de-4d86-b9fd-dd2dce58a217",  # drugs.com natural products
    "59155008-fe71-45ec-8a8f-dc35497b6aa8",  # babycenter: names like Carl
    "9f935cce-0a9f-435f-8007-817732bfc0a5",  # justice.gov: Civil Division forms
    "a728a36e-8bf1-4bb6-9a03-ef039a5233f0",  # dmv.virginia.gov eligibility
    "a96b564e-dbe9-42c3-9ccf-b4498073438a",  # flightaware: thread with most replies
    "b070486d-e161-459b-aa2b-ef442d973b92",  # drugs.com: Tamiflu side effects
    "c1fa57f3-c3db-4596-8f09-020701085416",  # united.com baggage calculator
    "f0b971a1-6831-4b9b-a50e-22a6e47f45ba",  # nfl.com: 2019 Super Bowl scores
]


@pytest.fixture(scope="module")
def tasks() -> TaskSet:
    return TaskSet(CHROME)


@pytest.fixture(scope="module")
def env() -> MiniDeskEnv:
    return MiniDeskEnv(screen_size=(1280, 720), max_steps=15, now=FIXED_NOW)


@pytest.mark.parametrize("task_id", SITE_TASKS)
def test_expert_solves_and_doing_nothing_scores_zero(
    tasks: TaskSet, env: MiniDeskEnv, task_id: str
) -> None:
    reward, steps, _ = run_expert(env, tasks[task_id])
    assert reward == 1.0 and steps >= 2  # at least one link to follow, then DONE
    for answer in ("DONE", "FAIL"):
        env.reset(options={"task": tasks[task_id]})
        assert env.step(answer)[1] == 0.0


def test_a_task_on_an_unknown_site_is_refused_at_load_and_counted() -> None:
    env = MiniDeskEnv(task_dir=CHROME)
    before = env.unknown_sites
    with pytest.raises(UnknownSiteError, match=r"9f3f70fc.*site 'nba.com' is not simulated"):
        env.reset(options={"task": "9f3f70fc-5afc-4958-a7b7-3bb4fcb01805"})
    assert env.unknown_sites == before + 1
    _, info = env.reset(options={"task": "f3b19d1e-2d48-44e9-b4e1-defcae1a0197"})
    assert info["unknown_sites"] == before + 1


def test_a_browser_state_task_loads_and_warns_of_an_unknown_site() -> None:
    """Its evaluator reads no page, so the site is not needed: the setup only warns."""
    task = json.loads(
        (CHROME / "examples/chrome/06fe7178-4491-4589-810f-2e2bc9502122.json").read_text()
    )
    task["evaluator"] = {"func": "exact_match", "result": {"type": "vm_file", "path": "/x"},
                         "expected": {"type": "rule", "rules": {"expected": None}}}  # fmt: skip
    validate_task(task)
    _, info = MiniDeskEnv().reset(options={"task": task})
    assert "lonelyplanet.com" in " ".join(info["setup_warnings"])


def test_a_task_without_an_evaluator_names_why(tasks: TaskSet) -> None:
    with pytest.raises(ValueError, match="no evaluator, so it cannot be scored"):
        tasks["1c114e4f-5f2f-4862-9e92-bac2fdd285b9"]


MON = dt.datetime(2026, 11, 23, 10)  # a Monday
THU = dt.datetime(2026, 11, 26, 10)
SUN = dt.datetime(2026, 11, 29, 10)


@pytest.mark.parametrize(
    ("rule", "now", "paired", "day"),
    [
        ("today", THU, None, dt.date(2026, 11, 26)),
        ("tomorrow", THU, None, dt.date(2026, 11, 27)),
        ("this month", THU, None, dt.date(2026, 11, 26)),
        ("5th next month", THU, None, dt.date(2026, 12, 5)),
        ("10th next month", dt.datetime(2026, 12, 3), None, dt.date(2027, 1, 10)),
        ("11th next month", THU, None, dt.date(2026, 12, 11)),
        ("this Saturday", THU, None, dt.date(2026, 11, 28)),
        ("this Saturday", SUN, None, dt.date(2026, 11, 28)),  # OSWorld: yesterday on a Sunday
        ("this Sunday", MON, None, dt.date(2026, 11, 29)),
        ("next Monday", MON, None, dt.date(2026, 11, 30)),
        ("next Monday", SUN, None, dt.date(2026, 11, 30)),
        ("next Friday", THU, None, dt.date(2026, 11, 27)),
        ("next Friday", THU, "next Monday", dt.date(2026, 12, 4)),
        ("next Friday", SUN, "next Monday", dt.date(2026, 12, 4)),
        ("first monday four months later", THU, None, dt.date(2027, 3, 1)),
        ("first monday four months later", dt.datetime(2026, 8, 10), None, dt.date(2026, 12, 7)),
        ("first monday four months later", dt.datetime(2026, 2, 10), None, dt.date(2026, 6, 1)),
    ],
)
def test_relative_time_phrase(
    rule: str, now: dt.datetime, paired: str | None, day: dt.date
) -> None:
    assert relative_day(rule, now, paired).date() == day


def test_an_unknown_relative_time_lists_the_grammar() -> None:
    with pytest.raises(ValueError, match="'next Sunday'.*known: today"):
        relative_day("next Sunday", THU)


def test_url_dash_part() -> None:
    url = "https://www.macys.com/shop/mens/Pattern,Size/Stripe,L?id=20626"
    assert (
        url_dash_part(url, {"partIndex": -1, "needDeleteId": True, "returnType": "string"})
        == "Stripe,L"
    )
    assert url_dash_part(url, {"partIndex": -2, "returnType": "json", "key": "k"}) == {
        "k": "Pattern,Size"
    }
    with pytest.raises(ValueError, match="returnType"):
        url_dash_part(url, {"partIndex": -1, "returnType": "xml"})
