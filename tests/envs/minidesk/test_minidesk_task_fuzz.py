"""Fuzz: any JSON in a task's setup steps and evaluator is either a clear ``TaskError`` /
``ValueError`` with a message, or a task that resets (and ends) normally; never another
exception type.

Steps are drawn from each type's parameter schema (``STEP_PARAMS``, the app states, form
elements), every value replaced now and then by arbitrary JSON, so that many tasks pass
validation and run their steps, and many fail it in every field."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from minidesk_helpers import FIXED_NOW

from envs.minidesk import MiniDeskEnv, validate_task
from envs.minidesk.document import ELEMENT_KINDS
from envs.minidesk.evaluators import GETTERS, METRICS
from envs.minidesk.setup_steps import (
    APP_STATE_KEYS,
    ELEMENT_FIELDS,
    REQUIRED_PARAMS,
    STEP_PARAMS,
)
from envs.minidesk.tasks import default_test_data

BASE = json.loads(
    (default_test_data() / "tasks" / "f3b19d1e-2d48-44e9-b4e1-defcae1a0197.json").read_text()
)
URLS = [
    "https://seatgeek.com/", "https://www.apple.com/iphone/", "chrome://history",
    "chrome://settings/clearBrowserData", "about:blank", "https://www.ryanair.com/gb/en",
    "https://www.delta.com/", "https://a.test/x?y=1", "ftp://odd", "",
]  # fmt: skip
COMMANDS = [
    "google-chrome", "google-chrome https://seatgeek.com/", "gedit /home/user/a.txt",
    "nautilus /home/user", "pkill chrome", "socat tcp-listen:9222", "echo 'unclosed",
    "python -c 'import pyautogui; pyautogui.click(10, 10)'", 'python -c "import os"',
    "python -c 'pyautogui.hotkey(\"alt\", \"f10\")'", "xdotool key ctrl+w", "",
]  # fmt: skip
WORDS = [*URLS, *COMMANDS, "Google Chrome", "/home/user/a.txt", "/home/user", "OK", "a", "b"]
KEYS = sorted(
    {name for params in STEP_PARAMS.values() for name in params}
    | {key for keys in APP_STATE_KEYS.values() for key in keys}
    | set(ELEMENT_FIELDS)
    | {"url", "title", "visit_time_from_now_in_seconds", "rules", "expected", "keywords"}
    | {"relativeTime", "from", "to", "time", "goto_prefix", "parse_keys", "replace", "type"}
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([10**400, -(10**400)])  # beyond float
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(WORDS + list(ELEMENT_KINDS) + sorted(STEP_PARAMS))
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)
TEXT = st.sampled_from(WORDS) | st.text(max_size=12)


def _or_junk(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly ``strategy`` (9 in 10), sometimes any JSON value."""
    return st.integers(0, 9).flatmap(lambda roll: JSON if roll == 4 else strategy)


def _of_types(types: tuple[type, ...] | None) -> st.SearchStrategy:
    by_type = {
        str: TEXT,
        bool: st.booleans(),
        int: st.integers(-5, 3000) | st.just(10**400),
        float: st.floats(-10, 1e5),
        list: st.lists(TEXT, max_size=3),
        dict: st.dictionaries(TEXT, TEXT, max_size=3),
        type(None): st.none(),
    }
    return JSON if types is None else st.one_of(*(by_type[t] for t in types))


ELEMENT = st.fixed_dictionaries(
    {"kind": _or_junk(st.sampled_from(ELEMENT_KINDS))},
    optional={
        **{k: _or_junk(_of_types(t)) for k, t in ELEMENT_FIELDS.items() if k != "kind"},
        "rect": _or_junk(st.lists(st.integers(-50, 700), min_size=4, max_size=4)),
        "options": _or_junk(st.lists(TEXT | st.lists(TEXT, min_size=2, max_size=2), max_size=4)),
        "show_if": _or_junk(st.tuples(TEXT, TEXT | st.booleans()).map(list)),
        "min": _or_junk(st.integers(-5, 5)),
        "max": _or_junk(st.integers(-5, 120)),
        "rows": _or_junk(st.integers(0, 12)),
    },
)
STATE_VALUES = {"elements": st.lists(_or_junk(ELEMENT), max_size=5)}
APP_STATE = st.sampled_from(sorted(APP_STATE_KEYS)).flatmap(
    lambda app: st.fixed_dictionaries(
        {
            "app": _or_junk(st.just(app)),
            "state": _or_junk(
                st.fixed_dictionaries(
                    {},
                    optional={
                        key: _or_junk(STATE_VALUES.get(key, _of_types(types)))
                        for key, types in APP_STATE_KEYS[app].items()
                    },
                )
            ),
        },
        optional={"fullscreen": _or_junk(st.booleans())},
    )
)
HISTORY_ENTRY = st.fixed_dictionaries(
    {"url": _or_junk(st.sampled_from(URLS))},
    optional={
        "title": _or_junk(TEXT),
        "visit_time_from_now_in_seconds": _or_junk(st.integers(-100, 10**6) | st.floats()),
    },
)
PARAM_VALUES = {
    "command": st.sampled_from(COMMANDS) | st.lists(st.sampled_from(WORDS), max_size=4),
    "urls_to_open": st.lists(st.sampled_from(URLS), max_size=3),
    "urls_to_close": st.lists(st.sampled_from(URLS), max_size=3),
    "history": st.lists(_or_junk(HISTORY_ENTRY), max_size=4),
    "seconds": st.integers(-1, 5) | st.floats(),
    "files": st.dictionaries(TEXT, _or_junk(TEXT), max_size=3),
    "buttons": st.lists(_or_junk(TEXT), max_size=4),
}


