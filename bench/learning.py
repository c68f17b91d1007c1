"""The learning study: warm start -> ARPO and GRPO, several seeds, held-out greedy success.

Usage: python bench/learning.py [--seeds 0,1,2] [--variants arpo,grpo] [--iterations 300 |
       --minutes M] [--eval-episodes 200] [--eval-every 50] [--runs runs/learning]
       [--docs docs/learning] [--variant NAME="DEMO FLAGS"]... [--fresh] [--report-only]
       [--name study]

Each run is README command 1's `arpo demo` from the committed warm start
(`--warmstart rllib_arpo/assets/warmstart-1.4m-grid112 --seed S`, `--no-replay` for GRPO), one
after another (a run uses both cores), each in its own process, its log in
`RUNS/VARIANT-sS/demo.log`. A run whose `summary.json` exists is reused (`--fresh` reruns it), so
an interrupted study goes on where it stopped. `--variant NAME="FLAGS"` adds a variant: the demo
with extra flags (a lever).
Runs stop after a number of iterations (the same rollouts for every variant: 300 x 4 groups x 8
episodes = 9,600), not a time budget, so what they learn does not depend on what else the box was
doing; the wall time they report does (an idle box: ARPO ~6 min, GRPO ~3 min).

Writes `DOCS/NAME.md` (the table; NAME is `--name`, default `study`), `DOCS/NAME.json` (every
figure) and `DOCS/NAME.png` (held-out and sampled success against trained trajectories, every
seed; the held-out points are before RL, every `--eval-every` iterations, whose time the runs'
training clock leaves out, and after). The table, per variant and family:
held-out greedy success before and after (mean over seeds, the standard error of the pooled
episodes, each seed), the best fixed click on the same held-out episodes, and whether `after`
clears the fixed click by 2 standard errors; per variant: iterations, iterations without an
update, trajectories trained, replay injections and wall time; and each variant's `after`
against the first variant's, in joint standard errors. The Tune form of the same runs
(training only) is `tune_configs/minidesk_grpo_vs_arpo.yaml`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.run_all import cpu_model, reproducing_command  # noqa: E402
from rllib_arpo.recipes.held_out import binomial_stderr  # noqa: E402

WARMSTART = REPO / "rllib_arpo" / "assets" / "warmstart-1.4m-grid112"
BUILT_IN_VARIANTS = {"arpo": [], "grpo": ["--no-replay"]}
"""Variant name -> the demo flags that make it (beside the study's own)."""
ITERATIONS = 300
"""Iterations per run (``tune_configs/minidesk_grpo_vs_arpo.yaml`` stops at the same)."""
SMOOTHING = 25
"""Iterations the plotted sampled success averages over."""
EVAL_EVERY = 50
"""Iterations between the held-out evaluations during a run (``arpo demo --eval-every``)."""


@dataclass(frozen=True)
class Run:
    variant: str
    seed: int
    flags: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.variant}-s{self.seed}"


# ------------------------------------------------------------------------------------ running


def demo_command(run: Run, out: Path, budget: list[str], evaluation: list[str]) -> list[str]:
    arpo = Path(sys.executable).with_name("arpo")
    return [
        str(arpo),
        "demo",
        "--out",
        str(out),
        "--warmstart",
        str(WARMSTART),
        "--seed",
        str(run.seed),
        *budget,
        *evaluation,
        *run.flags,
    ]


def run_one(
    run: Run, runs_dir: Path, budget: list[str], evaluation: list[str], fresh: bool
) -> dict:
    """The run's summary (``summary.json`` plus ``wall_s``), running the demo when needed."""
    out = runs_dir / run.name
    summary_path = out / "summary.json"
    if summary_path.exists() and not fresh:
        print(f"{run.name}: reusing {summary_path}", flush=True)
        return json.loads(summary_path.read_text())
    out.mkdir(parents=True, exist_ok=True)
    command = demo_command(run, out, budget, evaluation)
    print(f"{run.name}: {shlex.join(command)}", flush=True)
    started = time.perf_counter()
    with (out / "demo.log").open("w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{run.name} failed (exit {done.returncode}); see {out / 'demo.log'}")
    summary = json.loads(summary_path.read_text())
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    summary["command"] = shlex.join(command)
    summary_path.write_text(json.dumps(summary, indent=2))
    print(f"{run.name}: done in {summary['wall_s'] / 60:.1f} min", flush=True)
    return summary


