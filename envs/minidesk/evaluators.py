"""OSWorld-style evaluators: getters read MiniDesk's app state, metrics compare.

``evaluate(task, desk, last_action)`` follows ``DesktopEnv.evaluate``: run ``postconfig``, then
``infeasible`` scores 1 only when the last action was FAIL, any other task scores 0 after FAIL;
one ``func`` gives ``metric(get_<result.type>(desk, result), get_<expected.type>(desk, expected),
**options)``; a list of funcs combines with ``conj`` "and" (0 at the first 0, else the mean) or
"or" (1 at the first 1, else the max). Getters return in-memory values (OSWorld's file getters
return local paths; MiniDesk has no files outside the desktop).

Getter and metric semantics copy OSWorld's ``desktop_env/evaluators`` for the functions the seed
tasks use, including ``rule_relativeTime``'s date rules and ``apply_rules_to_timeFormat``.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

from envs.minidesk.apps.browser import Browser
from envs.minidesk.apps.urls import compare_urls, display_url
from envs.minidesk.chrome_evaluators import BROWSER_STATE_GETTERS, BROWSER_STATE_METRICS
from envs.minidesk.dates import DAY_OF_WEEK, MONTH, MONTH_FULL
from envs.minidesk.desktop import Desktop
from envs.minidesk.relative_time import relative_day
from envs.minidesk.setup_steps import SetupError, run_steps

logger = logging.getLogger(__name__)

Getter = Callable[[Desktop, dict[str, Any]], Any]
Metric = Callable[..., float]
GETTERS: dict[str, Getter] = {}
METRICS: dict[str, Metric] = {}


def getter(name: str) -> Callable[[Getter], Getter]:
    """Register a getter as ``GETTERS[name]`` (a task's ``result``/``expected`` ``type``)."""

    def register(fn: Getter) -> Getter:
        GETTERS[name] = fn
        return fn

    return register


def metric(fn: Metric) -> Metric:
    """Register a metric as ``METRICS[fn.__name__]`` (a task's evaluator ``func``)."""
    METRICS[fn.__name__] = fn
    return fn


GETTERS.update(BROWSER_STATE_GETTERS)  # Chrome's own state: chrome_evaluators.py
METRICS.update(BROWSER_STATE_METRICS)


# ------------------------------------------------------------------------------ getters
def _browser(desk: Desktop) -> Browser | None:
    win = desk.find_app("browser")
    return win.app if win is not None else None  # type: ignore[return-value]


@getter("history")
def get_history(desk: Desktop, config: dict[str, Any]) -> list[tuple[str, str, float]]:
    """OSWorld getter ``history``: the rows (url, title, visit_time) that OSWorld's ``get_history``
    reads from Chrome's History database, here the desktop's browsing history."""
    return [(e.url, e.title, e.visit_time) for e in desk.history]


@getter("active_url_from_accessTree")
def get_active_url_from_accessTree(desk: Desktop, config: dict[str, Any]) -> str | None:
    """OSWorld getter ``active_url_from_accessTree``: the active tab's address bar text (from the
    accessibility tree in OSWorld) with ``config["goto_prefix"]`` (default ``https://``)
    prepended; ``chrome://`` pages as shown; None without a browser tab."""
    app = _browser(desk)
    if app is None or app.current is None:
        return None
    shown = display_url(app.current.url)
    if shown.startswith("chrome://"):
        return shown
    return config.get("goto_prefix", "https://") + shown


@getter("active_tab_info")
def get_active_tab_info(desk: Desktop, config: dict[str, Any]) -> dict[str, str] | None:
    """OSWorld getter ``active_tab_info``: ``{"title", "url", "content"}`` of the active tab
    (OSWorld reads them over CDP; ``content`` is the page's visible text); None without a tab."""
    app = _browser(desk)
    if app is None or app.current is None:
        return None
    tab = app.current
    doc = tab.doc
    content = "\n".join(doc.inner_text(e) for e in doc.elements if doc.shown(e)) if doc else ""
    return {"title": tab.title, "url": tab.url, "content": content}


@getter("active_tab_url_parse")
def get_active_tab_url_parse(desk: Desktop, config: dict[str, Any]) -> dict[str, str] | None:
    """OSWorld getter ``active_tab_url_parse``: the ``parse_keys`` of the active URL's query
    (first value each), renamed by ``replace`` (``{old_key: new_key}``), as OSWorld's."""
    url = get_active_url_from_accessTree(desk, config)
    if url is None:
        return None
    query = parse_qs(urlparse(url).query)
    keys = config.get("parse_keys", [])
    out = {key: query.get(key, [""])[0] for key in keys if key in query}
    for key, new_key in config.get("replace", {}).items():
        if key in out:
            out[new_key] = out.pop(key)
    return out


@getter("active_tab_html_parse")
def get_active_tab_html_parse(desk: Desktop, config: dict[str, Any]) -> dict[str, str] | None:
    """OSWorld getter ``active_tab_html_parse`` with ``category: class``: the visible text of the
    active page's elements of each class (``class_singleObject``: the first element's;
    ``class_multiObject``/``_child``: the element at each index), "" where none is found."""
    app = _browser(desk)
    if app is None or app.current is None or app.current.doc is None:
        return None
    doc = app.current.doc

    def texts(cls: str) -> list[str]:
        return [
            doc.inner_text(e).strip() for e in doc.elements if doc.shown(e) and cls in e.cls.split()
        ]

    out: dict[str, str] = {}
    if config.get("category", "class") != "class":
        return out
    for cls, key in config.get("class_singleObject", {}).items():
        found = texts(cls)
        out[key] = found[0] if found else ""
    for field_ in ("class_multiObject", "class_multiObject_child"):
        for cls, ranks in config.get(field_, {}).items():
            found = texts(cls)
            for order, key in ranks.items():
                idx = int(order)
                out[key] = found[idx] if idx < len(found) else ""
    return out


@getter("rule")
def get_rule(desk: Desktop, config: dict[str, Any]) -> Any:
    """OSWorld getter ``rule``: the task's own ``rules`` (the expected value, as written)."""
    return config["rules"]


def apply_rules_to_time_format(fmt: str, day: dt.datetime) -> str:
    """OSWorld's ``apply_rules_to_timeFormat`` (same placeholders, same order)."""
    fmt = fmt.replace("{DoW}", DAY_OF_WEEK[day.weekday()], 1)
    fmt = fmt.replace("{Month}", MONTH[day.month], 1)
    fmt = fmt.replace("{DayD}", str(day.day), 1)
    fmt = fmt.replace("{Year}", str(day.year), 1)
    fmt = fmt.replace("{Month0D}", f"{day.month:02d}", 1)
    fmt = fmt.replace("{month}", MONTH_FULL[day.month].lower(), 1)
    fmt = fmt.replace("{MonthFull}", MONTH_FULL[day.month], 1)
    fmt = fmt.replace("{Day0D}", f"{day.day:02d}", 1)
    fmt = fmt.replace("{MonthD}", str(day.month), 1)
    return fmt


@getter("rule_relativeTime")
def get_rule_relativeTime(desk: Desktop, config: dict[str, Any]) -> dict[str, Any]:
    """OSWorld getter ``rule_relativeTime``: ``rules`` with the ``expected`` time format(s) filled
    in for the ``relativeTime`` day(s) (``from``, and ``to`` when given), counted from the
    desktop's clock (``relative_day``, ``apply_rules_to_time_format``)."""
    rules = copy.deepcopy(config["rules"])  # OSWorld mutates the task config; we do not
    rel = rules["relativeTime"]
    if "to" not in rel:
        day = relative_day(rel["from"], desk.now)
        value = rules["expected"]["time"]
        rules["expected"]["time"] = (
            [apply_rules_to_time_format(v, day) for v in value]
            if isinstance(value, list)
            else apply_rules_to_time_format(value, day)
        )
    else:
        for key, rule in (("from", rel["from"]), ("to", rel["to"])):
            if key in rules["expected"]:
                rules["expected"][key] = apply_rules_to_time_format(
                    rules["expected"][key],
                    relative_day(rule, desk.now, rel["from"] if key == "to" else None),
                )
    return rules


@getter("minidesk_form")
def get_minidesk_form(desk: Desktop, config: dict[str, Any]) -> Any:
    """MiniDesk getter ``minidesk_form`` (no OSWorld counterpart: it stands for reading an app's
    state): the form app's ``{"values", "clicks", "submitted"}`` (``field`` "state", the default)
    or one of them (``field`` "values", "clicks" or "submitted"); None without a form."""
    win = desk.find_app("form")
    if win is None:
        return None
    state = win.app.state()
    field = config.get("field", "state")
    return state if field == "state" else state.get(field)


@getter("vm_file")
def get_vm_file(desk: Desktop, config: dict[str, Any]) -> str | None:
    """OSWorld getter ``vm_file``: the saved content of ``config["path"]`` (OSWorld copies the file
    and returns its local path; MiniDesk's files live in memory); None when it does not exist."""
    return desk.files.get(config["path"])


@getter("minidesk_files")
def get_minidesk_files(desk: Desktop, config: dict[str, Any]) -> list[str]:
    """MiniDesk getter ``minidesk_files`` (no OSWorld counterpart; OSWorld lists files with a
    ``vm_command_line`` ``ls``): sorted paths of the virtual files under ``config["folder"]``."""
    folder = config.get("folder", "/home/user").rstrip("/") + "/"
    return sorted(p for p in desk.files if p.startswith(folder))


@getter("editor_buffer")
def get_editor_buffer(desk: Desktop, config: dict[str, Any]) -> str | None:
    """MiniDesk getter ``editor_buffer`` (no OSWorld counterpart: OSWorld reads saved files): the
    text editor's unsaved buffer, None when no editor is open."""
    win = desk.find_app("editor")
    return win.app.buf.text if win is not None else None


# ------------------------------------------------------------------------------ metrics
@metric
def check_history_deleted(history_data: list, rule: dict[str, Any]) -> float:
    """OSWorld metric ``check_history_deleted``: 1 when no history URL (``history`` getter rows)
    contains any of the rule's ``keywords`` (rule ``type`` must be "keywords"), else 0."""
    if rule["type"] != "keywords":
        raise TypeError(f"{rule['type']} not supported")
    urls = [h[0] for h in history_data]
    return 0.0 if any(k in u for k in rule["keywords"] for u in urls) else 1.0


@metric
def is_expected_url_pattern_match(result: Any, rules: dict[str, Any]) -> float:
    """OSWorld metric ``is_expected_url_pattern_match``: 1 when the URL (a string, or the ``url``
    of ``active_tab_info``) matches every regex of ``rules["expected"]`` (``re.search``)."""
    if not result:
        return 0.0
    url = result["url"] if isinstance(result, dict) else result
    return 1.0 if all(re.search(p, url) for p in rules["expected"]) else 0.0


@metric
def is_expected_active_tab(active_tab_info: Any, rule: dict[str, Any]) -> float:
    """OSWorld metric ``is_expected_active_tab``: 1 when the active tab's URL (a string, or the
    ``url`` of ``active_tab_info``) equals ``rule["url"]`` under ``compare_urls`` (rule ``type``
    must be "url")."""
    if not active_tab_info:
        return 0.0
    if rule["type"] != "url":
        raise TypeError(f"{rule['type']} not supported")
    actual = active_tab_info.get("url") if isinstance(active_tab_info, dict) else active_tab_info
    return 1.0 if compare_urls(rule["url"], actual) else 0.0


@metric
def check_direct_json_object(result: Any, rules: dict[str, Any]) -> float:
    """OSWorld metric ``check_direct_json_object``: 1 when the object (a dict, or JSON text with
    single quotes allowed) holds every key/value of ``rules["expected"]``; with
    ``expect_in_result`` a list value (expected or actual) means "one of"."""
    if isinstance(result, str):
        import json

        try:
            result = json.loads(result.strip().replace("'", '"'))
        except ValueError:
            return 0.0
    if not isinstance(result, dict):
        return 0.0
    expected = rules["expected"]
    if rules.get("expect_in_result", False):
        for key, value in expected.items():
            got = result.get(key)
            if isinstance(value, list):
                if not any((isinstance(got, list) and v in got) or v == got for v in value):
                    return 0.0
            elif (
                isinstance(got, list)
                and value not in got
                or not isinstance(got, list)
                and value != got
            ):
                return 0.0
        return 1.0
    for key, value in expected.items():
        if value != result.get(key):
            return 0.0
    return 1.0


@metric
def exact_match(result: Any, rules: dict[str, Any]) -> float:
    """OSWorld metric ``exact_match``: 1 when the result equals ``rules["expected"]``."""
    return 1.0 if result == rules["expected"] else 0.0


@metric
def compare_text_file(
    result: str | None, expected: str | None, ignore_blanks: bool = False
) -> float:
    """OSWorld metric ``compare_text_file``: 1 when both texts exist and are equal (with
    ``ignore_blanks``, after collapsing runs of whitespace)."""
    if result is None or expected is None:
        return 0.0
    if ignore_blanks:
        result, expected = (
            re.sub(r"\s+", " ", result).strip(),
            re.sub(r"\s+", " ", expected).strip(),
        )
    return 1.0 if result == expected else 0.0


@metric
def is_in_list(result: Any, rules: dict[str, Any]) -> float:
    """OSWorld metric ``is_in_list``: 1 when ``rules["expected"]`` is an item of the result."""
    return 1.0 if rules["expected"] in (result or []) else 0.0


@metric
def not_in_list(result: Any, rules: dict[str, Any]) -> float:
    """The complement of ``is_in_list``: 1 when ``rules["expected"]`` is not in the result."""
    return 0.0 if rules["expected"] in (result or []) else 1.0


@metric
def infeasible(*_: Any, **__: Any) -> float:
    """OSWorld metric ``infeasible`` (a stub there too): ``evaluate`` scores infeasible tasks from
    the last action alone (1 after FAIL)."""
    return 0.0  # decided in ``evaluate`` from the last action


# ------------------------------------------------------------------------------ evaluate
def _get(desk: Desktop, spec: dict[str, Any] | None) -> Any:
    if spec is None:
        return None
    return GETTERS[spec["type"]](desk, spec)


class EvaluatorError(ValueError):
    """A task's evaluator that cannot score (a bad rule, a getter or metric that fails); the
    message names the func, or the postconfig step, and the cause."""


def is_infeasible(evaluator: dict[str, Any]) -> bool:
    """Whether a task's ``evaluator`` marks it infeasible (func ``infeasible``, alone or in a
    list): OSWorld scores it 1 only when the agent answers FAIL."""
    funcs = evaluator["func"]
    return "infeasible" in (funcs if isinstance(funcs, list) else [funcs])


def evaluate(task: dict[str, Any], desk: Desktop, last_action: str | None) -> float:
    """Score in [0, 1] of the desktop's final state for ``task``, as OSWorld's
    ``DesktopEnv.evaluate`` computes it (see the module docstring).

    Raises:
        EvaluatorError: a postconfig step, a getter or a metric failed.
    """
    ev = task["evaluator"]
    try:
        run_steps(desk, ev.get("postconfig", []))
    except SetupError as exc:
        raise EvaluatorError(f"evaluator.postconfig {exc}") from exc
    funcs = ev["func"]
    if is_infeasible(ev):
        return 1.0 if last_action == "FAIL" else 0.0
    if last_action == "FAIL":
        return 0.0
    if isinstance(funcs, str):
        return _score(funcs, ev.get("result"), ev.get("expected"), ev.get("options", {}), desk)
    conj = ev.get("conj", "and")
    n = len(funcs)
    results = ev.get("result", [None] * n)
    expecteds = ev.get("expected", [None] * n)
    options = ev.get("options", [{}] * n)
    scores = []
    for i in range(n):
        s = _score(
            funcs[i],
            results[i],
            expecteds[i],
            options[i] if isinstance(options, list) else {},
            desk,
        )
        if conj == "and" and s == 0:
            return 0.0
        if conj == "or" and s == 1:
            return 1.0
        scores.append(s)
    return sum(scores) / n if conj == "and" else max(scores)


def _score(func: str, result: Any, expected: Any, options: dict[str, Any], desk: Desktop) -> float:
    try:
        result_value = _get(desk, result)
        if expected is None:
            score = METRICS[func](result_value, **options)
        else:
            score = METRICS[func](result_value, _get(desk, expected), **options)
        score = float(score)
    except Exception as exc:  # noqa: BLE001 - a task's rule, not MiniDesk, is at fault
        raise EvaluatorError(f"evaluator func {func!r}: {type(exc).__name__}: {exc}") from exc
    return min(1.0, max(0.0, score))
