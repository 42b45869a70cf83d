"""Patches at work: hook a model's patched layers, or hand a rollout a patch factory.

- :func:`apply_patches`: a ``with`` block during which every layer a patch names is edited on
  each forward pass (per-level patches pick their data by ``level_indices``).
- :func:`rollout_patch`: the ``patch(level_indices) -> context manager`` factory that
  ``agents.rollout(..., patch=)`` expects.

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
from .base import Patch, flatten_patches

__all__ = ["apply_patches", "rollout_patch"]


@contextlib.contextmanager
def apply_patches(
    model: nn.Module,
    patches: Patch | Sequence[Patch],
    level_indices: np.ndarray | None = None,
) -> Iterator[nn.Module]:
    """Hook every patched layer of ``model`` for the duration of a ``with`` block.

    ``level_indices[b]`` is the level shown by batch row ``b`` (for per-level patches).
    """
    flat = flatten_patches(patches)
    by_layer: dict[str, list[Patch]] = {}
    for p in flat:
        by_layer.setdefault(p.layer, []).append(p)
    rows = None if level_indices is None else np.asarray(level_indices, dtype=np.int64)

    def make(ps: list[Patch]):
        def fn(act: torch.Tensor, name: str) -> torch.Tensor:
            for p in ps:
                act = p.apply(act, rows)
            return act

        return fn

    with hooks(model, {layer: make(ps) for layer, ps in by_layer.items()}):
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
