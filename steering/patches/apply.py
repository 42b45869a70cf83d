"""Patches at work: hook a model's patched layers, or hand a rollout a patch factory.

- :func:`apply_patches`: a ``with`` block during which every layer a patch names is edited on
  each forward pass (per-level patches pick their data by ``level_indices``).
- :func:`rollout_patch`: the ``patch(level_indices) -> context manager`` factory that
  ``agents.rollout(..., patch=)`` expects.
- :func:`input_hooks`: the forward pre-hook that lets input-conditioned patches
  (``patch.needs_input``, e.g. :class:`~steering.patches.counterfactual.Counterfactual`) see
  each forward pass's model input (``apply_patches`` installs it; code that hooks patches by
  hand uses it too).
- :func:`patches_paused`: while such a patch runs its own forward pass (the counterfactual
  input), the patch hooks installed here let every activation through (:func:`paused`).

>>> import torch
>>> from agents.model import ImpalaModel
>>> from steering.patches import Scale
>>> m = ImpalaModel(obs_size=5, channels=(4, 8, 8))
>>> x = torch.zeros(1, 3, 5, 5)
>>> with apply_patches(m, Scale("embedder.fc", None, 0.0)):
...     logits, value = m(x)
>>> bool(torch.allclose(value, m.fc_value.bias))
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ContextManager

import numpy as np
import torch
from torch import nn

from ..hooking import hooks
from .base import Patch, distinct_instances, flatten_patches

__all__ = ["apply_patches", "input_hooks", "patches_paused", "paused", "rollout_patch"]

_PAUSED = [0]


@contextlib.contextmanager
def patches_paused() -> Iterator[None]:
    """Patch hooks are no-ops inside this block (an input-conditioned patch's own forward pass
    of the clean model)."""
    _PAUSED[0] += 1
    try:
        yield
    finally:
        _PAUSED[0] -= 1


def paused() -> bool:
    """True inside :func:`patches_paused`."""
    return _PAUSED[0] > 0


@contextlib.contextmanager
def input_hooks(
    model: nn.Module, patches: Patch | Sequence[Patch], level_indices: np.ndarray | None = None
) -> Iterator[nn.Module]:
    """A forward pre-hook on ``model`` calling ``p.prepare(model, x, level_indices)`` for every
    input-conditioned patch before each (unpaused) forward pass; nothing when there is none."""
    need = [p for p in flatten_patches(patches) if p.needs_input]
    if not need:
        yield model
        return
    rows = None if level_indices is None else np.asarray(level_indices, dtype=np.int64)

    def pre(module, args):
        if paused():
            return None
        if not args or not isinstance(args[0], torch.Tensor):
            raise ValueError("input-conditioned patches need the model called with an input tensor")
        for p in need:
            p.prepare(module, args[0], rows)
        return None

    handle = model.register_forward_pre_hook(pre)
    try:
        yield model
    finally:
        handle.remove()


@contextlib.contextmanager
def apply_patches(
    model: nn.Module,
    patches: Patch | Sequence[Patch],
    level_indices: np.ndarray | None = None,
) -> Iterator[nn.Module]:
    """Hook every patched layer of ``model`` for the duration of a ``with`` block.

    ``level_indices[b]`` is the level shown by batch row ``b`` (for per-level patches).
    """
    flat = distinct_instances(flatten_patches(patches))
    by_layer: dict[str, list[Patch]] = {}
    for p in flat:
        by_layer.setdefault(p.layer, []).append(p)
    rows = None if level_indices is None else np.asarray(level_indices, dtype=np.int64)

    def make(ps: list[Patch]):
        def fn(act: torch.Tensor, name: str) -> torch.Tensor | None:
            if paused():
                return None
            for p in ps:
                act = p.apply(act, rows)
            return act

        return fn

    with input_hooks(model, flat, rows), hooks(model, {layer: make(ps) for layer, ps in by_layer.items()}):
        yield model


def rollout_patch(
    policy_or_model: Any, patches: Patch | Sequence[Patch]
) -> Callable[[np.ndarray], ContextManager]:
    """A ``patch(level_indices) -> context manager`` factory for ``agents.rollout(..., patch=)``."""
    model = getattr(policy_or_model, "model", policy_or_model)
    if not isinstance(model, nn.Module):
        raise ValueError(f"expected a Policy or nn.Module, got {type(policy_or_model).__name__}")
    flat = flatten_patches(patches)

    def factory(level_indices: np.ndarray) -> ContextManager:
        return apply_patches(model, flat, level_indices)

    return factory
