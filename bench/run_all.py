"""Every benchmark in one table: each figure beside what it is compared with in the same run.

    python bench/run_all.py                      # every benchmark (bench/step.py alone ~6 min)
    python bench/run_all.py --quick              # the smallest settings of each: a dry run
    python bench/run_all.py --only parse,env_step --out /tmp/results.md
    python bench/run_all.py --skip step

Runs parse, env_step, policy (``--sizes 4m``), iteration, eval and step in that order, each in
its own subprocess (``sys.executable bench/NAME.py ... --json FILE``), and writes one markdown
table (benchmark | figure | compared with (measured in the same run) | ratio | target | met) to
``--out`` (default ``bench/results.md``), headed by the date, the CPU model, the core count and
torch's thread count; beside it ``.json`` (every figure each script wrote) and ``.log`` (each
script's own output). A benchmark that fails or is not available gets a row saying so, and the
rest still run. Nothing else may run while timing: on a 2-core box a 25 s agent step measured
208 s beside a training run. Not here: ``bench/learning.py`` (a study of many minutes) and
``bench/engines.py`` (runs in the vLLM venv).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
COLUMNS = (
    "benchmark",
    "figure",
    "compared with (measured in the same run)",
    "ratio",
    "target",
    "met",
)


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    compared: str = "-"
    ratio: str = "-"
    target: str = "-"
    met: str = "-"


def times(value: float) -> str:
    return f"{value:.2f}x"


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


def seconds(value: float) -> str:
    return f"{value:.3g} s"


# ------------------------------------------------------------------------------ rows per script


def parse_rows(figures: dict) -> list[Row]:
    median, target = figures["actions_per_s_median"], figures["target_actions_per_s"]
    return [
        Row(
            "parse",
            f"parse+convert {median:,.0f} actions/s (median of {figures['runs']} runs)",
            f"target {target:,.0f} actions/s",
            times(median / target),
            f"> {target:,.0f} actions/s",
            verdict(median > target),
        )
    ]


def env_step_rows(figures: dict) -> list[Row]:
    target = figures["target_step_ms"]
    sizes = {key: value for key, value in figures.items() if isinstance(value, dict)}
    return [
        Row(
            f"env_step {size}",
            f"MiniDesk median step {r['step_ms']:.2f} ms (p90 {r['step_p90_ms']:.2f} ms, "
            f"{r['screenshots_per_s']:.0f} screenshots/s)",
            f"target {target:g} ms",
            times(r["step_ms"] / target),
            f"< {target:g} ms",
            verdict(r["step_ms"] < target),
        )
        for size, r in sizes.items()
    ]


def policy_rows(results: list[dict]) -> list[Row]:
    return [
        Row(
            f"policy {r['size']}",
            f"generation, 8 envs batched: {r['gen_batch8_env_steps_per_s']:.2f} env-steps/s",
            f"one at a time: {r['gen_batch1_env_steps_per_s']:.2f} env-steps/s",
            f"{times(r['batched_speedup'])} (median pair {times(r['batched_speedup_median_pair'])})",
            ">= 4x",
            verdict(r["batched_speedup"] >= 4),
        )
        for r in results
    ]


def iteration_rows(figures: dict) -> list[Row]:
    share, share_target = figures["plumbing_share_pct"], figures["plumbing_target_pct"]
    ratio, ratio_target = figures["replay_ratio"], figures["replay_target_ratio"]
    return [
        Row(
            "iteration",
            f"RLlib plumbing {figures['plumbing_ms']:.1f} ms",
            f"the iteration {figures['iteration_ms']:.1f} ms (median of {figures['iterations']})",
            f"{share:.1f}%",
            f"< {share_target:g}%",
            verdict(share < share_target),
        ),
        Row(
            "iteration replay",
            f"one 1920x1080 screenshot as PNG {figures['replay_png_bytes'] / 1e3:.0f} kB",
            f"the reference's fp32 tensor {figures['replay_reference_fp32_bytes'] / 1e6:.1f} MB",
            f"{ratio:.0f}x smaller",
            f">= {ratio_target:g}x",
            verdict(ratio >= ratio_target),
        ),
    ]


def eval_rows(figures: dict) -> list[Row]:
    sizes = {key: value for key, value in figures.items() if key[0].isdigit()}
    rows = [
        Row(
            f"eval {size}",
            f"MiniDesk served on 127.0.0.1: {r['served']['steps_per_s']:.0f} env-steps/s",
            f"direct: {r['direct']['steps_per_s']:.0f} env-steps/s",
            f"{times(r['server_overhead'])} overhead",
        )
        for size, r in sizes.items()
    ]
    return rows + [miniwob_row(figures, sizes)]


def miniwob_row(figures: dict, sizes: dict) -> Row:
    if "miniwob" not in figures:
        return Row("eval MiniWoB++", figures.get("miniwob_unavailable", "not measured"))
    miniwob = figures["miniwob"]
    figure = (
        f"{miniwob['task']} median step {miniwob['step_ms_median']:.1f} ms "
        f"(p90 {miniwob['step_ms_p90']:.1f} ms)"
    )
    if not sizes:
        return Row("eval MiniWoB++", figure)
    size, r = next(iter(sizes.items()))
    direct_ms = r["direct"]["step_ms"]
    return Row(
        "eval MiniWoB++",
        figure,
        f"MiniDesk {size} direct step {direct_ms:.2f} ms",
        times(miniwob["step_ms_median"] / direct_ms),
    )


def step_rows(figures: dict) -> list[Row]:
    name = "step (quick: tiny 1.4M)" if figures["quick"] else "step (UI-TARS-2B shape)"
    single, bound = figures["single_s"], figures["bound_step_s"]
    adjacent = figures["adjacent_bound_step_s"]
    turn1 = figures["turn1_s"]
    return [
        Row(
            name,
            f"single agent step {seconds(single)}",
            f"the bound {seconds(bound)}",
            times(single / bound),
            "<= 1.5x",
            verdict(single / bound <= 1.5),
        ),
        Row(
            name,
            f"single agent step {seconds(single)}",
            f"the bound with the memory roof measured around the step ({figures['roof_gb_s']:.1f} "
            f"GB/s) {seconds(adjacent)}",
            times(single / adjacent),
            "<= 1.5x",
            verdict(single / adjacent <= 1.5),
        ),
        Row(
            name,
            f"turn 5 with the turn cache {seconds(figures['turn5_s'])}",
            f"turn 1 {seconds(turn1)}",
            times(figures["turn5_over_turn1"]),
            "<= 1.3x",
            verdict(figures["turn5_over_turn1"] <= 1.3),
        ),
        Row(
            name,
            f"turn 5 cold (no cache) {seconds(figures['turn5_cold_s'])}",
            f"turn 1 {seconds(turn1)}",
            times(figures["turn5_cold_over_turn1"]),
        ),
        Row(
            name,
            f"8 steps batched {seconds(figures['batch8_s'])}",
            f"8 single steps {seconds(8 * single)}",
            f"{times(figures['batch8_speedup'])} the steps/s",
        ),
    ]


# ------------------------------------------------------------------------------ the benchmarks


@dataclass(frozen=True)
class Benchmark:
    name: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    rows: Callable[[Any], list[Row]]


BENCHMARKS = (
    Benchmark("parse", (), ("--seconds", "0.3"), parse_rows),
    Benchmark("env_step", (), ("--episodes", "1"), env_step_rows),
    Benchmark("policy", ("--sizes", "4m"), ("--sizes", "1.4m", "--new-tokens", "8"), policy_rows),
    Benchmark("iteration", (), ("--iterations", "1"), iteration_rows),
    Benchmark("eval", (), ("--repeats", "1", "--miniwob-steps", "5"), eval_rows),
    Benchmark("step", (), ("--quick",), step_rows),
)
NAMES = tuple(b.name for b in BENCHMARKS)


@dataclass
class Outcome:
    command: list[str]
    exit_status: int
    seconds: float
    figures: Any = None


def run_benchmark(benchmark: Benchmark, quick: bool, log) -> Outcome:
    """Runs one script with ``--json``; its stdout and stderr go to ``log``."""
    args = benchmark.quick_args if quick else benchmark.args
    with tempfile.TemporaryDirectory() as tmp:
        json_path = Path(tmp) / f"{benchmark.name}.json"
        command = [sys.executable, str(BENCH / f"{benchmark.name}.py"), *args]
        command += ["--json", str(json_path)]
        log.write(f"\n===== {benchmark.name}: {' '.join(command)}\n")
        log.flush()
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        outcome = Outcome(command, completed.returncode, time.perf_counter() - started)
        if completed.returncode == 0 and json_path.exists():
            outcome.figures = read_figures(json_path)
    return outcome


def read_figures(path: Path) -> Any:
    """The JSON a script wrote, or None where it is not JSON."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def rows_of(benchmark: Benchmark, outcome: Outcome, log_name: str) -> list[Row]:
    """The benchmark's rows, or one row saying why there are none."""
    if outcome.exit_status != 0:
        return [Row(benchmark.name, f"failed (exit status {outcome.exit_status}; see {log_name})")]
    if outcome.figures is None:
        return [Row(benchmark.name, f"wrote no figures (see {log_name})")]
    try:
        return benchmark.rows(outcome.figures)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
        return [Row(benchmark.name, f"figures not readable ({type(error).__name__}: {error})")]


