"""Held-out scoring of the demo: the verdict, the table, the fixed-click reference, the tally."""

from __future__ import annotations

from rllib_arpo.recipes.held_out import (
    FamilyScore,
    best_fixed_click,
    change_verdict,
    family_scores,
    grid_cell_centres,
    summary_table,
)


def test_verdict_says_when_a_change_is_within_noise() -> None:
    before, small, large = (
        FamilyScore("f", 24, 100),
        FamilyScore("f", 30, 100),
        FamilyScore("f", 60, 100),
    )
    assert change_verdict(before, small).endswith("within noise")
    assert change_verdict(before, large).endswith("better")
    assert change_verdict(large, before).endswith("worse")
    table = summary_table({"f": before}, {"f": large})
    assert (
        "24.0% ±  4.3" in table
        and "60.0% ±  4.9" in table
        and table.splitlines()[-1].startswith("all")
    )
    with_reference = summary_table({"f": before}, {"f": large}, {"f": FamilyScore("f", 37, 100)})
    assert "fixed click" in with_reference.splitlines()[0]
    assert "37.0%" in with_reference.splitlines()[1]


def test_grid_cell_centres_cover_the_token_grid() -> None:
    centres = grid_cell_centres((112, 112))
    assert len(centres) == 16 and centres[0] == (14, 14) and centres[-1] == (98, 98)
    assert len(grid_cell_centres((224, 224))) == 64


def test_family_scores_count_every_episode_per_family() -> None:
    class Episode:
        def __init__(self, task_id: str, success: bool) -> None:
            self.task_id, self.success = task_id, success

        def is_success(self) -> bool:
            return self.success

    episodes = [
        Episode("minidesk/click_button/grid112/0", True),
        Episode("minidesk/click_button/grid112/1", False),
        Episode("minidesk/drag_slider/grid112/0", True),
    ]
    assert family_scores(episodes) == {
        "click_button/grid112": FamilyScore("click_button/grid112", 1, 2),
        "drag_slider/grid112": FamilyScore("drag_slider/grid112", 1, 1),
    }


def wins_by_hand(env, tasks: list[str], point: tuple[int, int]) -> int:
    """Successes of clicking ``point`` then DONE on each task, stepping ``env`` directly."""
    wins = 0
    for task in tasks:
        env.reset(options={"task": task})
        env.step(f"pyautogui.click(x={point[0]}, y={point[1]})")
        wins += env.step("DONE")[1] > 0.5
    return wins


def test_best_fixed_click_matches_clicking_each_point_by_hand() -> None:
    """The screen-blind reference equals stepping MiniDesk with each click, then DONE."""
    from envs.minidesk.env import MiniDeskEnv
    from rllib_arpo.core.coords import CoordinateSpace

    def env_factory() -> MiniDeskEnv:
        return MiniDeskEnv(screen_size=(112, 112), max_steps=4)

    tasks = [f"minidesk/select_dropdown/grid112/{seed}" for seed in range(12)]
    points = [(56, 42), (56, 70), (56, 98), (14, 14)]
    by_hand = {point: wins_by_hand(env_factory(), tasks, point) for point in points}
    assert len(set(by_hand.values())) > 1  # the points differ, so "best" means something
    scores = best_fixed_click(
        env_factory,
        tasks,
        points,
        lambda w, h: CoordinateSpace(w, h, 2 * w, 2 * h),  # model frame twice the screen
        max_steps=4,
    )
    assert list(scores) == ["select_dropdown/grid112"]
    assert scores["select_dropdown/grid112"].successes == max(by_hand.values())
    assert scores["select_dropdown/grid112"].episodes == len(tasks)


def test_every_fixed_click_is_scored_on_one_pool_of_envs() -> None:
    """``fixed_click_scores`` gives each point's own success, and makes envs once, not per point
    (a MiniWoB env is a browser)."""
    from envs.minidesk.env import MiniDeskEnv
    from rllib_arpo.core.coords import CoordinateSpace
    from rllib_arpo.recipes.held_out import fixed_click_scores

    made = []

    def env_factory() -> MiniDeskEnv:
        made.append(MiniDeskEnv(screen_size=(112, 112), max_steps=4))
        return made[-1]

    tasks = [f"minidesk/select_dropdown/grid112/{seed}" for seed in range(12)]
    points = [(56, 42), (56, 70), (56, 98), (14, 14)]
    by_point = fixed_click_scores(
        env_factory, tasks, points, CoordinateSpace.for_screen, max_steps=4
    )
    env = MiniDeskEnv(screen_size=(112, 112), max_steps=4)
    for point in points:
        wins = wins_by_hand(env, tasks, point)
        assert by_point[point]["select_dropdown/grid112"].successes == wins
    assert len(made) == len(tasks)
