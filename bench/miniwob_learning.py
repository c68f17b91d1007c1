"""ARPO on MiniWoB++ in headless Chromium: held-out success before and after RL on tasks the warm
start never saw demonstrated, against the best fixed click, and where an iteration's time goes.

Usage: python bench/miniwob_learning.py [--seeds 0,1] [--iterations 300] [--eval-episodes 200]
       [--warm-minutes 10] [--runs runs/miniwob] [--docs docs/learning] [--report-only]

One warm start (``rllib_arpo.recipes.miniwob``: the committed MiniDesk warm start, then supervised
steps on the DOM expert's answers for click-test, click-button and focus-text) is built in
``RUNS/warmstart`` and shared by every RL seed; ARPO then trains on click-test-2 and click-link,
which no demonstration showed, one seed after another (``RUNS/s<seed>``; a seed whose
``summary.json`` exists is reused). The fixed-click reference depends only on the held-out pages
and is computed once (``RUNS/fixed_click.json``).

Writes ``DOCS/miniwob.md`` (the tables) and ``DOCS/miniwob.json`` (every figure). Runs stop after
a number of iterations, so what they learn does not depend on the box's load; the time split does
(run it on an idle box).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.run_all import reproducing_command  # noqa: E402
from rllib_arpo.recipes.held_out import NOISE_Z, FamilyScore, change_z  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--warm-minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "miniwob")
    parser.add_argument("--docs", type=Path, default=REPO / "docs" / "learning")
    parser.add_argument("--report-only", action="store_true")
    return parser.parse_args()


def run_seed(args: argparse.Namespace, seed: int) -> dict:
    """One RL seed's ``summary.json`` (run now unless it exists)."""
    from rllib_arpo.recipes.miniwob import MiniWoBSettings, run_miniwob

    out = args.runs / f"s{seed}"
    summary = out / "summary.json"
    if summary.is_file():
        return json.loads(summary.read_text())
    if args.report_only:
        raise SystemExit(f"{summary} is missing; run without --report-only")
    warm = args.runs / "warmstart"
    if not (warm / "config.json").exists():
        from rllib_arpo.recipes.miniwob import build_warmstart

        print(f"warm start: {args.warm_minutes:g} min -> {warm}", flush=True)
        warm.mkdir(parents=True, exist_ok=True)
        build_warmstart(
            warm,
            MiniWoBSettings(out_dir=args.runs, warm_minutes=args.warm_minutes),
            say=lambda line: print(line, flush=True),
        )
    settings = MiniWoBSettings(
        out_dir=out,
        warmstart_dir=warm,
        iterations=args.iterations,
        eval_episodes=args.eval_episodes,
        seed=seed,
        fixed_click_file=args.runs / "fixed_click.json",
    )
    run_miniwob(
        settings,
        say=lambda line: print(line, flush=True),
        progress=lambda line: print(line, end="", flush=True),
    )
    return json.loads(summary.read_text())


def pooled(entries: list[dict]) -> FamilyScore:
    """The episodes of several runs together."""
    return FamilyScore(
        "", sum(e["successes"] for e in entries), sum(e["episodes"] for e in entries)
    )


def figure(score: FamilyScore) -> tuple[float, float, int]:
    """(rate, binomial standard error, episodes), as the JSON and the table hold a score."""
    return score.rate, score.stderr, score.episodes


def figures(summaries: dict[int, dict]) -> dict:
    """Per task: before, after (pooled over seeds, and each seed), the fixed click, z-scores;
    the mean time split of an iteration over every seed."""
    first = next(iter(summaries.values()))
    tasks: dict[str, dict] = {}
    for family in sorted(first["after"]):
        before = pooled([first["before"][family]])  # one warm start: the same before each seed
        after = pooled([s["after"][family] for s in summaries.values()])
        fixed = pooled([first["fixed_click"][family]])
        tasks[family] = {
            "before": figure(before),
            "after": figure(after),
            "after_per_seed": {seed: s["after"][family]["rate"] for seed, s in summaries.items()},
            "fixed_click": figure(fixed),
            "fixed_click_point": first["fixed_click_points"][family],
            "after_vs_before_z": change_z(before, after),
            "after_vs_fixed_click_z": change_z(fixed, after),
        }
    parts = list(first["time_split_s"])
    split = {
        part: sum(s["time_split_s"][part] for s in summaries.values()) / len(summaries)
        for part in parts
    }
    return {
        "tasks": tasks,
        "time_split_s": split,
        "iterations": {seed: s["iterations"] for seed, s in summaries.items()},
        "train_seconds": {seed: s["train_seconds"] for seed, s in summaries.items()},
        "warmstart": first["warmstart_record"],
        "settings": first["settings"],
    }