# ------------------------------------------------------------------------------ the output


def reproducing_command(script: str) -> str:
    """``python SCRIPT FLAGS`` of this process, without ``--report-only`` (which only redraws a
    table): the command a study's table names as the one that made it."""
    flags = [a for a in sys.argv[1:] if a != "--report-only"]
    return shlex.join(["python", script, *flags])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_header(quick: bool) -> dict[str, Any]:
    import torch

    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "mode": "quick (smallest settings: a dry run, not figures)" if quick else "full",
    }


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(header: dict[str, Any], rows: list[Row]) -> str:
    lines = [
        "# Benchmarks (`python bench/run_all.py`)",
        "",
        f"{header['date']}; CPU {header['cpu']}, {header['cores']} cores, "
        f"{header['torch_threads']} torch threads; {header['mode']}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + " --- |" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(cell(value) for value in asdict(row).values()) + " |")
    return "\n".join(lines) + "\n"


def names(text: str | None) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()] if text else []


def selected(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Benchmark]:
    only, skip = names(args.only), names(args.skip)
    unknown = sorted(set(only + skip) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(NAMES)}")
    return [b for b in BENCHMARKS if (not only or b.name in only) and b.name not in skip]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smallest settings (a dry run)")
    parser.add_argument("--only", help=f"comma-separated, of: {','.join(NAMES)}")
    parser.add_argument("--skip", help="comma-separated names to leave out")
    parser.add_argument("--out", type=Path, default=BENCH / "results.md")
    args = parser.parse_args()
    benchmarks = selected(args, parser)
    header = machine_header(args.quick)
    log_path = args.out.with_suffix(".log")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    outcomes: dict[str, dict] = {}
    with log_path.open("w") as log:
        for index, benchmark in enumerate(benchmarks, 1):
            print(f"[{index}/{len(benchmarks)}] {benchmark.name} ...", end=" ", flush=True)
            outcome = run_benchmark(benchmark, args.quick, log)
            status = "ok" if outcome.exit_status == 0 else f"exit status {outcome.exit_status}"
            print(f"{status} ({outcome.seconds:.0f} s)", flush=True)
            rows += rows_of(benchmark, outcome, log_path.name)
            outcomes[benchmark.name] = asdict(outcome)
    table = markdown(header, rows)
    args.out.write_text(table)
    everything = {"header": header, "benchmarks": outcomes, "rows": [asdict(r) for r in rows]}
    args.out.with_suffix(".json").write_text(json.dumps(everything, indent=2) + "\n")
    print()
    print(table)
    print(f"written: {args.out}, {args.out.with_suffix('.json')}, {log_path}")


if __name__ == "__main__":
    main()
