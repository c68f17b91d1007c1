"""ARPO on MiniWoB++, a benchmark nobody here wrote, in headless Chromium.

``run_miniwob`` runs four steps and returns a ``MiniWoBResult`` (``summary.json`` in its run
directory):

1. Warm start: the committed MiniDesk warm start, then supervised steps on the DOM expert's
   one-click answers (``envs.miniwob.expert.expert_answer``) for the *warm* tasks only. The RL
   tasks get no demonstration. The demonstrations are drawn once into a pool (a browser episode
   costs about 0.2 s, a supervised step on 16 of them about 0.25 s), on ``DEMO_SEED_START`` seeds.
2. Held-out evaluation before RL: greedy success per RL task on ``HELD_OUT_SEED_START`` seeds,
   and the best fixed click (``fixed_click_reference``).
3. ARPO on the RL tasks' training seeds (``0 .. training_seeds - 1``) for a number of
   iterations, on a local Ray; the time of every iteration split into browser resets, browser
   steps, generation, learner and the rest.
4. The same held-out evaluation of the trained policy.

Seeds: training, held-out and demonstration seeds are disjoint ranges, so no held-out page is
ever trained on or demonstrated.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rllib_arpo.core import metrics as M
from rllib_arpo.recipes import SettingError
from rllib_arpo.recipes.held_out import FamilyScore

logger = logging.getLogger(__name__)

WARM_TASKS = ("click-test", "click-button", "focus-text")
"""Tasks the warm start is shown demonstrations of."""
RL_TASKS = ("click-test-2", "click-link")
"""Tasks ARPO trains and is evaluated on: never demonstrated."""
HELD_OUT_SEED_START = 1_000_000
"""Held-out pages: seeds ``HELD_OUT_SEED_START + k``."""
DEMO_SEED_START = 2_000_000
"""Demonstrated pages: seeds ``DEMO_SEED_START + k``."""
MAX_STEPS = 2
"""Steps per episode: one click solves every task here; a miss gets a second try."""
MAX_NEW_TOKENS = 48
"""Tokens per answer."""
FIXED_CLICK_CELL = 20
"""Candidate fixed clicks: the centres of a ``FIXED_CLICK_CELL``-px grid over the task area (the
160x160 px below the instruction): 64 points."""
FIXED_CLICK_SCREEN_EPISODES = 10
"""Every candidate is first tried on this many held-out pages per task ..."""
FIXED_CLICK_FINALISTS = 3
"""... and this many best per task are then scored on all held-out pages."""
DEMO_ENVS = 4
"""Browsers that draw the demonstration pool side by side."""


@dataclass(frozen=True)
class MiniWoBSettings:
    """One run of ``run_miniwob``."""

    out_dir: str | Path
    """Run directory."""
    warm_tasks: Sequence[str] = WARM_TASKS
    rl_tasks: Sequence[str] = RL_TASKS
    warmstart_dir: str | Path | None = None
    """A MiniWoB warm start to use as is [default: built into ``out_dir/warmstart``]."""
    warm_minutes: float = 10.0
    """Supervised minutes of the warm start (when it is built)."""
    demo_pool: int = 1200
    """Demonstrations drawn for the warm start (spread over the warm tasks)."""
    iterations: int = 150
    """ARPO iterations."""
    eval_episodes: int = 200
    """Held-out pages per RL task, before and after."""
    training_seeds: int = 32
    """Training pages per RL task (success replay is per page)."""
    group_size: int = 8
    tasks_per_iteration: int = 2
    lr: float = 1e-4
    epochs: int = 2
    replay: bool = True
    seed: int = 0
    fixed_click_file: str | Path | None = None
    """Where the fixed-click reference is kept between runs on the same held-out pages
    (``cached_fixed_click``) [default: computed every run]."""


@dataclass
class MiniWoBResult:
    """What ``run_miniwob`` measured."""

    settings: MiniWoBSettings
    warmstart: Path
    warmstart_record: dict[str, Any]
    before: dict[str, FamilyScore]
    after: dict[str, FamilyScore]
    fixed_click: dict[str, FamilyScore]
    fixed_click_points: dict[str, list[int]]
    iterations: int
    train_seconds: float
    history: list[dict[str, float]]
    time_split: dict[str, float] = field(default_factory=dict)
    """Mean seconds per iteration of each ``recipes.demo.TIME_PARTS`` part."""
    fixed_click_seconds: float = 0.0
    seconds: float = 0.0
    """The whole run, warm start included when it was built."""

    def summary(self) -> dict[str, Any]:
        def scores(table: dict[str, FamilyScore]) -> dict[str, dict[str, float]]:
            return {
                f: {"successes": s.successes, "episodes": s.episodes, "rate": s.rate}
                for f, s in table.items()
            }

        settings = {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.settings).items()
        }
        return {
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.items()},
            "warmstart": str(self.warmstart),
            "warmstart_record": self.warmstart_record,
            "before": scores(self.before),
            "after": scores(self.after),
            "fixed_click": scores(self.fixed_click),
            "fixed_click_points": self.fixed_click_points,
            "fixed_click_seconds": round(self.fixed_click_seconds, 1),
            "iterations": self.iterations,
            "train_seconds": round(self.train_seconds, 1),
            "seconds": round(self.seconds, 1),
            "time_split_s": self.time_split,
            "history": self.history,
        }


# ------------------------------------------------------------------------------------ task ids


def held_out_ids(tasks: Sequence[str], episodes: int) -> list[str]:
    """``episodes`` held-out page ids per task (``miniwob/<task>/<seed>``)."""
    from envs.miniwob.tasks import task_id

    return [task_id(t, HELD_OUT_SEED_START + k) for t in tasks for k in range(episodes)]


def training_ids(tasks: Sequence[str], count: int) -> list[str]:
    """``count`` training page ids per task: seeds ``0 .. count - 1``."""
    from envs.miniwob.tasks import task_id

    if count > HELD_OUT_SEED_START:
        raise SettingError("training_seeds", f"at most {HELD_OUT_SEED_START} training pages")
    return [task_id(t, k) for t in tasks for k in range(count)]


def check_settings(settings: MiniWoBSettings) -> None:
    """``SettingError`` naming the setting: an unknown task, a warm task without a one-click
    expert, or an RL task that is also demonstrated."""
    from envs.miniwob.expert import ANSWER_TASKS
    from envs.miniwob.tasks import parse_task_id

    for name in ("warm_tasks", "rl_tasks"):
        for task in getattr(settings, name):
            try:
                parse_task_id(task)
            except KeyError as error:
                raise SettingError(name, str(error.args[0])) from None
    no_expert = [t for t in settings.warm_tasks if t not in ANSWER_TASKS]
    if no_expert:
        raise SettingError(
            "warm_tasks",
            f"no one-click expert for {no_expert}; warm tasks: {', '.join(ANSWER_TASKS)}",
        )
    shown = sorted(set(settings.warm_tasks) & set(settings.rl_tasks))
    if shown:
        raise SettingError("rl_tasks", f"{shown} are also warm tasks: RL tasks are never shown")


# ------------------------------------------------------------------------------------ step 1


def demo_pool(tasks: Sequence[str], count: int, *, seed: int = 0) -> list[Any]:
    """``count`` expert demonstrations (``recipes.warmstart.Demo``) on ``DEMO_SEED_START`` pages
    of ``tasks``, drawn by ``DEMO_ENVS`` browsers side by side. Every demo went through the env:
    the answer was parsed, replayed, and the page ended."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from envs.miniwob.env import MiniWoBEnv
    from envs.miniwob.expert import expert_answer
    from envs.miniwob.tasks import task_id
    from rllib_arpo.recipes.warmstart import expert_demos

    per_env = [count // DEMO_ENVS + (k < count % DEMO_ENVS) for k in range(DEMO_ENVS)]

    def draw(k: int) -> list[Any]:
        env = MiniWoBEnv(max_steps=1)
        try:
            # Each browser draws (with replacement) from its own range of pages.
            start = DEMO_SEED_START + k * count
            pages = [task_id(t, start + i) for t in tasks for i in range(count)]
            return expert_demos(env, pages, expert_answer, max_steps=1)(
                np.random.default_rng([seed, k]), per_env[k]
            )
        finally:
            env.close()

    with ThreadPoolExecutor(DEMO_ENVS) as pool:
        return [demo for demos in pool.map(draw, range(DEMO_ENVS)) for demo in demos]


def build_warmstart(
    out: Path, settings: MiniWoBSettings, say: Callable[[str], None]
) -> dict[str, Any]:
    """Step 1: the committed MiniDesk warm start, then ``warm_minutes`` of supervised steps on a
    pool of expert demonstrations of the warm tasks; written to ``out`` with ``warmstart.json``."""
    import numpy as np

    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.policy.paths import COMMITTED_WARMSTART
    from rllib_arpo.recipes.warmstart import DEFAULT_BATCH_SIZE, DEFAULT_LR, warm_start

    started = time.perf_counter()
    pool = demo_pool(settings.warm_tasks, settings.demo_pool, seed=settings.seed)
    pool_s = time.perf_counter() - started
    say(f"  {len(pool)} demonstrations drawn in {pool_s:.0f} s; supervised steps follow")
    policy = load_policy(COMMITTED_WARMSTART)

    def make_demos(rng: np.random.Generator, n: int) -> list[Any]:
        return [pool[int(i)] for i in rng.integers(len(pool), size=n)]

    started = time.perf_counter()
    losses = warm_start(
        policy,
        make_demos,
        steps=10**9,
        batch_size=DEFAULT_BATCH_SIZE,
        lr=DEFAULT_LR,
        seed=settings.seed,
        time_limit_s=settings.warm_minutes * 60,
    )
    policy.export(out)
    record = {
        "started_from": f"the committed MiniDesk warm start ({COMMITTED_WARMSTART.name})",
        "warm_tasks": list(settings.warm_tasks),
        "demonstrations": len(pool),
        "demo_pool_s": round(pool_s, 1),
        "steps": len(losses),
        "duration_s": round(time.perf_counter() - started, 1),
        "final_loss_mean_last_50": float(np.mean(losses[-50:])) if losses else None,
        "batch_size": DEFAULT_BATCH_SIZE,
        "lr": DEFAULT_LR,
        "seed": settings.seed,
    }
    (out / "warmstart.json").write_text(json.dumps(record, indent=2))
    return record


# ------------------------------------------------------------------------------------ step 2


def fixed_click_reference(
    env_factory: Callable[[], Any],
    tasks: Sequence[str],
    coordinate_space: Callable[[int, int], Any],
    episodes: int,
) -> tuple[dict[str, FamilyScore], dict[str, list[int]]]:
    """The best fixed click per task on its held-out pages, and where it clicks.

    Every candidate (``fixed_click_points``) is tried on the first
    ``FIXED_CLICK_SCREEN_EPISODES`` held-out pages; the ``FIXED_CLICK_FINALISTS`` best are scored
    on all ``episodes`` pages, and the best of them is the reference. Choosing the finalist on the
    pages it is scored on can only flatter the fixed click. One task at a time, so each browser
    keeps its page loaded.
    """
    from rllib_arpo.core.groups import task_family
    from rllib_arpo.recipes.held_out import fixed_click_scores

    points = fixed_click_points()
    best: dict[str, FamilyScore] = {}
    where: dict[str, list[int]] = {}
    for task in tasks:
        family = task_family(held_out_ids([task], 1)[0])

        def scores(pages: int, candidates: list[tuple[int, int]], task: str = task) -> dict:
            return fixed_click_scores(
                env_factory,
                held_out_ids([task], pages),
                candidates,
                coordinate_space,
                max_steps=MAX_STEPS,
            )

        screen = scores(min(episodes, FIXED_CLICK_SCREEN_EPISODES), points)
        ranked = sorted(points, key=lambda p: -screen[p][family].successes)
        finalists = scores(episodes, ranked[:FIXED_CLICK_FINALISTS])
        point, score = max(finalists.items(), key=lambda item: item[1][family].successes)
        best[family], where[family] = score[family], list(point)
    return best, where


def fixed_click_points() -> list[tuple[int, int]]:
    """The candidate fixed clicks: ``FIXED_CLICK_CELL``-px cell centres over the task area."""
    from envs.miniwob.browser import INSTRUCTION_HEIGHT, TASK_HEIGHT, TASK_WIDTH

    half = FIXED_CLICK_CELL // 2
    return [
        (x, y)
        for y in range(INSTRUCTION_HEIGHT + half, TASK_HEIGHT, FIXED_CLICK_CELL)
        for x in range(half, TASK_WIDTH, FIXED_CLICK_CELL)
    ]


def cached_fixed_click(
    path: Path | None,
    families: Sequence[str],
    episodes: int,
    compute: Callable[[], tuple[dict[str, FamilyScore], dict[str, list[int]]]],
) -> tuple[dict[str, FamilyScore], dict[str, list[int]], float]:
    """``compute()``'s reference, read from ``path`` when it holds exactly ``families`` at
    ``episodes`` pages each (the reference depends on the held-out pages only, not on any
    policy), else computed and written there. Returns (scores, points, seconds spent computing;
    0 when read)."""
    if path is not None and path.is_file():
        saved = json.loads(path.read_text())
        if set(saved) == set(families) and all(e["episodes"] == episodes for e in saved.values()):
            return (
                {f: FamilyScore(f, e["successes"], e["episodes"]) for f, e in saved.items()},
                {f: e["point"] for f, e in saved.items()},
                0.0,
            )
    started = time.perf_counter()
    scores, points = compute()
    seconds = time.perf_counter() - started
    if path is not None:
        path.write_text(
            json.dumps(
                {
                    f: {"successes": s.successes, "episodes": s.episodes, "point": points[f]}
                    for f, s in scores.items()
                },
                indent=2,
            )
        )
    return scores, points, seconds


# ------------------------------------------------------------------------------------ step 3


def miniwob_config(settings: MiniWoBSettings, warm_path: Path) -> Any:
    """The ``ARPOConfig`` of step 3: the RL tasks' training pages in env ``"miniwob"``."""
    from rllib_arpo.config import ARPOConfig
    from rllib_arpo.recipes.demo import rl_training

    return (
        ARPOConfig()
        .environment("miniwob", env_config={"max_steps": MAX_STEPS})
        .training(
            tasks=training_ids(settings.rl_tasks, settings.training_seeds),
            task_order="random",
            **rl_training(settings, warm_path, max_steps=MAX_STEPS, max_new_tokens=MAX_NEW_TOKENS),
        )
        .debugging(seed=settings.seed)
    )


def train(
    settings: MiniWoBSettings,
    warm_path: Path,
    out: Path,
    progress: Callable[[str], None],
) -> tuple[int, float, list[dict[str, float]], dict[str, float]]:
    """Step 3 on a local Ray (``recipes.demo.train_arpo``): (iterations, seconds, history, mean
    time split per iteration)."""
    from rllib_arpo.recipes.demo import POLICY_DIR, TIME_PARTS, local_ray, time_split, train_arpo

    splits: list[dict[str, float]] = []
    ended = [0.0]  # seconds since training began at the end of the last iteration

    def on_iteration(iteration: int, result: dict, elapsed: float) -> None:
        splits.append(time_split(result, elapsed - ended[0]))
        ended[0] = elapsed
        progress(
            f"\r  iteration {iteration}/{settings.iterations}  sampled success "
            f"{result.get(M.ROLLOUT_SUCCESS_RATE, math.nan):.2f}  "
            f"{sum(splits[-1].values()):.1f} s per iteration   "
        )

    with local_ray():
        algo, done, seconds, _, history = train_arpo(
            miniwob_config(settings, warm_path),
            out,
            iterations=settings.iterations,
            minutes=None,
            on_iteration=on_iteration,
        )
        algo.export_policy(out / POLICY_DIR)
        algo.stop()
    mean = {k: sum(s[k] for s in splits) / max(len(splits), 1) for k in TIME_PARTS}
    return done, seconds, history, mean


# ------------------------------------------------------------------------------------ the run


def run_miniwob(
    settings: MiniWoBSettings,
    *,
    say: Callable[[str], None] = logger.info,
    progress: Callable[[str], None] = logger.debug,
) -> MiniWoBResult:
    """Runs the four steps (module docstring); writes ``summary.json`` in ``settings.out_dir``."""
    from envs.miniwob.env import MiniWoBEnv
    from rllib_arpo.core.groups import task_family
    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.policy.paths import warmstart_record
    from rllib_arpo.recipes.demo import POLICY_DIR, quiet_libraries
    from rllib_arpo.recipes.held_out import evaluate_greedy

    check_settings(settings)
    quiet_libraries()
    run_started = time.perf_counter()
    out = Path(settings.out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)

    warm_path = Path(settings.warmstart_dir or out / "warmstart")
    if not (warm_path / "config.json").exists():
        say(f"[1/4] warm start on {', '.join(settings.warm_tasks)}: {settings.warm_minutes:g} min")
        warm_path.mkdir(parents=True, exist_ok=True)
        build_warmstart(warm_path, settings, say)
    else:
        say(f"[1/4] warm start: {warm_path}")
    record = warmstart_record(warm_path) or {}

    env_factory = partial(MiniWoBEnv, max_steps=MAX_STEPS)
    held_out = held_out_ids(settings.rl_tasks, settings.eval_episodes)
    evaluate = partial(
        evaluate_greedy,
        env_factory=env_factory,
        tasks=held_out,
        max_steps=MAX_STEPS,
        max_new_tokens=MAX_NEW_TOKENS,
    )
    say(f"[2/4] held-out evaluation before RL: {len(held_out)} pages, greedy; the fixed click")
    warm_policy = load_policy(warm_path)
    before = evaluate(warm_policy)
    families = sorted({task_family(task) for task in held_out})
    fixed, where, fixed_s = cached_fixed_click(
        Path(settings.fixed_click_file) if settings.fixed_click_file else None,
        families,
        settings.eval_episodes,
        partial(
            fixed_click_reference,
            env_factory,
            settings.rl_tasks,
            warm_policy.coordinate_space,
            settings.eval_episodes,
        ),
    )
    del warm_policy

    say(
        f"[3/4] ARPO on {', '.join(settings.rl_tasks)} ({settings.training_seeds} training pages "
        f"each): {settings.iterations} iterations of {settings.tasks_per_iteration} x "
        f"{settings.group_size} episodes"
    )
    iterations, seconds, history, split = train(settings, warm_path, out, progress)
    say("")

    say(f"[4/4] held-out evaluation after RL: {len(held_out)} pages, greedy")
    after = evaluate(load_policy(out / POLICY_DIR))
    result = MiniWoBResult(
        settings,
        warm_path,
        record,
        before,
        after,
        fixed,
        where,
        iterations,
        seconds,
        history,
        split,
        fixed_s,
        time.perf_counter() - run_started,
    )
    (out / "summary.json").write_text(json.dumps(result.summary(), indent=2))
    return result