# ------------------------------------------------------------------------------------ figures


def trained_total(summary: dict) -> float:
    return sum(
        h["trained_trajectories"]
        for h in summary["history"]
        if not math.isnan(h.get("trained_trajectories", math.nan))
    )


def variant_figures(summaries: list[dict]) -> dict:
    """Per family: before, after (mean over seeds, pooled SE, per seed), fixed click, margin; and
    the variant's training counts (mean over seeds)."""
    n = summaries[0]["episodes_per_family"]
    families = sorted(summaries[0]["after"])
    per_family = {}
    for family in [*families, "all"]:

        def rate(part: dict, family: str = family) -> float:
            return statistics.fmean(part.values()) if family == "all" else part[family]

        episodes = n * (len(families) if family == "all" else 1)
        after = [rate(s["after"]) for s in summaries]
        after_mean = statistics.fmean(after)
        after_se = binomial_stderr(after_mean, episodes * len(summaries))
        fixed = rate(summaries[0]["fixed_click"])
        fixed_se = binomial_stderr(fixed, episodes)
        before = rate(summaries[0]["before"])
        per_family[family] = {
            "before": before,
            "before_se": binomial_stderr(before, episodes),
            "after": after_mean,
            "after_se": after_se,
            "after_seeds": after,
            "after_seed_std": statistics.stdev(after) if len(after) > 1 else 0.0,
            "fixed_click": fixed,
            "fixed_click_se": fixed_se,
            # How many joint standard errors `after` sits above the fixed click.
            "margin_se": (after_mean - fixed) / math.hypot(after_se, fixed_se)
            if math.hypot(after_se, fixed_se)
            else 0.0,
        }
    counts = {
        "iterations": statistics.fmean(s["iterations"] for s in summaries),
        "without_update": statistics.fmean(
            sum(1 for h in s["history"] if h.get("trained_trajectories") == 0) for s in summaries
        ),
        "trained_trajectories": statistics.fmean(trained_total(s) for s in summaries),
        "replay_injections": statistics.fmean(
            sum(h.get("replay_injections", 0.0) for h in s["history"]) for s in summaries
        ),
        "train_min": statistics.fmean(s["train_seconds"] for s in summaries) / 60,
        "wall_min": statistics.fmean(s.get("wall_s", math.nan) for s in summaries) / 60,
    }
    return {"families": per_family, "counts": counts, "seeds": len(summaries)}


