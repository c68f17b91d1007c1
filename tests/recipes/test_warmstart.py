"""The warm-start recipe: its inputs are checked by name; the committed warm start is sound."""

from __future__ import annotations

import pytest

from rllib_arpo.policy.paths import (
    COMMITTED_WARMSTART,
    COMMITTED_WARMSTART_FAMILIES,
    COMMITTED_WARMSTART_LEVEL,
    committed_warmstart,
    warmstart_record,
)
from rllib_arpo.recipes import SettingError
from rllib_arpo.recipes.warmstart import check_warmstart_inputs


def test_warmstart_inputs_give_one_screen_or_name_the_bad_setting() -> None:
    assert check_warmstart_inputs(["click_button"], ["grid112"]) == (112, 112)
    with pytest.raises(SettingError, match=r"unknown families \['nope'\]") as raised:
        check_warmstart_inputs(["nope"], ["grid112"])
    assert raised.value.setting == "families"
    with pytest.raises(SettingError, match="unknown levels") as raised:
        check_warmstart_inputs(["click_button"], ["grid9"], setting_names=("warm", "level"))
    assert raised.value.setting == "level"
    with pytest.raises(SettingError, match="different screen sizes"):
        check_warmstart_inputs(["click_button"], ["grid112", "grid224"])


def test_the_committed_warm_start_loads_and_records_how_it_was_made() -> None:
    from rllib_arpo.policy.load import load_policy

    path = committed_warmstart(COMMITTED_WARMSTART_FAMILIES, COMMITTED_WARMSTART_LEVEL, seed=0)
    assert path == COMMITTED_WARMSTART
    record = warmstart_record(path)
    assert record["command"].startswith("arpo warmstart ") and record["steps"] == 2291
    assert record["duration_s"] > 60 and not record["interrupted"]
    assert sum(f.stat().st_size for f in path.iterdir()) < 8 * 2**20
    policy = load_policy(path)
    assert sum(p.numel() for p in policy.model.parameters()) < 2_000_000
    # Other families, levels or seeds are not what it was trained on: the demo builds those.
    assert committed_warmstart(["click_button"], COMMITTED_WARMSTART_LEVEL, seed=0) is None
    assert committed_warmstart(COMMITTED_WARMSTART_FAMILIES, "grid224", seed=0) is None
    assert committed_warmstart(COMMITTED_WARMSTART_FAMILIES, COMMITTED_WARMSTART_LEVEL, 1) is None
