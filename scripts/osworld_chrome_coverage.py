"""How much of OSWorld's Chrome domain MiniDesk runs: every task file, through MiniDesk.

    python scripts/osworld_chrome_coverage.py [--task-dir test_data/osworld_chrome] [--json OUT]

For each task file of the directory (OSWorld's ``evaluation_examples`` layout or MiniDesk's own)
it prints one row:

- ``refused``: the file does not load into MiniDesk (a getter, evaluator, setup step or site it
  does not simulate); the reason names the missing piece.
- ``loads``: the task resets. Then three scores from the task's own evaluator:
  - ``expert``: MiniDesk's scripted expert, run until it ends the episode (or ``--max-steps``);
    ``stuck`` when the expert has no action for the task (the reason is printed);
  - ``nothing``: the agent answers DONE at once (a task solved by doing nothing is broken);
  - ``fail``: the agent answers FAIL at once (only infeasible tasks may score 1 here).

The summary counts feasible tasks solved by the expert, tasks refused by reason, and flags every
task that scores above 0 when nothing is done and every infeasible task that scores 1 other than
on FAIL. The exit status is 0 whatever the coverage: this is a report, not a gate.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envs.minidesk.env import MiniDeskEnv  # noqa: E402
from envs.minidesk.evaluators import is_infeasible  # noqa: E402
from envs.minidesk.expert import ExpertStuck, expert_action  # noqa: E402
from envs.minidesk.tasks import TaskError, TaskSet  # noqa: E402
from rllib_arpo.core.actions import parse_response, to_pyautogui  # noqa: E402
from rllib_arpo.core.coords import CoordinateSpace  # noqa: E402

DEFAULT_TASK_DIR = ROOT / "test_data" / "osworld_chrome"
SCREEN = (1280, 720)


@dataclass
class Row:
    """One task file's outcome."""

    task_id: str
    in_index: bool
    infeasible: bool = False
    status: str = "refused"
    reason: str = ""
    expert: float | None = None
    expert_steps: int = 0
    nothing: float | None = None
    fail: float | None = None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}"


def _final_score(env: MiniDeskEnv, task: dict[str, Any], answer: str) -> float:
    env.reset(seed=0, options={"task": task})
    _, reward, _, _, _ = env.step(answer)
    return float(reward)


def _expert_score(env: MiniDeskEnv, task: dict[str, Any], max_steps: int) -> tuple[float, int]:
    env.reset(seed=0, options={"task": task})
    space = CoordinateSpace.for_screen(*env.screen_size)
    for step in range(1, max_steps + 1):
        parsed = parse_response(expert_action(env), space)  # exactly as the rollout reads it
        code = to_pyautogui(parsed, space) if parsed.ok else "WAIT"
        _, reward, terminated, truncated, _ = env.step(code)
        if terminated or truncated:
            return float(reward), step
    return 0.0, max_steps


def check_task(
    tasks: TaskSet, key: str, indexed: set[str], env: MiniDeskEnv, max_steps: int
) -> Row:
    """Load, reset and score one task; every failure is the row's reason, never a crash."""
    row = Row(task_id=key, in_index=key in indexed)
    try:
        task = tasks[key]
        row.infeasible = is_infeasible(task["evaluator"])
        env.reset(seed=0, options={"task": task})
    except (TaskError, ValueError, KeyError, TypeError) as error:
        row.reason = _one_line(error).replace(str(tasks.files.get(key, "")), "<file>")
        return row
    row.status = "loads"
    try:
        row.nothing = _final_score(env, task, "DONE")
        row.fail = _final_score(env, task, "FAIL")
        row.expert, row.expert_steps = _expert_score(env, task, max_steps)
    except ExpertStuck as error:
        row.status, row.reason = "stuck", _one_line(error)
    except Exception as error:  # noqa: BLE001 - a report: any failure is this task's finding
        row.status, row.reason = "error", _one_line(error)
    return row


def summarize(rows: list[Row]) -> list[str]:
    """The summary lines: coverage of feasible tasks, refusals by reason, broken scores."""
    feasible = [r for r in rows if not r.infeasible]
    solved = [r for r in feasible if r.status == "loads" and (r.expert or 0) >= 1.0]
    reasons = collections.Counter(
        r.reason.split(":", 2)[-1].strip()[:90] for r in rows if r.status == "refused"
    )
    lines = [
        f"{len(rows)} task files ({sum(r.in_index for r in rows)} in test_all.json); "
        f"{sum(r.status != 'refused' for r in rows)} load, {len(rows) - sum(r.status != 'refused' for r in rows)} refused",
        f"feasible solved by the expert: {len(solved)} of {len(feasible)} "
        f"(infeasible: {len(rows) - len(feasible)})",
    ]
    scored_by_nothing = [r.task_id for r in rows if (r.nothing or 0) > 0 and not r.infeasible]
    lines.append(f"tasks that score > 0 when nothing is done: {scored_by_nothing or 'none'}")
    bad_infeasible = [
        r.task_id
        for r in rows
        if r.infeasible and r.status != "refused" and ((r.nothing or 0) > 0 or r.fail != 1.0)
    ]
    lines.append(f"infeasible tasks not scored 1 only on FAIL: {bad_infeasible or 'none'}")
    unknown = [r.task_id for r in rows if r.reason.startswith("UnknownSiteError")]
    lines.append(f"refused for a site MiniDesk does not simulate: {len(unknown)}")
    lines.append("refusals by reason:")
    lines += [f"  {count:3d}  {reason}" for reason, count in reasons.most_common()]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-dir", type=Path, default=DEFAULT_TASK_DIR)
    parser.add_argument("--max-steps", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)

    tasks = TaskSet(args.task_dir)
    indexed = {task_id for ids in tasks.index.values() for task_id in ids}
    env = MiniDeskEnv(screen_size=SCREEN, max_steps=args.max_steps)
    rows = [check_task(tasks, key, indexed, env, args.max_steps) for key in sorted(tasks.files)]
    env.close()

    def score(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    print(
        f"{'task':<38} {'idx':<3} {'kind':<10} {'status':<8} {'expert':>6} {'nothing':>7} {'fail':>5}  reason"
    )
    for r in rows:
        kind = "infeasible" if r.infeasible else "feasible"
        print(
            f"{r.task_id:<38} {'yes' if r.in_index else 'no':<3} {kind:<10} {r.status:<8} "
            f"{score(r.expert):>6} {score(r.nothing):>7} {score(r.fail):>5}  {r.reason[:110]}"
        )
    print()
    for line in summarize(rows):
        print(line)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
