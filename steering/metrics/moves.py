"""Move probabilities by effect, optionally under patches, and target arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..patches.apply import apply_patches

__all__ = ["move_index", "move_probs", "targets_array"]


def move_index(action: int | np.ndarray) -> np.ndarray:
    """Column of :meth:`agents.Policy.move_probs` for canonical action ids."""
    from agents.policy import MOVE_OF_ACTION

    return MOVE_OF_ACTION[np.asarray(action, dtype=np.int64)]


def move_probs(policy: Any, obs: np.ndarray, patches, level_indices) -> np.ndarray:
    """``policy.move_probs(obs)`` with ``patches`` applied (rows = ``level_indices``) if any."""
    if patches:
        with apply_patches(policy.model, patches, level_indices):
            return np.asarray(policy.move_probs(obs))
    return np.asarray(policy.move_probs(obs))


def targets_array(targets, n: int) -> np.ndarray:
    """One ``(row, col)`` or ``(n, 2)`` targets as an ``(n, 2)`` int64 array."""
    t = np.asarray(targets, dtype=np.int64)
    if t.shape == (2,):
        t = np.broadcast_to(t, (n, 2)).copy()
    if t.shape != (n, 2):
        raise ValueError(f"targets must be one (row, col) or ({n}, 2), got shape {t.shape}")
    return t