def _parameters(kind: str) -> st.SearchStrategy:
    if kind == "minidesk_app_state":
        return APP_STATE
    values = {
        name: _or_junk(PARAM_VALUES.get(name, _of_types(types)))
        for name, types in STEP_PARAMS[kind].items()
    }
    required = REQUIRED_PARAMS.get(kind, ())
    return st.fixed_dictionaries(
        {name: values[name] for name in required},
        optional={name: value for name, value in values.items() if name not in required},
    )


STEP = st.sampled_from(sorted(STEP_PARAMS)).flatmap(
    lambda kind: st.fixed_dictionaries({"type": st.just(kind), "parameters": _parameters(kind)})
)
STEPS = _or_junk(st.lists(_or_junk(STEP), max_size=5))
RULES = st.fixed_dictionaries(
    {},
    optional={
        "type": _or_junk(st.sampled_from(["keywords", "url"])),
        "keywords": _or_junk(st.lists(TEXT, max_size=2)),
        "url": _or_junk(st.sampled_from(URLS)),
        "expected": JSON,
        "relativeTime": _or_junk(st.fixed_dictionaries({"from": TEXT}, optional={"to": TEXT})),
    },
)
GETTER = st.fixed_dictionaries(
    {"type": _or_junk(st.sampled_from(sorted(GETTERS)))},
    optional={"rules": _or_junk(RULES), "goto_prefix": JSON, "parse_keys": JSON, "path": JSON},
)
FUNC = st.sampled_from(sorted(METRICS))
EVALUATOR = st.fixed_dictionaries(
    {
        "func": _or_junk(FUNC | st.lists(FUNC, min_size=1, max_size=3)),
        "result": _or_junk(GETTER | st.lists(GETTER | st.none(), max_size=3)),
    },
    optional={
        "expected": _or_junk(GETTER | st.lists(GETTER | st.none(), max_size=3)),
        "options": JSON,
        "conj": _or_junk(st.sampled_from(["and", "or"])),
        "postconfig": STEPS,
    },
)


def _task(config: Any, evaluator: Any) -> dict[str, Any]:
    task = copy.deepcopy(BASE)
    task["config"] = config
    task["evaluator"] = evaluator
    return task


def _step(kind: str, **parameters: Any) -> list[dict[str, Any]]:
    return [{"type": kind, "parameters": parameters}]


ENV = MiniDeskEnv(now=FIXED_NOW)
HISTORY = "update_browse_history"


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(config=STEPS, evaluator=_or_junk(EVALUATOR | st.just(BASE["evaluator"])))
@example(config=_step("launch", command=[1, 2]), evaluator=BASE["evaluator"])
@example(config=_step("launch", command="google-chrome 'x"), evaluator=BASE["evaluator"])
@example(config=_step(HISTORY, history=[1]), evaluator=BASE["evaluator"])
@example(config=_step(HISTORY, history=[{"title": "t"}]), evaluator=BASE["evaluator"])
@example(config=_step(HISTORY, history=[{"url": 3}]), evaluator=BASE["evaluator"])
@example(
    config=_step(HISTORY, history=[{"url": "u", "visit_time_from_now_in_seconds": math.inf}]),
    evaluator=BASE["evaluator"],
)
@example(config=_step("sleep", seconds="1"), evaluator=BASE["evaluator"])
@example(config=_step("chrome_open_tabs", urls_to_open=[None]), evaluator=BASE["evaluator"])
@example(
    config=_step("minidesk_app_state", app="form", state={"elements": [{"kind": "select",
                 "name": "s", "options": [[1]]}]}),
    evaluator=BASE["evaluator"],
)  # fmt: skip
def test_any_task_json_is_a_clear_error_or_a_normal_episode(config: Any, evaluator: Any) -> None:
    task = _task(config, evaluator)
    try:
        validate_task(copy.deepcopy(task))
        ENV.reset(options={"task": task})
    except ValueError as error:  # TaskError and SetupError are ValueErrors
        assert str(error).strip(), f"{type(error).__name__} without a message"
        event(type(error).__name__)
        return
    event("reset")
    _, reward, terminated, _, info = ENV.step("DONE")
    assert terminated and 0.0 <= reward <= 1.0
    assert info.get("eval_error") is None or info["eval_error"].strip()