def table(figures: dict[str, dict]) -> str:
    lines = [
        "| variant | family | before | after (mean of seeds) | each seed | best fixed click "
        "| after - fixed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant, fig in figures.items():
        for family, f in fig["families"].items():
            seeds = ", ".join(f"{a * 100:.1f}" for a in f["after_seeds"])
            lines.append(
                f"| {variant} | {family} | {f['before'] * 100:.1f} ± {f['before_se'] * 100:.1f} "
                f"| **{f['after'] * 100:.1f} ± {f['after_se'] * 100:.1f}** | {seeds} "
                f"| {f['fixed_click'] * 100:.1f} ± {f['fixed_click_se'] * 100:.1f} "
                f"| {f['margin_se']:+.1f} SE{' (goal met)' if f['margin_se'] >= 2 else ''} |"
            )
    lines += [
        "",
        "| variant | seeds | iterations | without update | trajectories trained "
        "| replay injections | training min | wall min per run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant, fig in figures.items():
        c = fig["counts"]
        lines.append(
            f"| {variant} | {fig['seeds']} | {c['iterations']:.0f} | {c['without_update']:.0f} "
            f"| {c['trained_trajectories']:.0f} | {c['replay_injections']:.0f} "
            f"| {c['train_min']:.1f} | {c['wall_min']:.1f} |"
        )
    return "\n".join(lines)


def comparison(figures: dict[str, dict]) -> str:
    """Each variant's held-out `after` against the first variant's, per family, in joint
    standard errors (the learning parity of asynchronous rollouts; ARPO against GRPO)."""
    (base, base_fig), *others = figures.items()
    if not others:
        return ""
    lines = [
        f"| variant - {base} | family | after difference (points) | joint SE | in SE | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for variant, fig in others:
        for family, f in fig["families"].items():
            b = base_fig["families"][family]
            difference = f["after"] - b["after"]
            joint = math.hypot(f["after_se"], b["after_se"])
            in_se = difference / joint if joint else 0.0
            verdict = "within 2 SE" if abs(in_se) <= 2 else ("higher" if in_se > 0 else "lower")
            lines.append(
                f"| {variant} | {family} | {difference * 100:+.1f} | {joint * 100:.1f} "
                f"| {in_se:+.1f} | {verdict} |"
            )
    return "\n".join(lines)


FOOTNOTE = (
    "Held-out: greedy, 200 episodes per family on seeds no run trains on; ± is the binomial "
    "standard error of the episodes pooled over seeds. Best fixed click: the best single click on "
    "the same episodes for a policy that ignores the screen. Runs stop at a number of iterations, "
    "so what they learn does not depend on the box's load; their minutes do (runs measured beside "
    "other work are slower)."
)


def header(run_minutes: float) -> str:
    """Date, machine and how the table was made."""
    cpu = cpu_model()
    return (
        f"Learning study, {time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} cores: "
        f"`{reproducing_command('bench/learning.py')}` ({run_minutes:.0f} min of runs)."
    )


def held_out_curve(summary: dict) -> tuple[list[float], list[float]]:
    """Held-out greedy success (mean over the RL families) against trajectories trained: before
    RL, at each evaluation during training (runs made with ``--eval-every``), after RL."""
    x = [0.0, *(p["trained_trajectories"] for p in summary.get("held_out_during", []))]
    y = [statistics.fmean(summary["before"].values())]
    y += [statistics.fmean(p["rates"].values()) for p in summary.get("held_out_during", [])]
    return [*x, trained_total(summary)], [*y, statistics.fmean(summary["after"].values())]


def plot(summaries: dict[str, list[dict]], path: Path) -> None:
    """Left: sampled (T=1) training success, averaged over ``SMOOTHING`` iterations, against
    trained trajectories. Right: held-out greedy success (all RL families) against trained
    trajectories, before, during (every ``EVAL_EVERY`` iterations) and after. One thin line per
    seed; the thick line is the mean over seeds, point by point."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("the plot needs matplotlib: pip install -e '.[dev]'") from None
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for index, (variant, runs) in enumerate(summaries.items()):
        colour = colours[index % len(colours)]
        for k, summary in enumerate(runs):
            history = summary["history"]
            x, y, total, window = [], [], 0.0, []
            for h in history:
                trained = h.get("trained_trajectories", math.nan)
                total += 0.0 if math.isnan(trained) else trained
                window = [*window, h["success_rate"]][-SMOOTHING:]
                x.append(total)
                y.append(statistics.fmean(window))
            label = variant if k == 0 else None
            left.plot(x, y, color=colour, alpha=0.8, linewidth=1, label=label)
            right.plot(*held_out_curve(summary), "o-", color=colour, alpha=0.35, linewidth=1)
        curves = [held_out_curve(summary) for summary in runs]
        if len({len(xs) for xs, _ in curves}) == 1:  # the same evaluation points in every seed
            mean_x = [statistics.fmean(xs) for xs in zip(*(xs for xs, _ in curves))]
            mean_y = [statistics.fmean(ys) for ys in zip(*(ys for _, ys in curves))]
            right.plot(mean_x, mean_y, "o-", color=colour, linewidth=2.2, label=variant)
    fixed = statistics.fmean(next(iter(summaries.values()))[0]["fixed_click"].values())
    right.axhline(fixed, color="grey", linestyle="--", label="best fixed click")
    left.set(xlabel="trajectories trained", ylabel="sampled success (T=1, training tasks)")
    right.set(xlabel="trajectories trained", ylabel="held-out greedy success (RL families)")
    left.set_title(f"sampled success, mean of last {SMOOTHING} iterations; one line per seed")
    right.set_title("held-out greedy success; thin: each seed, thick: their mean")
    for axis in (left, right):
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


# ------------------------------------------------------------------------------------ main


def parse_variants(names: str, extra: list[str]) -> dict[str, list[str]]:
    variants = {}
    for name in [n for n in names.split(",") if n]:
        if name not in BUILT_IN_VARIANTS:
            raise SystemExit(
                f"--variants: unknown {name!r}; built in: {', '.join(BUILT_IN_VARIANTS)}"
            )
        variants[name] = BUILT_IN_VARIANTS[name]
    for item in extra:
        name, sep, flags = item.partition("=")
        if not sep or not name:
            raise SystemExit(f'--variant {item!r}: write NAME="DEMO FLAGS"')
        variants[name] = shlex.split(flags)
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--variants", default="arpo,grpo")
    parser.add_argument("--variant", action="append", default=[], metavar='NAME="FLAGS"')
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    parser.add_argument("--minutes", type=float, help="a time budget instead of --iterations")
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument(
        "--eval-every", type=int, default=EVAL_EVERY, help="held-out points during training"
    )
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "learning")
    parser.add_argument("--docs", type=Path, default=REPO / "docs" / "learning")
    parser.add_argument("--fresh", action="store_true", help="rerun runs that have a summary")
    parser.add_argument("--report-only", action="store_true", help="only runs already done")
    parser.add_argument(
        "--name", default="study", help="the files' stem: DOCS/NAME.md, NAME.json, NAME.png"
    )
    args = parser.parse_args()

    seeds = [int(s) for s in args.seeds.split(",")]
    variants = parse_variants(args.variants, args.variant)
    budget = (
        ["--minutes", f"{args.minutes:g}"]
        if args.minutes is not None
        else ["--iterations", str(args.iterations)]
    )
    evaluation = ["--eval-episodes", str(args.eval_episodes), "--eval-every", str(args.eval_every)]
    summaries: dict[str, list[dict]] = {}
    for variant, flags in variants.items():
        for seed in seeds:
            run = Run(variant, seed, tuple(flags))
            if args.report_only:
                path = args.runs / run.name / "summary.json"
                if path.exists():
                    summaries.setdefault(variant, []).append(json.loads(path.read_text()))
                continue
            summary = run_one(run, args.runs, budget, evaluation, args.fresh)
            summaries.setdefault(variant, []).append(summary)
    if not summaries:
        raise SystemExit(f"no finished runs under {args.runs}")
    figures = {variant: variant_figures(runs) for variant, runs in summaries.items()}
    run_minutes = sum(s.get("wall_s", 0.0) for runs in summaries.values() for s in runs) / 60
    versus = comparison(figures)
    text = "\n".join(
        [header(run_minutes), "", table(figures), *(["", versus] if versus else []), "", FOOTNOTE]
    )
    print(text)
    args.docs.mkdir(parents=True, exist_ok=True)
    (args.docs / f"{args.name}.md").write_text(text + "\n")
    (args.docs / f"{args.name}.json").write_text(
        json.dumps(
            {
                "figures": figures,
                "runs": {v: [s.get("command") for s in runs] for v, runs in summaries.items()},
                "run_minutes": round(run_minutes, 1),
            },
            indent=2,
        )
    )
    plot(summaries, args.docs / f"{args.name}.png")
    print(f"wrote {args.docs / args.name}.md, .json and .png")


if __name__ == "__main__":
    main()
