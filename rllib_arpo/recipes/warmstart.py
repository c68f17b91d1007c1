"""Supervised warm start: teach a policy the answer format (and what an expert does) from demos.

RL on a random-init small model is hopeless: it never writes a parseable action, so every group
scores -0.5 and carries no gradient. A few hundred supervised steps on scripted demonstrations
(``Thought: ...\\nAction: ...`` answers for screenshots) teach the format, after which ARPO has
groups with mixed rewards to learn from. The loss is the mean negative log-likelihood of the
demonstrated response tokens, computed by the same teacher-forced pass that ARPO trains with.

``run_warmstart`` is ``arpo warmstart`` (and the demo's first step): MiniDesk's scripted expert on
fresh task seeds, ``warm_start``, then the checkpoint and its ``warmstart.json`` record. No Ray
here. Light at import (torch and numpy load when a function runs): the CLI reads the defaults
below when it builds its options.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rllib_arpo.policy.tiny import DEFAULT_TINY_SIZE
from rllib_arpo.recipes import SettingError

if TYPE_CHECKING:
    import numpy as np
    import torch

logger = logging.getLogger(__name__)

DEFAULT_STEPS = 3000
"""Optimizer steps at most."""
DEFAULT_BATCH_SIZE = 16
"""Demo episodes per step."""
DEFAULT_LR = 3e-4
"""Peak AdamW learning rate (3e-4 learned grounding best on this CPU, see docs/reference on tiny
VLMs; 1e-3 teaches the model to ignore the image)."""
DEMO_TASKS_PER_FAMILY = 20_000
"""Demo task seeds per (family, level) the expert draws from (from ``DEMO_SEED_START``)."""
PROGRESS_EVERY_S = 2.0
"""Seconds between progress lines."""


@dataclass(frozen=True)
class WarmstartSettings:
    """One warm-start run (``arpo warmstart``'s flags).

    Attributes:
        families: MiniDesk task families the expert demonstrates.
        levels: Their levels; all of one screen size.
        policy: Checkpoint directory to start from; None writes a fresh tiny model of ``size``.
        size: Tiny model size (``policy.tiny.TINY_SIZES``).
        steps: Optimizer steps at most.
        time_limit_min: Stop after this many minutes (None: only ``steps``).
        batch_size: Demo episodes per step.
        lr: Peak AdamW learning rate.
        seed: Seeds the weights and the demo draws.
    """

    families: Sequence[str] = ("click_button",)
    levels: Sequence[str] = ("grid112",)
    policy: str | None = None
    size: str = DEFAULT_TINY_SIZE
    steps: int = DEFAULT_STEPS
    time_limit_min: float | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    lr: float = DEFAULT_LR
    seed: int = 0


@dataclass(frozen=True)
class Demo:
    """One demonstrated episode: the screenshots seen and the answer text for each."""

    instruction: str
    screenshots: Sequence[Any]
    responses: Sequence[str]

    def __post_init__(self) -> None:
        if len(self.screenshots) != len(self.responses) or not self.responses:
            raise ValueError(
                f"a demo needs one response per screenshot (got {len(self.screenshots)} "
                f"screenshots, {len(self.responses)} responses)"
            )


def response_token_ids(policy: Any, text: str) -> list[int]:
    """The token ids a policy would have sampled for ``text`` (ending with ``<|im_end|>``)."""
    return policy.builder.encode(text) + [policy.builder.im_end_id]


def demo_nll(policy: Any, demos: Sequence[Demo], token_budget: int = 16_384) -> torch.Tensor:
    """Mean negative log-likelihood per demonstrated token (differentiable)."""
    import torch

    from rllib_arpo.policy.model import TrajectoryInput

    inputs = [
        TrajectoryInput(
            demo.instruction,
            list(demo.screenshots),
            [response_token_ids(policy, text) for text in demo.responses],
        )
        for demo in demos
    ]
    results = policy.trajectory_logprobs(inputs, temperature=1.0, token_budget=token_budget)
    logp = torch.cat([r.flat_logp() for r in results])
    return -logp.mean()


def warm_start(
    policy: Any,
    make_demos: Callable[[np.random.Generator, int], Sequence[Demo]],
    *,
    steps: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lr: float = DEFAULT_LR,
    warmup_steps: int = 30,
    seed: int = 0,
    time_limit_s: float | None = None,
    on_step: Callable[[int, float], None] | None = None,
    losses_out: list[float] | None = None,
) -> list[float]:
    """Supervised fine-tuning of ``policy`` in place on freshly drawn demos each step.

    Args:
        policy: A loaded ``rllib_arpo.policy.Policy``.
        make_demos: ``(rng, n) -> n demos`` (e.g. MiniDesk's scripted expert on random seeds).
        steps: Optimizer steps.
        batch_size: Demos per step.
        lr: Peak AdamW learning rate (see ``DEFAULT_LR``).
        warmup_steps: Linear warm-up steps.
        seed: Seeds the demo draws.
        time_limit_s: Stop early after this many seconds.
        on_step: Called with (step, loss) after each step (progress bars).
        losses_out: A list to append each step's loss to (still filled if interrupted).

    Returns:
        The loss of every step taken.
    """
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / max(warmup_steps, 1))
    )
    losses: list[float] = [] if losses_out is None else losses_out
    started = time.perf_counter()
    for step in range(steps):
        loss = demo_nll(policy, make_demos(rng, batch_size))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            logger.info("warm start stopped at step %d: time limit %.0f s", step, time_limit_s)
            break
    return losses


def expert_demos(
    env: Any,
    tasks: Sequence[Any],
    expert: Callable[[Any], str],
    *,
    max_steps: int = 15,
) -> Callable[[np.random.Generator, int], list[Demo]]:
    """A ``make_demos`` for ``warm_start``: the scripted expert solving random tasks of a list.

    Each demo is one whole episode (every screenshot the expert saw and its answer text), run
    through the same action language and env interpreter a policy's answers go through.

    Args:
        env: A MiniDesk-like env (``reset(options={"task": ...})``, text actions).
        tasks: Task ids or dicts to draw from.
        expert: ``env -> UI-TARS answer text`` (e.g. ``envs.minidesk.expert.expert_action``).
        max_steps: Longest demo episode.
    """
    from rllib_arpo.core.actions import parse_response, to_pyautogui
    from rllib_arpo.core.coords import CoordinateSpace

    def make_demos(rng: np.random.Generator, n: int) -> list[Demo]:
        demos: list[Demo] = []
        while len(demos) < n:
            task = tasks[int(rng.integers(len(tasks)))]
            observation, info = env.reset(seed=int(rng.integers(2**31)), options={"task": task})
            screenshots, responses = [], []
            for _ in range(max_steps):
                screenshot = observation["screenshot"]
                text = expert(env)
                screenshots.append(screenshot)
                responses.append(text)
                space = CoordinateSpace.for_screen(screenshot.shape[1], screenshot.shape[0])
                parsed = parse_response(text, space)
                if not parsed.ok:
                    raise RuntimeError(f"the expert wrote an unparsable answer: {parsed.error}")
                observation, _, terminated, truncated, _ = env.step(to_pyautogui(parsed, space))
                if terminated or truncated:
                    break
            demos.append(Demo(info["instruction"], screenshots, responses))
        return demos

    return make_demos


# ------------------------------------------------------------------------------------ the run


def check_warmstart_inputs(
    families: Sequence[str],
    levels: Sequence[str],
    *,
    setting_names: tuple[str, str] = ("families", "levels"),
) -> tuple[int, int]:
    """The one screen size of ``levels``; ``SettingError`` (named by ``setting_names``) on an
    unknown family or level, or on levels of different screen sizes."""
    from envs.minidesk import families as family_module

    families_setting, levels_setting = setting_names
    try:
        family_module.check_family_names(families)
    except ValueError as error:
        raise SettingError(families_setting, str(error)) from None
    bad_levels = [level for level in levels if level not in family_module.LEVELS]
    if bad_levels:
        raise SettingError(
            levels_setting,
            f"unknown levels {bad_levels}; choose from {', '.join(family_module.LEVELS)}",
        )
    screens = {
        family_module.GRID_LEVELS.get(level, family_module.DEFAULT_SCREEN) for level in levels
    }
    if len(screens) != 1:
        raise SettingError(
            levels_setting,
            f"levels {list(levels)} need different screen sizes {sorted(screens)}; warm-start one "
            "screen size at a time",
        )
    return screens.pop()


def run_warmstart(
    out_dir: str | Path,
    settings: WarmstartSettings = WarmstartSettings(),
    *,
    say: Callable[[str], None] = logger.info,
    progress: Callable[[str], None] = logger.debug,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Warm-starts a policy on MiniDesk expert demos and writes it to ``out_dir``.

    Ctrl-C stops the training early; the checkpoint is still written.

    Args:
        out_dir: Checkpoint directory to write.
        settings: What to train and for how long.
        say: Gets whole lines (the final one).
        progress: Gets progress lines, each meant to overwrite the last (``\\r``, no newline).
        command: The command line recorded in ``warmstart.json`` [default: ``arpo`` + argv].

    Returns:
        The record also written to ``out_dir/warmstart.json`` (command, duration, steps, final
        loss, ...).

    Raises:
        SettingError: Unknown families or levels, or levels of different screen sizes.
        rllib_arpo.policy.load.PolicyLoadError: ``settings.policy`` does not load.
    """
    import torch

    from envs.minidesk import families as family_module
    from envs.minidesk.env import MiniDeskEnv
    from envs.minidesk.expert import expert_action
    from rllib_arpo.policy.load import load_policy
    from rllib_arpo.policy.tiny import write_tiny_checkpoint

    family_list, level_list = list(settings.families), list(settings.levels)
    screen = check_warmstart_inputs(family_list, level_list)
    out = Path(out_dir)
    torch.manual_seed(settings.seed)
    if settings.policy is None:
        base = write_tiny_checkpoint(
            tempfile.mkdtemp(prefix="arpo-base-"), size=settings.size, seed=settings.seed
        )
    else:
        base = Path(settings.policy)
    model = load_policy(base)
    demo_tasks = [
        family_module.task_id(family, level, family_module.DEMO_SEED_START + i)
        for family in family_list
        for level in level_list
        for i in range(DEMO_TASKS_PER_FAMILY)
    ]
    make_demos = expert_demos(MiniDeskEnv(screen_size=screen), demo_tasks, expert_action)
    started = time.perf_counter()
    on_step = _progress_lines(settings, started, progress)
    losses: list[float] = []
    interrupted = False
    try:
        warm_start(
            model,
            make_demos,
            steps=settings.steps,
            batch_size=settings.batch_size,
            lr=settings.lr,
            seed=settings.seed,
            time_limit_s=None if settings.time_limit_min is None else settings.time_limit_min * 60,
            on_step=on_step,
            losses_out=losses,
        )
    except KeyboardInterrupt:
        interrupted = True
    say("")
    duration = time.perf_counter() - started
    model.export(out)
    record = {
        "command": " ".join(shlex.quote(a) for a in command or ["arpo", *sys.argv[1:]]),
        "duration_s": round(duration, 1),
        "steps": len(losses),
        "final_loss": losses[-1] if losses else None,
        "families": family_list,
        "levels": level_list,
        "batch_size": settings.batch_size,
        "lr": settings.lr,
        "seed": settings.seed,
        "interrupted": interrupted,
        "started_from": str(base),
    }
    (out / "warmstart.json").write_text(json.dumps(record, indent=2))
    say(
        f"warm start {'interrupted' if interrupted else 'done'}: {len(losses)} steps in "
        f"{duration / 60:.1f} min, final loss {record['final_loss']}; checkpoint: {out}"
    )
    return record


def _progress_lines(
    settings: WarmstartSettings, started: float, progress: Callable[[str], None]
) -> Callable[[int, float], None]:
    """A ``warm_start`` ``on_step`` that sends a line (step, loss, speed, ETA) every
    ``PROGRESS_EVERY_S`` and at the last step."""
    steps, limit_min = settings.steps, settings.time_limit_min
    last_line = [0.0]

    def on_step(step: int, loss: float) -> None:
        now = time.perf_counter() - started
        if now - last_line[0] < PROGRESS_EVERY_S and step + 1 != steps:
            return
        last_line[0] = now
        rate = (step + 1) / max(now, 1e-9)
        eta = (steps - step - 1) / rate
        if limit_min is not None:
            eta = min(eta, max(0.0, limit_min * 60 - now))
        done = f"{step + 1}" if limit_min else f"{step + 1}/{steps}"
        progress(
            f"\rwarmstart step {done}  loss {loss:.4f}  {rate:.1f} steps/s  "
            f"elapsed {now / 60:.1f} min  eta {eta / 60:.1f} min   "
        )

    return on_step
