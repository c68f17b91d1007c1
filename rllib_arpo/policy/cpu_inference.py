"""Rollout inference on a CPU: decode from packed bf16 weights; keep freed memory for reuse.

**Packed decode weights.** A decode step multiplies one row per sequence by every weight matrix of the language model, so
its cost is reading those weights. PyTorch's bf16 ``F.linear`` with a plain (out, in) weight reads
them at about 60% of the copy bandwidth on the boxes measured here; the same product on a weight
reordered once into oneDNN's blocked layout (``torch.ops.mkldnn._reorder_linear_weight``, the
kernel PyTorch's own compiler emits for CPU linears) reads at about the copy bandwidth
(``bench/step.py`` prints both). So a rollout policy in bf16 on a CPU keeps a packed copy of each
language-model linear weight and uses it when at most ``PACKED_ROWS_MAX`` rows pass (decoding);
prefills and the learner's passes (gradients) use the plain weight.

The packed copies cost the language model's linear weights once more in memory (2.6 GB at the
UI-TARS-2B shape), and go stale when the weights change: ``Policy.set_state`` repacks them.
Results equal ``F.linear`` up to bf16 rounding (checked when packing: a layer whose packed result
disagrees is left plain).

**Freed memory kept.** glibc's malloc serves blocks over 32 MB (and, at first, over 128 KB) with
fresh ``mmap`` pages and hands them back on free, so every large temporary of a prefill (a
(rows, tokens, 8960) MLP activation is 75 MB at 8 x 522 tokens) is page-faulted in anew; in the VMs
measured here that made elementwise ops run at 0.5 GB/s and an 8-screenshot prefill 1.9x slower
than 8 single ones. ``reuse_freed_memory`` turns glibc's mmap serving and heap trimming off for the
process (``mallopt``), so freed blocks are reused: the same prefill then costs 8 single ones. The
process's memory stays at its peak instead of shrinking; rollout processes only.

**Patch embedding as one matmul.** The vision tower embeds patches with a ``Conv3d`` whose
stride equals its kernel, so each patch meets the kernel exactly once: the same product as one
matmul of the flattened patches by the kernel viewed as (out, in). oneDNN's bf16 Conv3d takes
270 ms for an 800x450 screenshot's 1,856 patches where that matmul takes 3 ms (measured here).
``patch_embedding_as_matmul`` makes such convolutions a ``MatmulPatchConv3d`` (a ``Conv3d`` with
that forward) when a policy loads on a CPU, for every pass (sampler and learner alike); the
parameters are untouched, so checkpoints and weight syncs see the same Conv3d.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import types

import torch
import torch.nn.functional as F

PACKED_ROWS_MAX = 16
"""Inputs with at most this many rows (decode steps of up to 16 sequences) use the packed weight."""
CHECK_ATOL = 2e-2
"""Largest |packed - plain| / (1 + |plain|) accepted when a layer is packed (bf16 rounding)."""


M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
"""glibc ``mallopt`` parameters (malloc.h)."""


def reuse_freed_memory() -> bool:
    """Keep freed memory in the process's heap for reuse (glibc only; module docstring).
    Returns whether it applied."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    no_mmap = libc.mallopt(M_MMAP_MAX, 0)
    no_trim = libc.mallopt(M_TRIM_THRESHOLD, ctypes.c_int(2**31 - 1))
    return bool(no_mmap and no_trim)


def packing_available() -> bool:
    """Whether this PyTorch build has oneDNN's packed linear."""
    return torch.backends.mkldnn.is_available() and hasattr(
        torch.ops.mkldnn, "_reorder_linear_weight"
    )


def _packed_forward(self, x: torch.Tensor) -> torch.Tensor:
    rows = x.numel() // x.shape[-1]
    if rows > PACKED_ROWS_MAX or torch.is_grad_enabled():
        return F.linear(x, self.weight, self.bias)
    flat = x.reshape(rows, x.shape[-1])
    out = torch.ops.mkldnn._linear_pointwise(flat, self._packed_weight, self.bias, "none", [], "")
    return out.reshape(*x.shape[:-1], out.shape[-1])


def _pack(linear: torch.nn.Linear) -> bool:
    packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), 1)
    probe = torch.randn(2, linear.in_features, dtype=linear.weight.dtype)
    plain = F.linear(probe, linear.weight.detach(), linear.bias)
    fast = torch.ops.mkldnn._linear_pointwise(probe, packed, linear.bias, "none", [], "")
    error = ((fast.float() - plain.float()).abs() / (1 + plain.float().abs())).max().item()
    if error > CHECK_ATOL:
        return False
    linear._packed_weight = packed
    return True


def decode_linears(model) -> list[torch.nn.Linear]:
    """The language model's linear layers and its output head (not the vision tower: it only
    runs in prefills)."""
    vision = set(model.model.visual.modules())
    return [
        module
        for module in model.modules()
        if isinstance(module, torch.nn.Linear) and module not in vision
    ]


def pack_for_decode(model) -> int:
    """Give every bf16 CPU linear of ``decode_linears`` a packed weight and the forward that
    uses it; returns how many were packed (0 where packing does not apply)."""
    if not packing_available():
        return 0
    count = 0
    with torch.no_grad():
        for linear in decode_linears(model):
            weight = linear.weight
            if weight.dtype != torch.bfloat16 or weight.device.type != "cpu":
                continue
            if type(weight) is not torch.nn.Parameter and type(weight) is not torch.Tensor:
                continue  # quantized weights have their own kernels
            if _pack(linear):
                linear.forward = types.MethodType(_packed_forward, linear)
                count += 1
    return count


def repack(model) -> int:
    """Refresh the packed weights after the plain ones changed; returns how many."""
    count = 0
    with torch.no_grad():
        for linear in decode_linears(model):
            if hasattr(linear, "_packed_weight"):
                linear._packed_weight = torch.ops.mkldnn._reorder_linear_weight(
                    linear.weight.detach(), 1
                )
                count += 1
    return count


class MatmulPatchConv3d(torch.nn.Conv3d):
    """A non-overlapping ``Conv3d`` (a patch embedding) computed as one matmul."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (patches, C, T, P, P), exactly one kernel each -> (patches, E, 1, 1, 1)
        if tuple(x.shape[2:]) != tuple(self.kernel_size):
            return super().forward(x)
        out_channels = self.weight.shape[0]
        flat = x.reshape(x.shape[0], -1)  # (patches, C*T*P*P)
        out = F.linear(flat, self.weight.reshape(out_channels, -1), self.bias)  # (patches, E)
        return out.view(x.shape[0], out_channels, 1, 1, 1)


def patch_embedding_as_matmul(model) -> int:
    """Make every non-overlapping ``Conv3d`` (stride == kernel; no padding, dilation or groups:
    a patch embedding) a ``MatmulPatchConv3d`` in place (module docstring; same parameters);
    returns how many."""
    count = 0
    for module in model.modules():
        if (
            type(module) is torch.nn.Conv3d
            and tuple(module.stride) == tuple(module.kernel_size)
            and tuple(module.padding) == (0, 0, 0)
            and tuple(module.dilation) == (1, 1, 1)
            and module.groups == 1
        ):
            module.__class__ = MatmulPatchConv3d
            count += 1
    return count
