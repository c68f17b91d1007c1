"""``rllib_arpo.evaluation.tables``: a task beside its noisy twin, env errors left out of rates."""

from __future__ import annotations

import csv
import json

from rllib_arpo.evaluation.tables import (
    TABLE_COLUMNS,
    format_table,
    summary,
    task_table,
    write_table,
)


def test_table_pairs_noisy_twins_and_leaves_env_errors_out(make_episode) -> None:
    episodes = [
        make_episode("t1", 0, True), make_episode("t1", 1, False, 5),
        make_episode("t1_noise", 0, False, ended="parse_error"),
        make_episode("t1_noise", 1, False, ended="env_error"),
        make_episode("t2_noise", 0, True),
    ]  # fmt: skip
    rows = task_table(episodes)
    assert [r.task_id for r in rows] == ["t1", "t2"]
    t1, t2 = rows
    assert t1.original.success_rate == 0.5 and t1.original.mean_steps == 4.0
    assert t1.noisy.trials == 2 and t1.noisy.valid == 1 and t1.noisy.success_rate == 0.0
    assert t1.delta == -0.5 and t1.format_errors == 1 and t1.env_errors == 1
    assert t2.original is None and t2.noisy.success_rate == 1.0 and t2.delta is None
    total = summary(rows)
    assert total["success_rate_original"] == 0.5 and total["success_rate_noisy"] == 0.5
    assert total["mean_delta"] == -0.5 and total["pairs"] == 1
    text = format_table(rows)
    first = text.splitlines()[2].split()
    assert first[:6] == ["chrome/t1", "50%", "(1/2)", "0%", "(0/1)", "-50%"]
    assert text.splitlines()[-1].startswith("all (2 tasks, 5 episodes)")


def test_written_table_has_every_column_and_the_episodes(make_episode, tmp_path) -> None:
    episodes = [make_episode("t1", 0, True), make_episode("t1_noise", 0, False)]
    paths = write_table(tmp_path, task_table(episodes), {"episodes": episodes})
    with paths["csv"].open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert tuple(row) == TABLE_COLUMNS and row["delta"] == "-1.0"
    assert row["mean_steps"] == "3.0" and row["original_success_rate"] == "1.0"
    document = json.loads(paths["json"].read_text())
    assert document["summary"]["pairs"] == 1
    assert [e["task_id"] for e in document["episodes"]] == ["t1", "t1_noise"]
