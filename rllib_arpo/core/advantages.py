"""Group-relative advantages (GRPO/ARPO): one scalar per trajectory, shared by all its tokens.

ARPO (arXiv 2505.16282, Sec. 3.1) follows GRPO (Shao et al. 2024, arXiv 2402.03300): G episodes of
the same task form a group, and each episode's advantage is its reward standardized within the group

    A_i = (r_i - mean(r_group)) / (std(r_group) + eps),   std unbiased (N - 1), eps = 1e-6,

with no critic and no per-step credit: every generated token of episode i gets A_i.

Groups are keyed by an id (the task id in the reference; the driver passes group ids so that two
groups of one task in one batch stay apart if it wishes), rows may come in any order. Two cases
are defined to give 0 rather than noise: a group with one member (no spread to normalize by) and a
group whose rewards are all equal (the reference would divide a rounding error by 1e-6).

Functions accept numpy arrays or torch tensors and return the same kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

ADV_EPS = 1e-6
"""Added to the group's std before dividing (the reference's 1e-6)."""

ArrayLike = TypeVar("ArrayLike", np.ndarray, torch.Tensor)


def _group_index(group_ids: Sequence[object] | np.ndarray | torch.Tensor) -> tuple[np.ndarray, int]:
    """Map arbitrary hashable group ids to 0..K-1 in order of first appearance."""
    if isinstance(group_ids, torch.Tensor):
        group_ids = group_ids.detach().cpu().tolist()
    index: dict[object, int] = {}
    inverse = np.fromiter(
        (index.setdefault(g, len(index)) for g in group_ids), dtype=np.int64, count=len(group_ids)
    )
    return inverse, len(index)


def _as_float64(rewards: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(rewards, torch.Tensor):
        return rewards.detach().cpu().to(torch.float64).numpy()
    return np.asarray(rewards, dtype=np.float64)


def _like(values: np.ndarray, template: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """``values`` as the kind (numpy/torch), float dtype and device of ``template``."""
    if isinstance(template, torch.Tensor):
        dtype = template.dtype if template.is_floating_point() else torch.get_default_dtype()
        return torch.as_tensor(values, dtype=dtype, device=template.device)
    template = np.asarray(template)
    dtype = template.dtype if np.issubdtype(template.dtype, np.floating) else np.float64
    return values.astype(dtype)


def _group_stats(
    rewards: np.ndarray, inverse: np.ndarray, num_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group: count, mean, unbiased std (0 for single members) and all-equal flag."""
    count = np.bincount(inverse, minlength=num_groups)  # (K,)
    mean = np.bincount(inverse, weights=rewards, minlength=num_groups) / count  # (K,)
    sq_dev = (rewards - mean[inverse]) ** 2  # (N,)
    dof = np.maximum(count - 1, 1)  # (K,) unbiased: N - 1
    std = np.sqrt(np.bincount(inverse, weights=sq_dev, minlength=num_groups) / dof)  # (K,)
    gmax = np.full(num_groups, -np.inf)
    gmin = np.full(num_groups, np.inf)
    np.maximum.at(gmax, inverse, rewards)
    np.minimum.at(gmin, inverse, rewards)
    return count, mean, std, gmax == gmin


def compute_group_advantages(
    rewards: ArrayLike,
    group_ids: Sequence[object] | np.ndarray | torch.Tensor,
    eps: float = ADV_EPS,
) -> ArrayLike:
    """Group-normalized advantage of each trajectory (ARPO Sec. 3.1, GRPO).

    ``A_i = (r_i - mean_g) / (std_g + eps)`` with ``std_g`` the unbiased (N - 1) standard deviation
    of the rewards of i's group g. Single-member groups and groups whose rewards are all equal get
    exactly 0. Computed in float64, returned in the input's float dtype.

    Example: one success among 8 (rewards ``[1, 0, ..., 0]``): mean 0.125, std sqrt(1/8) = 0.35355,
    so the success gets +2.4749 and each failure -0.35355.

    Args:
        rewards: Trajectory rewards, shape (N,), numpy array or torch tensor.
        group_ids: Group key of each row, length N (strings, ints, ...); any row order.
        eps: Added to the std before dividing.

    Returns:
        Advantages, shape (N,), the same kind (numpy/torch), float dtype and device as ``rewards``.
    """
    r = _as_float64(rewards)
    if r.ndim != 1:
        raise ValueError(f"rewards must have shape (N,), got {tuple(r.shape)}")
    inverse, num_groups = _group_index(group_ids)
    if len(inverse) != len(r):
        raise ValueError(f"got {len(r)} rewards but {len(inverse)} group ids")
    if len(r) == 0:
        return _like(r, rewards)
    count, mean, std, all_equal = _group_stats(r, inverse, num_groups)
    adv = (r - mean[inverse]) / (std[inverse] + eps)  # (N,)
    no_signal = (count[inverse] < 2) | all_equal[inverse]  # (N,)
    adv = np.where(no_signal, 0.0, adv)  # (N,)
    return _like(adv, rewards)


def zero_variance_group_fraction(
    rewards: np.ndarray | torch.Tensor, group_ids: Sequence[object] | np.ndarray | torch.Tensor
) -> float:
    """Share of groups whose rewards are all equal (incl. single members): no gradient from them.

    Args:
        rewards: Trajectory rewards, shape (N,).
        group_ids: Group key of each row, length N.

    Returns:
        A float in [0, 1]; 0.0 for an empty batch.
    """
    r = _as_float64(rewards)
    inverse, num_groups = _group_index(group_ids)
    if num_groups == 0:
        return 0.0
    _, _, _, all_equal = _group_stats(r, inverse, num_groups)
    return float(all_equal.mean())


def broadcast_advantages_to_tokens(adv: ArrayLike, loss_mask: ArrayLike) -> ArrayLike:
    """Give every loss token its trajectory's advantage: ``A[b, t] = A[b] * mask[b, t]``.

    Args:
        adv: Per-trajectory advantages, shape (B,) or (B, 1).
        loss_mask: 1 for generated (assistant) tokens, 0 elsewhere, shape (B, T).

    Returns:
        Token advantages, shape (B, T), 0 where the mask is 0; same kind as ``adv``.
    """
    if isinstance(adv, torch.Tensor):
        a = adv.reshape(-1, 1)  # (B, 1)
        mask = torch.as_tensor(loss_mask, device=adv.device).bool()  # (B, T)
        if a.shape[0] != mask.shape[0]:
            raise ValueError(f"adv has {a.shape[0]} rows, loss_mask has shape {tuple(mask.shape)}")
        return torch.where(mask, a, torch.zeros((), dtype=adv.dtype, device=adv.device))
    a = np.asarray(adv).reshape(-1, 1)  # (B, 1)
    mask = np.asarray(loss_mask).astype(bool)  # (B, T)
    if a.shape[0] != mask.shape[0]:
        raise ValueError(f"adv has {a.shape[0]} rows, loss_mask has shape {mask.shape}")
    return np.where(mask, a, np.zeros((), dtype=a.dtype))
