"""The pruning experiment: the K·std bound against measured removals, and pruning curves.

:func:`run_prune_curves` prunes (mean-ablates) the lowest-std ``k%`` of one layer's channels and,
globally, of all residual-stream channels, against random sets and the smallest outgoing-weight
norms: in-distribution cheese rate, the 25x25 far-corner outcomes and the KL from the unpruned
policy.

:func:`run_prune_bound` runs the bound rows (:func:`steering.methods.prune_bound.bound_rows`) on
each layer and the curves as resumable units (``bound_<layer>``, :data:`CURVE_UNITS`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch

from agents.eval.stats import Rate
from mazegen import Levels, generate_levels
from mazegen.checks import check_int

from ..activations import DEFAULT_LAYER, policy_obs
from ..methods.probe_data import probe_seeds
from ..methods.prune_bound import bound_rows, outgoing_weight_norms
from ..patches.apply import apply_patches, rollout_patch
from ..patches.base import Stack
from ..patches.edits import Ablate

__all__ = ["CURVE_UNITS", "PruneBoundConfig", "run_prune_bound", "run_prune_curves"]


@dataclass
class PruneBoundConfig:
    """Settings of ``scripts/probe.py prune --bound`` (:func:`bound_rows`, :func:`run_prune_curves`)."""

    #: the layer of the per-layer pruning curve
    layer: str = DEFAULT_LAYER
    #: layers of the bound table (None: every residual-stream layer)
    bound_layers: list | None = None
    #: mazes for the channel stds and the measured logit changes (uniform cheese)
    std_mazes: int = 200
    #: mazes per distribution and variant for the behaviour
    mazes: int = 40
    #: percentages of channels pruned
    percents: list = field(default_factory=lambda: [10, 25, 50])
    #: random channel sets per percentage
    random_draws: int = 2
    #: step cap per episode
    max_steps: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        self.std_mazes = check_int("std_mazes", self.std_mazes, 2)
        self.mazes = check_int("mazes", self.mazes, 1)
        self.random_draws = check_int("random_draws", self.random_draws, 0, 100)
        for p in self.percents:
            if not 0 < float(p) <= 100:
                raise ValueError(f"percents must be in (0, 100], got {p!r}")


def _outcomes(res, sel) -> dict:
    out = {}
    oc = np.asarray(res.outcome)[sel]
    for name in ("cheese", "top_right"):
        r = Rate.of(int((oc == name).sum()), len(oc))
        out[name] = {"rate": r.rate, "ci_lo": r.lo, "ci_hi": r.hi, "n": r.n}
    return out


def run_prune_curves(
    policy: Any,
    cfg: PruneBoundConfig,
    stats: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    progress: Callable[[str], None] | None = None,
    unit: Callable[[str, Callable[[], Any]], Any] | None = None,
) -> list[dict]:
    """Rows (scope ``layer``/``global``, selection, percent, draw) with the in-distribution
    cheese rate, the 25x25 top-left and bottom-right outcome rates and the mean KL from the
    unpruned policy. ``stats`` maps each residual-stream layer to its ``(std, mean)``.
    ``unit(stem, compute)`` (:func:`agents.rundir.unit_runner`'s) runs each of
    :data:`CURVE_UNITS`; default: computed here."""
    from agents.eval.rollout import rollout

    say = progress or (lambda m: None)
    layers = list(stats)
    rng = np.random.default_rng(cfg.seed)
    variants: list[tuple[str, str, float, int | None, dict[str, list[int]]]] = [("none", "baseline", 0, None, {})]
    # per layer
    std, _ = stats[cfg.layer]
    c = len(std)
    mag = outgoing_weight_norms(policy, cfg.layer)
    for p in cfg.percents:
        k = max(1, int(round(c * p / 100)))
        variants.append(("layer", "lowest-std", p, None, {cfg.layer: np.argsort(std, kind="stable")[:k].tolist()}))
        variants.append(("layer", "weight-magnitude", p, None, {cfg.layer: np.argsort(mag, kind="stable")[:k].tolist()}))
        for d in range(cfg.random_draws):
            variants.append(("layer", "random", p, d, {cfg.layer: np.sort(rng.choice(c, k, replace=False)).tolist()}))
    # global: every stream layer's channels ranked together
    owner = [(ly, ch) for ly in layers for ch in range(len(stats[ly][0]))]
    gstd = np.array([stats[ly][0][ch] for ly, ch in owner])
    gmag = np.concatenate([outgoing_weight_norms(policy, ly) for ly in layers])
    for p in cfg.percents:
        k = max(1, int(round(len(owner) * p / 100)))
        picks = [("lowest-std", None, np.argsort(gstd, kind="stable")[:k]),
                 ("weight-magnitude", None, np.argsort(gmag, kind="stable")[:k])]
        picks += [("random", d, rng.choice(len(owner), k, replace=False)) for d in range(cfg.random_draws)]
        for sel, d, idx in picks:
            chans: dict[str, list[int]] = {}
            for i in sorted(idx.tolist()):
                chans.setdefault(owner[i][0], []).append(owner[i][1])
            variants.append(("global", sel, p, d, chans))

    def stacks(n: int) -> list[Stack]:
        out = []
        for ly in layers:
            subs = [Ablate(ly, ch[ly], "mean", np.asarray(stats[ly][1], np.float32)) if ly in ch else None
                    for *_, ch in variants]
            if any(s is not None for s in subs):
                out.append(Stack(ly, subs, [n] * len(variants)))
        return out

    dists = {
        "in": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=200_000), cheese="top-right:5"),
        "top-left": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=400_000), maze_size=25, cheese="top-left"),
        "bottom-right": generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=500_000), maze_size=25, cheese="bottom-right"),
    }
    n = cfg.mazes
    rows = [{"scope": s, "selection": sel, "percent": p, "draw": d,
             "channels_pruned": sum(len(v) for v in ch.values()),
             "channels": ";".join(f"{ly}:{' '.join(map(str, v))}" for ly, v in ch.items())}
            for s, sel, p, d, ch in variants]
    unit = unit or (lambda stem, compute: compute())

    def kl_rows() -> list[float]:  # KL on the first frames of the in-distribution mazes
        lv_in = dists["in"]
        x = policy.preprocess(policy_obs(policy, Levels.concat([lv_in] * len(variants))))
        with torch.no_grad(), apply_patches(policy.model, stacks(n), np.arange(n * len(variants))):
            logp = torch.log_softmax(policy.model(x)[0].double(), -1).reshape(len(variants), n, -1)
        return (logp[0].exp()[None] * (logp[0][None] - logp)).sum(-1).mean(1).tolist()

    for r, v in zip(rows, unit("curves_kl", kl_rows)):
        r["kl_mean"] = float(v)
    blocks = np.repeat(np.arange(len(variants)), n)

    def dist_rows(dist: str, lv: Levels) -> list[dict]:
        say(f"pruning: {len(variants)} variants x {n} mazes, {dist}")
        res = rollout(policy, Levels.concat([lv] * len(variants)), seed=cfg.seed, max_steps=cfg.max_steps,
                      patch=rollout_patch(policy, stacks(n)))
        got = []
        for b in range(len(variants)):
            o, g = _outcomes(res, blocks == b), {}
            for name in ("cheese", "top_right") if dist != "in" else ("cheese",):
                key = f"{dist}_{name}"
                g[key], g[f"{key}_ci_lo"], g[f"{key}_ci_hi"] = o[name]["rate"], o[name]["ci_lo"], o[name]["ci_hi"]
            got.append(g)
        return got

    for dist, lv in dists.items():
        for r, g in zip(rows, unit(f"curves_{dist}", partial(dist_rows, dist, lv))):
            r.update(g)
    return rows


#: the units of :func:`run_prune_curves`, after the bound layers' ones
CURVE_UNITS = ("curves_kl", "curves_in", "curves_top-left", "curves_bottom-right")


def run_prune_bound(
    policy: Any,
    cfg: PruneBoundConfig,
    layers: Sequence[str],
    *,
    out: str | os.PathLike | None = None,
    bar: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """``{"bound_rows": [...], "curves": [...]}``: :func:`bound_rows` at every bound layer
    (channel stats from ``std_mazes`` uniform-cheese mazes) and :func:`run_prune_curves`;
    ``layers``: the residual-stream layers
    (:func:`steering.experiments.probe_layers.stream_layers`), pruned together by the global curve.

    Resume: with ``out``, a run directory (:func:`agents.rundir.open_run`: refused if it holds
    other settings or another agent's weights) of units reused when finished: ``stats``, one
    ``bound_<layer>`` per bound layer, and the curves' ``curves_kl`` and one per distribution
    (``curves_in``, ``curves_top-left``, ``curves_bottom-right``; each the one batched rollout of
    every variant). Each unit is seeded by ``cfg.seed`` alone, so a resumed run gives the rows
    of an uninterrupted one. ``bar``: a tqdm bar over the units."""
    from agents.rundir import unit_runner, unit_stem

    from ..methods.prune import channel_stats

    layers = list(layers)
    blayers = list(cfg.bound_layers or layers)
    for ly in blayers + [cfg.layer]:
        if ly not in layers:
            raise ValueError(f"layer {ly!r} is not a residual-stream layer; choose from {layers}")
    std_lv = generate_levels(probe_seeds(cfg.std_mazes, cfg.seed, offset=0), cheese="uniform")
    config = {"experiment": "prune-bound", **asdict(cfg)}
    total = 1 + len(blayers) + len(CURVE_UNITS)
    with unit_runner(out, config, policy=policy, total=total, desc="prune --bound", bar=bar) as unit:
        got = unit("stats", lambda: {ly: [np.asarray(v, np.float64).tolist() for v in channel_stats(policy, std_lv, ly)]
                                     for ly in layers})
        stats = {ly: (np.asarray(s), np.asarray(m)) for ly, (s, m) in got.items()}
        rows = []
        for ly in blayers:
            if progress:
                progress(f"bound at {ly}")
            rows += unit(unit_stem("bound", ly), partial(bound_rows, policy, ly, std_lv, std=stats[ly][0],
                                                                mean=stats[ly][1], progress=progress))
        curves = run_prune_curves(policy, cfg, stats, progress=progress, unit=unit)
    return {"bound_rows": rows, "curves": curves}
