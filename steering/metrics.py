"""Steering metrics, each over N mazes, rates with Wilson 95% confidence intervals.

- :func:`retarget_success`: does the mouse reach the target cell within the step cap
  (cheese removed, or present: reported separately)?
- :func:`path_probability`: normalized path probability, the geometric mean over the
  shortest path start -> target of the policy's probability of the on-path move, computed by
  placing the mouse on each path cell (``docs/published-agent.md``, section 6).
- :func:`fraction_modified`: how many activation elements a patch changes at its own layer
  (vs the unpatched forward pass), as counts and as fractions of the layer and of all hook
  sites together.
- :func:`capability_retention`: in-distribution cheese rate with vs without a patch.
- :func:`cheese_vector_effect`: P(cheese-ward move at the decision square) with and without
  subtracting each maze's cheese vector (published: median 0.81 -> 0.03).

Move probabilities aggregate procgen's 15 actions by effect (``agents.policy.MOVE_OF_ACTION``).

Rates are :class:`agents.eval.stats.Rate`.

>>> r = Rate.of(9, 10)
>>> r.k, r.n, round(r.rate, 2), round(r.lo, 3), round(r.hi, 3)
(9, 10, 0.9, 0.596, 0.982)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.eval.stats import Rate
from agents.model import hook_names
from mazegen import Level, Levels
from mazegen.level import as_levels

from .activations import policy_obs
from .hooking import run_with_cache
from .patches.apply import apply_patches, rollout_patch
from .patches.base import Patch, flatten_patches

__all__ = [
    "capability_retention",
    "cheese_vector_effect",
    "fraction_modified",
    "move_index",
    "path_probability",
    "retarget_success",
    "retarget_success_batch",
    "summarize",
]


def move_index(action: int | np.ndarray) -> np.ndarray:
    """Column of :meth:`agents.Policy.move_probs` for canonical action ids."""
    from agents.policy import MOVE_OF_ACTION

    return MOVE_OF_ACTION[np.asarray(action, dtype=np.int64)]


def _move_probs(policy: Any, obs: np.ndarray, patches, level_indices) -> np.ndarray:
    if patches:
        with apply_patches(policy.model, patches, level_indices):
            return np.asarray(policy.move_probs(obs))
    return np.asarray(policy.move_probs(obs))


def _targets_array(targets, n: int) -> np.ndarray:
    t = np.asarray(targets, dtype=np.int64)
    if t.shape == (2,):
        t = np.broadcast_to(t, (n, 2)).copy()
    if t.shape != (n, 2):
        raise ValueError(f"targets must be one (row, col) or ({n}, 2), got shape {t.shape}")
    return t


def _target_levels(levels, targets, cheese: bool) -> tuple[Levels, np.ndarray]:
    """The levels (cheese removed unless ``cheese``) and their ``(N, 2)`` targets, all open."""
    lv = as_levels(levels)
    t = _targets_array(targets, len(lv))
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

    from .patches.base import Stack

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
    from .patches.base import Compose

    return p if isinstance(p, Patch) else Compose(list(p))


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
    t = _targets_array(targets, len(lv))
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
        mp = _move_probs(policy, obs, patches, np.asarray(rows[s : s + bs]))
        cols = move_index(np.asarray(actions[s : s + bs]))
        logp[s : s + bs] = np.log(np.clip(mp[np.arange(len(cols)), cols], 1e-12, 1.0))
    owner_a = np.asarray(owner)
    for i in range(len(lv)):
        sel = owner_a == i
        if sel.any():
            out[i] = float(np.exp(logp[sel].mean()))
    return out


def fraction_modified(
    policy: Any,
    patches: Patch | Sequence[Patch],
    levels: Levels | Sequence[Level],
) -> dict:
    """Activation elements edited by ``patches`` at the layers they patch.

    For each patched layer: ``modified`` (mean count per forward pass of elements whose value
    the patch changed: for a single-layer patch, the elements that differ from the unpatched
    pass; with patches at several layers, each layer counts its own edits, not the knock-on
    changes of earlier ones), ``max_modified``, ``layer_size`` (elements per sample),
    ``fraction_layer`` = modified / layer_size and ``fraction_network`` = modified / the total
    size of all hook sites (``network_size``). ``"total"`` sums the patched layers;
    ``downstream_changed`` counts every element that differs from the unpatched pass at any
    hook site (the patch's consequences).
    """
    from .hooking import hooks
    from .patches.apply import input_hooks, paused
    from .patches.base import distinct_instances

    lv = as_levels(levels)
    obs = policy_obs(policy, lv)
    x = policy.preprocess(obs)
    rows = np.arange(len(lv))
    names = hook_names(policy.model)
    flat = distinct_instances(flatten_patches(patches))
    by_layer: dict[str, list[Patch]] = {}
    for p in flat:
        by_layer.setdefault(p.layer, []).append(p)
    counts: dict[str, np.ndarray] = {}

    def make(layer: str, ps: list[Patch]):
        def fn(act, name):
            if paused():  # an input-conditioned patch's own pass of the clean model
                return None
            new = act
            for p in ps:
                new = p.apply(new, rows)
            counts[layer] = (new != act).reshape(len(lv), -1).sum(1).numpy()
            return new

        return fn

    _, clean = run_with_cache(policy.model, x, names)
    with input_hooks(policy.model, flat, rows), hooks(
        policy.model, {layer: make(layer, ps) for layer, ps in by_layer.items()}
    ):
        _, patched = run_with_cache(policy.model, x, names)
    network = int(sum(int(np.prod(t.shape[1:])) for t in clean.values()))
    out: dict = {"network_size": network, "layers": {}}
    total = 0.0
    total_max = 0
    for layer in by_layer:
        diff = counts[layer]
        size = int(np.prod(clean[layer].shape[1:]))
        m = float(diff.mean())
        out["layers"][layer] = {
            "modified": m,
            "max_modified": int(diff.max()),
            "layer_size": size,
            "fraction_layer": m / size,
            "fraction_network": m / network,
        }
        total += m
        total_max += int(diff.max())
    down = sum(
        float((patched[n] != clean[n]).reshape(len(lv), -1).sum(1).float().mean()) for n in names
    )
    out["total"] = {
        "modified": total,
        "max_modified": total_max,
        "fraction_network": total / network,
    }
    out["downstream_changed"] = down
    return out


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

    from .methods.vectors import per_level_vectors, random_like

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
    variants: dict[str, Any] = {"original": None, "patched": [_add(layer, vecs, coeff)]}
    if control:
        variants["random_same_norm"] = [
            _add(layer, random_like(vecs, seed, per_level=True), coeff)
        ]
    for name, patches in variants.items():
        mp = _move_probs(policy, obs, patches, rows)
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


def _add(layer: str, vecs: np.ndarray, coeff: float) -> Patch:
    from .patches.edits import Add

    return Add(layer, vecs, coeff, per_level=True)


def summarize(values: Sequence[float]) -> dict:
    """Median, mean and a 95% percentile-bootstrap CI of the mean (seeded, 1000 resamples)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {"n": 0, "median": math.nan, "mean": math.nan, "lo": math.nan, "hi": math.nan}
    rng = np.random.default_rng(0)
    boots = v[rng.integers(0, v.size, size=(1000, v.size))].mean(1)
    return {
        "n": int(v.size),
        "median": float(np.median(v)),
        "mean": float(v.mean()),
        "lo": float(np.quantile(boots, 0.025)),
        "hi": float(np.quantile(boots, 0.975)),
    }
