"""ARPO's TensorBoard output: scalars, per-family success, and a sampled episode as pictures.

Tune already writes RLlib's result dict to TensorBoard; this callback adds what Tune cannot:
an episode strip (screenshots with the clicked points, drags and scrolls drawn, the model's
Thought/Action under each) and the episode's text, plus ARPO's scalars under stable names. It
runs on ``on_train_result``, so a plain ``algo.train()`` outside Tune writes them too, into
``config.tensorboard_dir`` (default ``<algorithm.logdir>/arpo``).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from ray.rllib.callbacks.callbacks import RLlibCallback

from rllib_arpo.core import metrics as M

logger = logging.getLogger(__name__)

TB_SUBDIR = "arpo"
IMAGE_EVERY = 10
"""Write the episode strip and its answers on iteration 1 and every this many after: drawing and
encoding them took 10-15 ms, about 5% of a tiny model's iteration, when done every iteration."""


def flatten(result: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested result dict as ``a/b/c`` keys."""
    flat: dict[str, float] = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(float(value)):
                flat[name] = float(value)
        elif hasattr(value, "item") and getattr(value, "size", 1) == 1:
            try:
                number = float(value.item())
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                flat[name] = number
    return flat


def arpo_scalars(result: dict) -> dict[str, float]:
    """The scalars ARPO writes: its own top-level metrics and the learner's loss metrics."""
    scalars = {k: v for k, v in flatten(result).items() if k.startswith(M.SCALAR_AREAS)}
    learner = result.get("learners", {}).get("default_policy", {})
    scalars.update({k: v for k, v in flatten(learner).items() if k.startswith(M.LEARNER_AREAS)})
    runners = result.get("env_runners", {})
    scalars.update({k: v for k, v in flatten(runners).items() if k.startswith(M.RUNNER_AREAS)})
    return scalars


def episode_markdown(trajectory: Any) -> str:
    """The model's answers of one episode, one numbered block per step (TensorBoard text)."""
    lines = [
        f"**task** `{trajectory.task_id}`, evaluator {trajectory.eval_result:.2f}, "
        f"reward {trajectory.reward:.2f}, ended by {trajectory.terminated_by.value}",
        "",
        f"**instruction** {trajectory.instruction}",
    ]
    for index, step in enumerate(trajectory.steps):
        lines += ["", f"**step {index}**", "```", step.response_text, "```"]
        lines.append(
            f"-> `{step.env_action}`" if step.env_action else f"parse error: {step.parse_error}"
        )
    return "\n".join(lines)


class ARPOTensorBoardCallback(RLlibCallback):
    """Writes ARPO scalars, per-family success and an episode strip each iteration."""

    def __init__(self) -> None:
        super().__init__()
        self._writer = None

    def _writer_for(self, algorithm: Any):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            configured = getattr(algorithm.config, "tensorboard_dir", None)
            logdir = (
                Path(configured)
                if configured
                else Path(getattr(algorithm, "logdir", None) or ".") / TB_SUBDIR
            )
            self._writer = SummaryWriter(str(logdir))
            logger.info("ARPO TensorBoard events: %s", logdir)
        return self._writer

    def on_train_result(
        self, *, algorithm: Any, metrics_logger=None, result: dict, **kwargs
    ) -> None:
        writer = self._writer_for(algorithm)
        step = int(result.get("training_iteration", 0))
        for name, value in arpo_scalars(result).items():
            writer.add_scalar(name, value, step)
        sample = getattr(algorithm, "last_sampled_trajectory", None)
        if sample is not None and (step - 1) % IMAGE_EVERY == 0:
            from rllib_arpo.outputs.drawing import to_hwc_uint8, trajectory_strip

            strip = trajectory_strip(sample, thumb_width=224, max_steps=6)
            writer.add_image(M.EPISODE_STRIP, to_hwc_uint8(strip), step, dataformats="HWC")
            writer.add_text(M.EPISODE_ANSWERS, episode_markdown(sample), step)
        writer.flush()
