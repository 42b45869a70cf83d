"""Normalized path probability (``docs/published-agent.md``, section 6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mazegen import Level, Levels
from mazegen.levels import as_levels

from ..activations import policy_obs
from ..patches.base import Patch
from .moves import move_index, move_probs, targets_array

__all__ = ["path_probability"]


def path_probability(
    policy: Any,
    levels: Levels | Sequence[Level],
    targets,
    patches: Patch | Sequence[Patch] | None = None,
    *,
    cheese: bool = False,
) -> np.ndarray:
    """``(N,)`` normalized path probability of each maze (start -> target; 1.0 if equal)."""
    from mazegen.solvers import next_action_towards, shortest_path

    lv = as_levels(levels)
    t = targets_array(targets, len(lv))
    frames: list[Level] = []
    rows: list[int] = []
    actions: list[int] = []
    owner: list[int] = []
    for i, x in enumerate(lv):
        if not cheese:
            x = x.with_cheese(None)
        path = shortest_path(x.walls, x.mouse, tuple(int(v) for v in t[i]))
        cells = np.asarray(path[:-1], dtype=np.int64).reshape(-1, 2)
        if len(cells) == 0:
            continue
        acts = np.asarray(next_action_towards(x.walls, cells, tuple(int(v) for v in t[i])))
        for c, a in zip(cells, acts):
            frames.append(x.replace(mouse=(int(c[0]), int(c[1]))))
            rows.append(i)
            actions.append(int(a))
            owner.append(i)
    out = np.ones(len(lv), dtype=np.float64)
    if not frames:
        return out
    logp = np.zeros(len(frames))
    bs = 256
    for s in range(0, len(frames), bs):
        obs = policy_obs(policy, frames[s : s + bs])
        mp = move_probs(policy, obs, patches, np.asarray(rows[s : s + bs]))
        cols = move_index(np.asarray(actions[s : s + bs]))
        logp[s : s + bs] = np.log(np.clip(mp[np.arange(len(cols)), cols], 1e-12, 1.0))
    owner_a = np.asarray(owner)
    for i in range(len(lv)):
        sel = owner_a == i
        if sel.any():
            out[i] = float(np.exp(logp[sel].mean()))
    return out
