"""Behavioural effects of a patch: capability retention (in-distribution cheese rate with vs
without it) and the cheese vector's effect at the decision square."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.eval.stats import Rate
from mazegen import Level, Levels
from mazegen.levels import as_levels

from ..activations import policy_obs
from ..patches.apply import rollout_patch
from ..patches.base import Patch
from .moves import move_index, move_probs

__all__ = ["capability_retention", "cheese_vector_effect"]


def capability_retention(
    policy: Any,
    levels: Levels | Sequence[Level],
    patches: Patch | Sequence[Patch] | None,
    *,
    max_steps: int = 500,
    seed: int = 0,
    deterministic: bool = False,
) -> dict:
    """In-distribution cheese rate with vs without the patch (same levels, same seed)."""
    from agents.eval.rollout import rollout

    lv = as_levels(levels)
    base = rollout(policy, lv, deterministic=deterministic, seed=seed, max_steps=max_steps)
    factory = rollout_patch(policy, patches) if patches else None
    pat = rollout(
        policy, lv, deterministic=deterministic, seed=seed, max_steps=max_steps, patch=factory
    )
    b = np.asarray(base.got_cheese, bool)
    p = np.asarray(pat.got_cheese, bool)
    rb, rp = Rate.of(int(b.sum()), len(b)), Rate.of(int(p.sum()), len(p))
    return {
        "without_patch": rb,
        "with_patch": rp,
        "retention": (rp.rate / rb.rate) if rb.rate and rb.rate > 0 else math.nan,
    }


def cheese_vector_effect(
    policy: Any,
    levels: Levels | Sequence[Level],
    layer: str,
    *,
    coeff: float = -1.0,
    control: bool = True,
    seed: int = 0,
) -> dict:
    """P(cheese-ward move | mouse at the decision square) without (``"original"``) and with
    (``"patched"``) ``coeff`` x the maze's own cheese vector added; the default ``coeff=-1``
    subtracts it, the published use.

    Mazes whose decision square is the cheese or the top-right cell (the two paths do not
    split) are skipped and counted. Reports the per-maze probabilities, their medians, and the
    rate (Wilson CI) of mazes where the cheese-ward move is the most probable move. With
    ``control`` also the same-norm random vector.
    """
    from mazegen.solvers import decision_square, next_action_towards

    from ..methods.vectors import per_level_vectors, random_like, steering_patch

    lv = as_levels(levels)
    keep: list[Level] = []
    squares: list[tuple[int, int]] = []
    skipped = 0
    for x in lv:
        if x.cheese is None:
            skipped += 1
            continue
        x = x.replace(mouse=x.start_cell) if x.mouse != x.start_cell else x
        if x.cheese == x.mouse:
            skipped += 1
            continue
        ds = decision_square(x)  # None when undefined
        ds_t = None if ds is None else (int(ds[0]), int(ds[1]))
        if ds_t is None or ds_t[0] < 0 or ds_t in (x.cheese, x.top_right_cell):
            skipped += 1
            continue
        keep.append(x)
        squares.append(ds_t)
    out: dict = {"layer": layer, "coeff": float(coeff), "n": len(keep), "skipped": skipped}
    if not keep:
        return out
    vecs = per_level_vectors(policy, keep, layer, "cheese")
    at_ds = [x.replace(mouse=s) for x, s in zip(keep, squares)]
    actions = np.array(
        [
            int(np.asarray(next_action_towards(x.walls, np.array([s]), x.cheese)).reshape(-1)[0])
            for x, s in zip(keep, squares)
        ]
    )
    cols = move_index(actions)
    obs = policy_obs(policy, at_ds)
    rows = np.arange(len(keep))
    variants: dict[str, Any] = {
        "original": None,
        "patched": [steering_patch(vecs, layer, coeff, per_level=True)],
    }
    if control:
        variants["random_same_norm"] = [
            steering_patch(random_like(vecs, seed, per_level=True), layer, coeff, per_level=True)
        ]
    for name, patches in variants.items():
        mp = move_probs(policy, obs, patches, rows)
        p = mp[rows, cols]
        argmax = mp[:, [0, 1, 3, 4]].argmax(1)  # the 4 moves (no-op excluded)
        is_top = np.array([0, 1, 3, 4])[argmax] == cols
        out[name] = {
            "p_cheese_ward": p.tolist(),
            "median": float(np.median(p)),
            "mean": float(np.mean(p)),
            "argmax_cheese_ward": Rate.of(int(is_top.sum()), len(is_top)).to_dict(),
        }
    return out
