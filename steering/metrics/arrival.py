"""Arrival: does the mouse reach its target cell within the step cap (:func:`retarget_success`,
and many variants in one batched rollout: :func:`retarget_success_batch`)?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.eval.stats import Rate
from mazegen import Level, Levels
from mazegen.levels import as_levels

from ..patches.apply import rollout_patch
from ..patches.base import Patch, flatten_patches
from .moves import targets_array

__all__ = ["retarget_success", "retarget_success_batch"]


def _target_levels(levels, targets, cheese: bool) -> tuple[Levels, np.ndarray]:
    """The levels (cheese removed unless ``cheese``) and their ``(N, 2)`` targets, all open."""
    lv = as_levels(levels)
    t = targets_array(targets, len(lv))
    if not cheese:
        lv = Levels.from_list([x.with_cheese(None) for x in lv])
    for i, x in enumerate(lv):
        if not x.is_open(tuple(t[i])):
            raise ValueError(f"target {tuple(t[i])} of level {i} is a wall or outside the world")
    return lv, t


def retarget_success(
    policy: Any,
    levels: Levels | Sequence[Level],
    targets,
    patches: Patch | Sequence[Patch] | None,
    *,
    cheese: bool = False,
    max_steps: int = 250,
    seed: int = 0,
    deterministic: bool = False,
) -> tuple[Rate, Any]:
    """Fraction of mazes where the mouse reaches its target within ``max_steps``.

    ``cheese=False`` removes the cheese first (the published setting); with ``cheese=True``
    the cheese stays and an episode that eats it first counts as a failure. Returns
    ``(Rate, RolloutResult)``.
    """
    from agents.eval.rollout import rollout

    lv, t = _target_levels(levels, targets, cheese)
    factory = rollout_patch(policy, patches) if patches else None
    res = rollout(
        policy,
        lv,
        deterministic=deterministic,
        seed=seed,
        max_steps=max_steps,
        targets=t,
        stop_on_target=True,
        patch=factory,
    )
    reached = np.asarray(res.reached_target, dtype=bool)
    return Rate.of(int(reached.sum()), len(reached)), res


def retarget_success_batch(
    policy: Any,
    variants: Sequence[tuple[Levels | Sequence[Level], Any, Patch | Sequence[Patch] | None, bool]],
    *,
    max_steps: int = 250,
    seed: int = 0,
    deterministic: bool = False,
    split: bool = False,
) -> list[Rate] | list[dict[str, Rate]]:
    """:func:`retarget_success` for many ``(levels, targets, patches, cheese)`` variants in one
    batched rollout (a :class:`~steering.patches.Stack` routes each block of rows to its
    patch). Variants whose patches span several layers are run one by one.

    ``split=True`` returns, per variant, the three exclusive outcomes as Rates:
    ``{"reached": reached the target, "cheese_first": ate the cheese before reaching it (the
    episode ends there), "neither": neither within the cap}``."""
    from agents.eval.rollout import rollout

    from ..patches.base import Stack

    blocks, tg, subs, layers = [], [], [], set()
    for lv, targets, patches, cheese in variants:
        lv, t = _target_levels(lv, targets, cheese)
        blocks.append(lv)
        tg.append(t)
        subs.append(patches or None)
        layers |= {q.layer for q in flatten_patches(patches)} if patches else set()
    if len(layers) > 1:
        out = []
        for lv, t, p in zip(blocks, tg, subs):
            rate, res = retarget_success(
                policy, lv, t, p, cheese=True, max_steps=max_steps, seed=seed,
                deterministic=deterministic,
            )
            out.append(_split(res) if split else rate)
        return out
    sizes = [len(b) for b in blocks]
    factory = None
    if layers:
        stack = Stack(next(iter(layers)), [None if p is None else _compose(p) for p in subs], sizes)
        factory = rollout_patch(policy, stack)
    res = rollout(
        policy,
        Levels.concat(blocks),
        deterministic=deterministic,
        seed=seed,
        max_steps=max_steps,
        targets=np.concatenate(tg),
        stop_on_target=True,
        patch=factory,
    )
    reached = np.asarray(res.reached_target, dtype=bool)
    cheese_first = np.asarray(res.got_cheese, dtype=bool) & ~reached
    out, s = [], 0
    for n in sizes:
        if split:
            out.append(_split_arrays(reached[s : s + n], cheese_first[s : s + n]))
        else:
            out.append(Rate.of(int(reached[s : s + n].sum()), n))
        s += n
    return out


def _split_arrays(reached: np.ndarray, cheese_first: np.ndarray) -> dict[str, Rate]:
    n = len(reached)
    neither = ~reached & ~cheese_first
    return {
        "reached": Rate.of(int(reached.sum()), n),
        "cheese_first": Rate.of(int(cheese_first.sum()), n),
        "neither": Rate.of(int(neither.sum()), n),
    }


def _split(res) -> dict[str, Rate]:
    reached = np.asarray(res.reached_target, dtype=bool)
    return _split_arrays(reached, np.asarray(res.got_cheese, dtype=bool) & ~reached)


def _compose(p):
    from ..patches.base import Compose

    return p if isinstance(p, Patch) else Compose(list(p))
