"""Tests of rllib_arpo/core/replay.py: ARPO's success replay with prioritized draws."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from PIL import Image, ImageDraw

from rllib_arpo.core import metrics as M
from rllib_arpo.core.advantages import compute_group_advantages
from rllib_arpo.core.replay import PriorityMode, SuccessReplayBuffer, should_inject
from rllib_arpo.core.trajectory import Step, Trajectory

REFERENCE_BYTES_PER_SCREENSHOT = 2691 * 4 * 1176 * 4
"""The reference's processed fp32 tensor of one 1920x1080 screenshot: Qwen2.5-VL resizes it to
1932x1092 = 78 x 138 patches of 14 px = 10,764 patches (2,691 merged tokens x 4), each patch
3 channels x 2 frames x 14 x 14 = 1,176 values, 4 bytes each: 50,633,856 bytes."""


def make_traj(
    episode_id: str,
    eval_result: float = 1.0,
    *,
    task_id: str = "task-a",
    group_id: str = "g",
    num_steps: int = 2,
    logprob: float = -0.5,
    policy_version: int = 0,
    screenshot: bytes = b"png",
) -> Trajectory:
    step = Step(screenshot, [1, 2, 3], [logprob] * 3, "text", "wait()", None, "WAIT")
    return Trajectory(
        task_id=task_id,
        group_id=group_id,
        episode_id=episode_id,
        policy_version=policy_version,
        instruction="do it",
        prompt_id="p",
        steps=[step] * num_steps,
        eval_result=eval_result,
        reward=eval_result,
        terminated_by="DONE",
    )


def fail_group(n: int = 8, *, task_id: str = "task-a", group_id: str = "g1", value: float = 0.0):
    return [
        make_traj(f"{group_id}-{i}", value, task_id=task_id, group_id=group_id) for i in range(n)
    ]


def four_entry_buffer(mode: str, alpha: float) -> SuccessReplayBuffer:
    """Entries e0..e3 (oldest first) with steps 3, 1, 2, 1 and mean log-probs -0.1, -2, -0.5, -1."""
    buffer = SuccessReplayBuffer(priority_mode=mode, priority_alpha=alpha)
    for i, (steps, logprob) in enumerate([(3, -0.1), (1, -2.0), (2, -0.5), (1, -1.0)]):
        buffer.add([make_traj(f"e{i}", num_steps=steps, logprob=logprob)])
    return buffer


# ---------------------------------------------------------------------------------------------
# Trigger
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([0.0] * 8, True),
        ([1.0] + [0.0] * 7, False),
        ([0.15] * 8, True),  # std 0, mean < 0.2
        ([0.3] * 8, False),  # mean too high
        ([0.1] + [0.0] * 7, True),  # std 0.033 < 0.05
        ([0.2] + [0.0] * 7, False),  # std 0.066
        ([], False),
    ],
)
def test_should_inject(results, expected) -> None:
    assert should_inject(results) is expected
    assert SuccessReplayBuffer().should_inject(results) is expected


# ---------------------------------------------------------------------------------------------
# Add, capacity, FIFO
# ---------------------------------------------------------------------------------------------
def test_add_keeps_only_fresh_successes_once() -> None:
    buffer = SuccessReplayBuffer()
    added = buffer.add([make_traj("a", 1.0), make_traj("b", 0.1), make_traj("c", 0.11)])
    assert [t.episode_id for t in added] == ["a", "c"]  # eval_result > 0.1
    assert buffer.add([make_traj("a", 1.0)]) == []  # same episode twice
    copy = make_traj("d", 1.0)
    copy.is_replay = True
    assert buffer.add([copy]) == []  # replay copies are never stored
    assert len(buffer) == 2 and buffer.task_ids() == ["task-a"]


def test_capacity_per_task_fifo_eviction() -> None:
    buffer = SuccessReplayBuffer(capacity_per_task=8)
    buffer.add(make_traj(f"e{i}") for i in range(10))
    buffer.add([make_traj("other", task_id="task-b")])
    assert [t.episode_id for t in buffer.trajectories("task-a")] == [f"e{i}" for i in range(2, 10)]
    assert len(buffer) == 9
    assert buffer.trajectories("unknown") == []


# ---------------------------------------------------------------------------------------------
# Inject and the reference order: trigger -> inject -> add
# ---------------------------------------------------------------------------------------------
def test_inject_replaces_the_first_rollout_and_keeps_group_size() -> None:
    buffer = SuccessReplayBuffer()
    buffer.add([make_traj("old-success", group_id="g0", policy_version=2)])
    group = fail_group(8)
    new_group, injected = buffer.inject(group, np.random.default_rng(0), policy_version=5)
    assert len(new_group) == 8
    assert [t.episode_id for t in injected] == ["old-success"]
    assert new_group[0] is injected[0]
    assert new_group[1:] == group[1:]
    copy = new_group[0]
    assert copy.is_replay and copy.group_id == "g1" and copy.policy_version == 2
    assert buffer.trajectories("task-a")[0].is_replay is False  # the stored one is untouched


def test_injected_success_gets_the_reference_advantages() -> None:
    buffer = SuccessReplayBuffer()
    buffer.add([make_traj("old-success")])
    outcome = buffer.process_group(fail_group(8), np.random.default_rng(0))
    rewards = np.array([t.reward for t in outcome.group])
    adv = compute_group_advantages(rewards, [t.group_id for t in outcome.group])
    assert adv[0] == pytest.approx(2.4749, abs=1e-4)
    assert adv[1:] == pytest.approx([-0.35355] * 7, abs=1e-5)


def test_process_group_without_stored_success_changes_nothing() -> None:
    buffer = SuccessReplayBuffer()
    group = fail_group(8)
    outcome = buffer.process_group(group, np.random.default_rng(0))
    assert outcome.triggered and outcome.injected == [] and outcome.group == group
    assert buffer.metrics()[M.REPLAY_TRIGGERED_EMPTY] == 1.0


def test_own_fresh_successes_are_never_injected_into_their_group() -> None:
    # All eight score 0.15: successes for the buffer (> 0.1) yet an all-fail group (mean < 0.2).
    buffer = SuccessReplayBuffer()
    group = fail_group(8, value=0.15)
    outcome = buffer.process_group(group, np.random.default_rng(0))
    assert outcome.triggered
    assert outcome.injected == []  # the buffer was empty when the trigger fired
    assert [t.episode_id for t in outcome.added] == [t.episode_id for t in group]  # added after
    assert len(buffer) == 8
    # The next all-fail group of the task does receive one of them.
    later = buffer.process_group(fail_group(8, group_id="g2"), np.random.default_rng(0))
    assert len(later.injected) == 1 and later.injected[0].episode_id.startswith("g1-")


def test_process_group_adds_successes_of_untriggered_groups_and_not_copies() -> None:
    buffer = SuccessReplayBuffer()
    buffer.add([make_traj("stored")])
    mixed = [make_traj("win", 1.0, group_id="g3")] + fail_group(7, group_id="g3")
    outcome = buffer.process_group(mixed, np.random.default_rng(0))
    assert not outcome.triggered and outcome.group == mixed
    assert [t.episode_id for t in outcome.added] == ["win"]
    failed = buffer.process_group(fail_group(8, group_id="g4"), np.random.default_rng(0))
    assert failed.replaced[0].episode_id == "g4-0"
    assert buffer.add(failed.group) == []  # the injected copy is not stored again
    assert len(buffer) == 2


def test_num_inject_replaces_the_first_k_with_distinct_successes() -> None:
    buffer = SuccessReplayBuffer(num_inject=3)
    buffer.add([make_traj("s0"), make_traj("s1")])
    new_group, injected = buffer.inject(fail_group(8), np.random.default_rng(0))
    assert len(injected) == 2 and {t.episode_id for t in injected} == {"s0", "s1"}
    assert new_group[:2] == injected and len(new_group) == 8
    assert buffer.inject(fail_group(1), np.random.default_rng(0))[1] == []  # keeps one fresh


def test_inject_rejects_mixed_tasks() -> None:
    group = fail_group(2) + fail_group(2, task_id="task-b")
    with pytest.raises(ValueError, match="one task"):
        SuccessReplayBuffer().inject(group, np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------
# Priorities: P(i) = (1 / rank_i)^alpha / sum_j (1 / rank_j)^alpha
# ---------------------------------------------------------------------------------------------
EXACT = [
    # newest first: ranks 4, 3, 2, 1 -> p = 1/4, 1/3, 1/2, 1 -> sum 25/12
    ("recent", 1.0, [3 / 25, 4 / 25, 6 / 25, 12 / 25]),
    # p^2 = 1/16, 1/9, 1/4, 1 -> sum 205/144
    ("recent", 2.0, [9 / 205, 16 / 205, 36 / 205, 144 / 205]),
    # steps 3, 1, 2, 1: ranks 4, 1.5, 3, 1.5 -> p = 1/4, 2/3, 1/3, 2/3 -> sum 23/12
    ("shortest", 1.0, [3 / 23, 8 / 23, 4 / 23, 8 / 23]),
    # mean log-probs -0.1, -2, -0.5, -1: ranks 4, 1, 3, 2 -> p = 1/4, 1, 1/3, 1/2
    ("surprise", 1.0, [3 / 25, 12 / 25, 4 / 25, 6 / 25]),
    ("uniform", 1.0, [0.25] * 4),
]


@pytest.mark.parametrize(("mode", "alpha", "expected"), EXACT)
def test_exact_sampling_probabilities(mode, alpha, expected) -> None:
    probs = four_entry_buffer(mode, alpha).sampling_probabilities("task-a")
    assert list(probs) == ["e0", "e1", "e2", "e3"]
    assert list(probs.values()) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("mode", [m.value for m in PriorityMode])
def test_alpha_zero_is_the_reference_uniform_draw(mode) -> None:
    probs = four_entry_buffer(mode, 0.0).sampling_probabilities("task-a")
    assert list(probs.values()) == pytest.approx([0.25] * 4, abs=1e-12)


@pytest.mark.parametrize(
    ("mode", "alpha"), [("recent", 1.0), ("shortest", 1.0), ("surprise", 1.0), ("recent", 0.0)]
)
def test_draw_frequencies_match_probabilities(mode, alpha) -> None:
    buffer = four_entry_buffer(mode, alpha)
    rng = np.random.default_rng(1234)
    draws = 4000
    counts = dict.fromkeys(["e0", "e1", "e2", "e3"], 0)
    for _ in range(draws):
        counts[buffer.sample("task-a", rng)[0].episode_id] += 1
    for episode_id, p in buffer.sampling_probabilities("task-a").items():
        assert counts[episode_id] / draws == pytest.approx(p, abs=0.03)  # ~4 sigma


def test_surprise_uses_current_policy_scores_over_sampler_logprobs() -> None:
    buffer = four_entry_buffer("surprise", 1.0)
    assert [t.episode_id for t in buffer.trajectories_to_score(policy_version=7)] == [
        "e0",
        "e1",
        "e2",
        "e3",
    ]
    # Under the current policy e0 is the least likely, e1 the most: the order flips.
    updated = buffer.update_scores(
        "task-a", {"e0": -3.0, "e1": -0.05, "e2": -0.5, "e3": -1.0, "gone": -9.0}, 7
    )
    assert updated == 4
    probs = buffer.sampling_probabilities("task-a")
    assert list(probs.values()) == pytest.approx([12 / 25, 3 / 25, 4 / 25, 6 / 25], abs=1e-12)
    assert buffer.trajectories_to_score(policy_version=7) == []
    assert len(buffer.trajectories_to_score(policy_version=8)) == 4  # stale after a new version
    assert buffer.trajectories_to_score(policy_version=8, task_ids=["task-b"]) == []
    with pytest.raises(ValueError, match="is nan"):
        buffer.update_scores("task-a", {"e0": float("nan")})


def test_surprise_mixes_scored_and_fallback_entries() -> None:
    buffer = four_entry_buffer("surprise", 1.0)
    buffer.update_scores("task-a", {"e0": -5.0})  # now the most surprising; others use the sampler
    probs = buffer.sampling_probabilities("task-a")
    assert max(probs, key=probs.get) == "e0"


def test_bad_settings_name_the_value() -> None:
    with pytest.raises(ValueError, match="priority_mode='loss' is not one of"):
        SuccessReplayBuffer(priority_mode="loss")
    with pytest.raises(ValueError, match="priority_alpha=-1"):
        SuccessReplayBuffer(priority_alpha=-1)
    with pytest.raises(ValueError, match="capacity_per_task=0"):
        SuccessReplayBuffer(capacity_per_task=0)


# ---------------------------------------------------------------------------------------------
# Checkpoint state
# ---------------------------------------------------------------------------------------------
def filled_buffer() -> SuccessReplayBuffer:
    buffer = SuccessReplayBuffer(capacity_per_task=3, priority_mode="surprise", priority_alpha=1.0)
    for task in ("task-a", "task-b"):
        buffer.add(make_traj(f"{task}-{i}", task_id=task, logprob=-i / 3) for i in range(5))
    buffer.update_scores("task-a", {"task-a-3": -0.7}, policy_version=4)
    buffer.process_group(fail_group(4, task_id="task-b"), np.random.default_rng(0))
    return buffer


def test_state_round_trip_is_exact_and_picklable() -> None:
    original = filled_buffer()
    state = pickle.loads(pickle.dumps(original.get_state()))
    restored = SuccessReplayBuffer(capacity_per_task=3, priority_mode="surprise", priority_alpha=1)
    restored.set_state(state)
    assert restored.get_state() == original.get_state()
    for task in ("task-a", "task-b"):
        assert restored.trajectories(task) == original.trajectories(task)
        assert restored.sampling_probabilities(task) == original.sampling_probabilities(task)
    draws = []
    for buf in (original, restored):
        rng = np.random.default_rng(9)
        draws.append([buf.sample("task-a", rng)[0].episode_id for _ in range(20)])
    assert draws[0] == draws[1] and len(set(draws[0])) > 1
    assert restored.metrics()[M.REPLAY_INJECTIONS_TOTAL] == 1.0
    # New insertions continue the counter: "recent" order survives a restore.
    restored.add([make_traj("new", task_id="task-a")])
    assert restored.trajectories("task-a")[-1].episode_id == "new"


def test_set_state_checks_version_and_trims_to_capacity() -> None:
    state = filled_buffer().get_state()
    with pytest.raises(ValueError, match="version=99"):
        SuccessReplayBuffer().set_state({**state, "version": 99})
    small = SuccessReplayBuffer(capacity_per_task=1)
    small.set_state(state)
    assert [t.episode_id for t in small.trajectories("task-a")] == ["task-a-4"]


# ---------------------------------------------------------------------------------------------
# Metrics and memory
# ---------------------------------------------------------------------------------------------
def test_metrics_count_this_iteration_and_age() -> None:
    buffer = SuccessReplayBuffer(capacity_per_task=4)
    buffer.add([make_traj("s", policy_version=3), make_traj("t", task_id="task-b")])
    rng = np.random.default_rng(0)
    buffer.process_group(fail_group(8), rng, policy_version=10)  # age 10 - 3 = 7
    buffer.process_group(fail_group(8, task_id="task-c"), rng, policy_version=10)  # nothing stored
    metrics = buffer.metrics()
    assert metrics[M.REPLAY_SIZE] == 2.0
    assert metrics[M.REPLAY_TASKS_COVERED] == 2.0
    assert metrics[M.REPLAY_FILL_RATE] == 2 / 8
    assert metrics[M.REPLAY_TRIGGERED_GROUPS] == 2.0
    assert metrics[M.REPLAY_TRIGGERED_EMPTY] == 1.0
    assert metrics[M.REPLAY_INJECTIONS] == 1.0
    assert metrics[M.REPLAY_ADDED] == 2.0
    assert metrics[M.REPLAY_INJECTED_AGE_MEAN] == 7.0
    assert metrics[M.REPLAY_MEMORY_BYTES] == buffer.memory_bytes() > 0
    buffer.reset_iteration_metrics()
    metrics = buffer.metrics()
    assert metrics[M.REPLAY_INJECTIONS] == 0.0 and metrics[M.REPLAY_INJECTIONS_TOTAL] == 1.0
    assert M.REPLAY_INJECTED_AGE_MEAN not in metrics
    assert SuccessReplayBuffer().metrics()[M.REPLAY_FILL_RATE] == 0.0


def desktop_png(width: int = 1920, height: int = 1080) -> bytes:
    """A desktop-like screenshot: gradient wallpaper, taskbar, two text windows, a photo of noise."""
    rng = np.random.default_rng(0)
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    wallpaper = np.stack(
        np.broadcast_arrays(40 + 80 * y, 70 + 60 * x, 120 + 100 * x * y), axis=-1
    ).astype(np.uint8)
    image = Image.fromarray(wallpaper)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height - 48, width, height], fill=(30, 30, 36))
    for i in range(12):
        color = tuple(int(c) for c in rng.integers(60, 255, 3))
        draw.rectangle([10 + 56 * i, height - 42, 50 + 56 * i, height - 6], fill=color)
    for x0, y0, x1, y1 in [(80, 60, 1100, 820), (700, 200, 1800, 980)]:
        draw.rectangle([x0, y0, x1, y1], fill=(248, 248, 248), outline=(90, 90, 90))
        draw.rectangle([x0, y0, x1, y0 + 32], fill=(220, 224, 230))
        for line in range((y1 - y0 - 50) // 18):
            words = " ".join(
                "".join(chr(97 + int(c)) for c in rng.integers(0, 26, int(rng.integers(2, 9))))
                for _ in range(int(rng.integers(3, 14)))
            )
            draw.text((x0 + 12, y0 + 42 + 18 * line), words, fill=(20, 20, 20))
    image.paste(Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)), (1400, 80))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_stored_1080p_screenshot_is_at_least_50x_smaller_than_reference_tensor() -> None:
    png = desktop_png()
    assert Image.open(io.BytesIO(png)).size == (1920, 1080)
    buffer = SuccessReplayBuffer()
    buffer.add([make_traj("shot", num_steps=1, screenshot=png)])
    stored = buffer.memory_bytes()  # PNG + token ids + log-probs + texts, as held in memory
    assert stored >= len(png)
    assert REFERENCE_BYTES_PER_SCREENSHOT == 50_633_856
    assert REFERENCE_BYTES_PER_SCREENSHOT / stored >= 50
