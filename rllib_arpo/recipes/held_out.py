"""Held-out success per task family: the demo's before/after numbers and what they are worth.

- ``held_out_tasks``: MiniDesk task ids on seeds that neither the warm start nor RL ever draws.
- ``evaluate_by_family``: one episode per task under any rollout ``GenerateFn``, tallied per
  family into ``FamilyScore`` (successes of episodes, with its binomial standard error);
  ``evaluate_greedy`` runs it for a policy at temperature 0.
- ``best_fixed_click``: the reference a trained policy must beat, the best single screen- and
  instruction-blind click (``fixed_click_scores``: every candidate click's success).
- ``change_verdict`` / ``summary_table``: a change is "within noise" unless it exceeds 2 SE.

No Ray. (``core.groups.success_by_family`` is a training metric, a rate over fresh episodes;
this tally keeps counts, which the standard error needs, and counts every episode.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

NOISE_Z = 2.0
"""A change larger than this many standard errors is reported as better or worse."""
FIXED_CLICK_ANSWER = "Thought: I click.\nAction: click(start_box='({x},{y})')"
FINISHED_ANSWER = "Thought: The task is complete.\nAction: finished(content='')"
BATCH_TASKS = 32
"""Evaluation episodes run side by side (one env each)."""


@dataclass(frozen=True)
class FamilyScore:
    """Success of one family on held-out seeds."""

    family: str
    successes: int
    episodes: int

    @property
    def rate(self) -> float:
        return self.successes / self.episodes if self.episodes else 0.0

    @property
    def stderr(self) -> float:
        """Binomial standard error of the rate (``binomial_stderr``)."""
        return binomial_stderr(self.rate, self.episodes)


def binomial_stderr(rate: float, episodes: int) -> float:
    """Standard error of a success rate over ``episodes`` episodes: sqrt(p (1 - p) / n); 0 for
    no episodes."""
    return math.sqrt(rate * (1 - rate) / episodes) if episodes else 0.0


def held_out_tasks(families: Sequence[str], level: str, episodes: int) -> list[str]:
    """``episodes`` held-out task ids per family (seeds 0 .. episodes - 1, never trained on)."""
    from envs.minidesk.families import HELD_OUT_SEEDS, task_id

    if episodes > len(HELD_OUT_SEEDS):
        raise ValueError(f"at most {len(HELD_OUT_SEEDS)} held-out episodes per family")
    return [task_id(f, level, seed) for f in families for seed in range(episodes)]


def family_scores(trajectories: Sequence[Any]) -> dict[str, FamilyScore]:
    """Successes and episodes per task family (``core.groups.task_family``), families sorted."""
    from rllib_arpo.core.groups import task_family

    outcomes: dict[str, list[bool]] = {}
    for trajectory in trajectories:
        family = task_family(trajectory.task_id)
        outcomes.setdefault(family, []).append(trajectory.is_success())
    return {f: FamilyScore(f, sum(v), len(v)) for f, v in sorted(outcomes.items())}


def evaluate_by_family(
    generate: Callable[[list[Any]], list[Any]],
    coordinate_space: Callable[[int, int], Any],
    env_factory: Callable[[], Any],
    tasks: Sequence[str],
    *,
    max_steps: int,
    batch_tasks: int = BATCH_TASKS,
) -> dict[str, FamilyScore]:
    """Runs one episode per task id under ``generate`` (a rollout ``GenerateFn``), batched
    across tasks, and scores them per family."""
    rollout = _one_episode_rollout(env_factory, generate, coordinate_space, max_steps)
    try:
        return family_scores(_run_each_once(rollout, tasks, batch_tasks))
    finally:
        rollout.close()


def _one_episode_rollout(
    env_factory: Callable[[], Any],
    generate: Callable[[list[Any]], list[Any]] | None,
    coordinate_space: Callable[[int, int], Any],
    max_steps: int,
) -> Any:
    """A ``GroupRollout`` of one episode per task (its envs are pooled across runs)."""
    from rllib_arpo.rollout.loop import GroupRollout, RolloutSettings

    return GroupRollout(
        env_factory, generate, coordinate_space, RolloutSettings(group_size=1, max_steps=max_steps)
    )


def _run_each_once(rollout: Any, tasks: Sequence[str], batch_tasks: int) -> list[Any]:
    """One episode of every task id, ``batch_tasks`` at a time; their trajectories."""
    trajectories = []
    for start in range(0, len(tasks), batch_tasks):
        batch, _ = rollout.run(list(tasks[start : start + batch_tasks]), seed=0)
        trajectories.extend(batch)
    return trajectories


def evaluate_greedy(
    policy: Any,
    env_factory: Callable[[], Any],
    tasks: Sequence[str],
    *,
    max_steps: int,
    max_new_tokens: int,
) -> dict[str, FamilyScore]:
    """Greedy (temperature 0) success per task family of ``policy``, one episode per task id."""
    from rllib_arpo.policy.generate import SamplingParams
    from rllib_arpo.rollout.generation import policy_generate_fn

    greedy = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens)
    if policy.turn_cache is None:
        policy.enable_turn_cache()  # turn k prefills only what turn k-1 did not see
    return evaluate_by_family(
        policy_generate_fn(policy, greedy),
        policy.coordinate_space,
        env_factory,
        tasks,
        max_steps=max_steps,
    )


def grid_cell_centres(screen_size: tuple[int, int], cell: int = 28) -> list[tuple[int, int]]:
    """Centres of the ``cell``-px grid over a screen (where grid-level widgets sit)."""
    width, height = screen_size
    return [
        (x + cell // 2, y + cell // 2)
        for y in range(0, height - cell + 1, cell)
        for x in range(0, width - cell + 1, cell)
    ]


def fixed_click_generate_fn(
    point: tuple[int, int], coordinate_space: Callable[[int, int], Any]
) -> Callable[[list[Any]], list[Any]]:
    """A screen- and instruction-blind ``GenerateFn``: click the screen pixel ``point`` (written
    in the policy's coordinate frame, as the model would), then ``finished()``."""
    from rllib_arpo.rollout.generation import TurnResponse

    def click(screenshot: Any) -> str:
        height, width = screenshot.shape[:2]
        x, y = coordinate_space(width, height).to_model(*point)
        return FIXED_CLICK_ANSWER.format(x=x, y=y)

    def generate(requests: list[Any]) -> list[Any]:
        return [
            TurnResponse(
                FINISHED_ANSWER if r.previous_responses else click(r.screenshots[-1]), [], []
            )
            for r in requests
        ]

    return generate


def fixed_click_scores(
    env_factory: Callable[[], Any],
    tasks: Sequence[str],
    points: Sequence[tuple[int, int]],
    coordinate_space: Callable[[int, int], Any],
    *,
    max_steps: int,
) -> dict[tuple[int, int], dict[str, FamilyScore]]:
    """Per screen pixel of ``points``, the success per family of always clicking it (then
    ``finished()``) on ``tasks``. One pool of envs serves every point (a browser starts in about
    a second; a MiniDesk env in microseconds)."""
    rollout = _one_episode_rollout(env_factory, None, coordinate_space, max_steps)
    scores: dict[tuple[int, int], dict[str, FamilyScore]] = {}
    try:
        for point in points:
            rollout.generate = fixed_click_generate_fn(point, coordinate_space)
            scores[tuple(point)] = family_scores(_run_each_once(rollout, tasks, BATCH_TASKS))
    finally:
        rollout.close()
    return scores


def best_fixed_click(
    env_factory: Callable[[], Any],
    tasks: Sequence[str],
    points: Sequence[tuple[int, int]],
    coordinate_space: Callable[[int, int], Any],
    *,
    max_steps: int,
) -> dict[str, FamilyScore]:
    """Per family, the success of the best single fixed click (then ``finished()``) among the
    screen pixels ``points`` on ``tasks``: what a policy that ignores the screen and the
    instruction reaches. A trained policy at this level has learned a default, not to read the
    task."""
    best: dict[str, FamilyScore] = {}
    by_point = fixed_click_scores(env_factory, tasks, points, coordinate_space, max_steps=max_steps)
    for scores in by_point.values():
        for family, score in scores.items():
            if family not in best or score.successes > best[family].successes:
                best[family] = score
    return dict(sorted(best.items()))


def total_score(scores: dict[str, FamilyScore]) -> FamilyScore:
    """All families together, as the family ``"all"``."""
    return FamilyScore(
        "all",
        sum(s.successes for s in scores.values()),
        sum(s.episodes for s in scores.values()),
    )


def change_z(before: FamilyScore, after: FamilyScore) -> float:
    """The change from ``before`` to ``after`` in standard errors of the difference,
    (p_after - p_before) / sqrt(SE_before^2 + SE_after^2); NaN when both errors are 0."""
    se = math.sqrt(before.stderr**2 + after.stderr**2)
    return (after.rate - before.rate) / se if se else math.nan


def change_verdict(before: FamilyScore, after: FamilyScore) -> str:
    """'+7.0 pts (2.1 SE)' with a plain verdict: within noise unless |change| > ``NOISE_Z`` SE."""
    delta = after.rate - before.rate
    z = change_z(before, after)
    if math.isnan(z):
        return f"{delta * 100:+.1f} pts"
    verdict = "within noise" if abs(z) <= NOISE_Z else ("better" if z > 0 else "worse")
    return f"{delta * 100:+.1f} pts ({z:+.1f} SE): {verdict}"


def summary_table(
    before: dict[str, FamilyScore],
    after: dict[str, FamilyScore],
    fixed_click: dict[str, FamilyScore] | None = None,
) -> str:
    """The before/after table the demo prints (success %, standard error, change, verdict), with
    the best fixed click's success per family when given (``best_fixed_click``)."""
    blind = fixed_click or {}
    header = f"{'family':<28} {'before':>15} {'after':>15}"
    rows = [header + (f" {'fixed click':>12}" if blind else "") + "   change"]
    families = sorted(set(before) | set(after))
    pairs = [(f, before.get(f), after.get(f)) for f in families]
    pairs.append(("all", total_score(before), total_score(after)))
    for family, b, a in pairs:
        if b is None or a is None:
            continue
        row = (
            f"{family:<28} {b.rate * 100:6.1f}% ± {b.stderr * 100:4.1f} "
            f"{a.rate * 100:6.1f}% ± {a.stderr * 100:4.1f}"
        )
        if blind:
            reference = total_score(blind) if family == "all" else blind.get(family)
            row += f" {reference.rate * 100:11.1f}%" if reference else f" {'':>12}"
        rows.append(f"{row}   {change_verdict(b, a)}")
    return "\n".join(rows)