def verdict(z: float) -> str:
    if math.isnan(z) or abs(z) <= NOISE_Z:
        return "within noise"
    return "above" if z > 0 else "below"


def report(figs: dict, seeds: list[int], command: str, minutes: float) -> str:
    pct = "{:.1f}%".format
    warm = figs["warmstart"]
    settings = figs["settings"]
    lines = [
        "# ARPO on MiniWoB++ (headless Chromium)",
        "",
        f"Command: `{command}` ({minutes:.0f} min on this 2-core box).",
        "",
        f"- Warm start: {warm.get('started_from', '?')}, then {warm.get('steps', '?')} supervised "
        f"steps ({warm.get('duration_s', 0) / 60:.0f} min) on {warm.get('demonstrations', '?')} "
        f"DOM-expert demonstrations of {', '.join(warm.get('warm_tasks', []))}.",
        f"- ARPO on {', '.join(settings['rl_tasks'])}: no demonstration of either. "
        f"{settings['training_seeds']} training pages per task, {settings['tasks_per_iteration']} "
        f"groups of {settings['group_size']} per iteration, {settings['iterations']} iterations, "
        f"seeds {', '.join(map(str, seeds))}.",
        f"- Held-out: {settings['eval_episodes']} pages per task (seeds from 1,000,000; never "
        "trained on or demonstrated), greedy, at most 2 steps. The fixed click: the best of 64 "
        "grid points over the task area, screened on 10 pages and scored on all.",
        "",
        "| task | before | after (pooled) | after per seed | best fixed click | after vs before "
        "| after vs fixed click |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for family, t in figs["tasks"].items():
        b, a, f = t["before"], t["after"], t["fixed_click"]
        per_seed = " / ".join(pct(r * 100) for r in t["after_per_seed"].values())
        lines.append(
            f"| {family} | {pct(b[0] * 100)} ± {b[1] * 100:.1f} | {pct(a[0] * 100)} ± "
            f"{a[1] * 100:.1f} | {per_seed} | {pct(f[0] * 100)} ± {f[1] * 100:.1f} at "
            f"{tuple(t['fixed_click_point'])} | {t['after_vs_before_z']:+.1f} SE "
            f"({verdict(t['after_vs_before_z'])}) | {t['after_vs_fixed_click_z']:+.1f} SE "
            f"({verdict(t['after_vs_fixed_click_z'])}) |"
        )
    split = figs["time_split_s"]
    wall = sum(split.values())
    lines += [
        "",
        "Where an iteration's time goes (mean over the iterations of every seed; "
        f"{wall:.2f} s per iteration):",
        "",
        "| part | seconds | share |",
        "| --- | --- | --- |",
    ]
    names = {
        "reset": "browser resets (new episode, page loads)",
        "env": "browser steps (clicks, screenshots)",
        "generation": "generation (tiny VLM, batched)",
        "learner": "learner forward, backward, optimizer",
        "sync": "weight sync",
        "driver": "driver (replay, old log-probs)",
        "plumbing": "the rest (RLlib calls, episode conversion, metrics)",
    }
    for part, seconds in split.items():
        lines.append(f"| {names.get(part, part)} | {seconds:.3f} | {seconds / wall * 100:.0f}% |")
    return "\n".join(lines) + "\n"


def run_minutes(summaries: dict[int, dict]) -> float:
    """Minutes the runs took: the shared warm start (its demonstrations and supervised steps)
    and every seed's run, as their records say (so ``--report-only`` redraws the same table)."""
    warm = next(iter(summaries.values()))["warmstart_record"]
    seconds = warm.get("demo_pool_s", 0.0) + warm.get("duration_s", 0.0)
    return (seconds + sum(s["seconds"] for s in summaries.values())) / 60


def main() -> None:
    args = parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    summaries = {seed: run_seed(args, seed) for seed in seeds}
    figs = figures(summaries)
    command = reproducing_command("bench/miniwob_learning.py")
    text = report(figs, seeds, command, run_minutes(summaries))
    args.docs.mkdir(parents=True, exist_ok=True)
    (args.docs / "miniwob.md").write_text(text)
    (args.docs / "miniwob.json").write_text(json.dumps(figs, indent=2) + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
