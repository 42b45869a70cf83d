"""One unit of the Q2 frontier (one method at one knob value, both targets): the edit's
arrival, cheese-first and neither rates with their controls, the activations it modifies and
its norm, and the retention check (see :mod:`steering.experiments.frontier` for the protocol)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from agents.eval.stats import Rate
from mazegen import Levels

from ..activations import layer_activations
from ..methods.retarget import ChannelRanking
from ..metrics import fraction_modified, retarget_success_batch
from ..patches.base import Patch, flatten_patches
from .frontier_config import FrontierConfig
from .frontier_methods import (
    TARGET_FREE,
    build,
    head,
    levels_of,
    one_patch,
    other_maze,
    random_positions,
)
from .retarget import random_vector_control
from .targets import OPPOSITE, target_cells

__all__ = ["RETENTION_TOL", "run_frontier_unit"]

#: Largest allowed change of a control's (and the retention check's) rate from the unedited one.
RETENTION_TOL = 0.05


def _edit_norm(policy: Any, patches: list[Patch], levels: Levels) -> float:
    """Mean L2 norm (over levels) of the change the patches make at their own layers."""
    total = np.zeros(len(levels))
    by_layer: dict[str, list[Patch]] = {}
    for p in flatten_patches(patches):
        by_layer.setdefault(p.layer, []).append(p)
    for layer, ps in by_layer.items():  # each layer's own edits together
        clean = layer_activations(policy, levels, layer)
        edited = layer_activations(policy, levels, layer, patches=ps)
        total += ((edited - clean).reshape(len(levels), -1).norm(dim=1).numpy().astype(np.float64)) ** 2
    return float(np.sqrt(total).mean())


def run_frontier_unit(
    policy: Any,
    cfg: FrontierConfig,
    method: str,
    knob: float,
    *,
    ranking: ChannelRanking | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """One unit: ``{"rows": [...], "patches": {target: [Patch]}}``.

    Rows: one per (target, variant), variant ``""`` (the method) or a control name; the baseline
    rows (no edit) have method ``"none"``.
    """
    levels = levels_of(cfg, 3, cfg.mazes)
    train = train_t = None
    fl = levels[: min(cfg.fraction_mazes, len(levels))]
    layers = cfg.multi_layers if method == "per-maze-multi" else [cfg.layer]
    act_norm = {
        layer: float(layer_activations(policy, fl, layer).reshape(len(fl), -1).norm(dim=1).mean())
        for layer in layers
    }
    fitted: dict[str, list[Patch]] = {}
    infos: dict[str, dict] = {}
    cache: dict = {}  # what the method discovers once (counterfactual ranking, mean vectors)
    tgts = {name: target_cells(levels, name) for name in cfg.targets}
    for name in cfg.targets:
        if progress:
            progress(f"{method} {knob:g} -> {name}")
        if method == "shared":
            train = levels_of(cfg, 5, cfg.train_mazes)
            train_t = target_cells(train, name)
        fitted[name], infos[name] = build(
            policy, cfg, method, knob, levels, tgts[name], ranking, train, train_t, progress, cache
        )
    # opposite-corner edits (fitted here if the opposite target is not in cfg.targets)
    rows: list[dict] = []
    for name in cfg.targets:
        patches = fitted[name]
        t = tgts[name]
        fm = fraction_modified(policy, head(patches, len(fl)), fl)
        common = {
            "method": method, "knob": float(knob), "target": name, "size": cfg.size,
            "layers": "+".join(layers), "train_mazes": cfg.train_mazes if method == "shared" else 0,
        }
        variants: list[tuple[str, list[Patch] | None]] = [("", patches)]
        if cfg.controls:
            rp = random_positions(policy, patches, cfg.seed + 1)
            if rp is not None:
                variants.append(("random-positions", rp))
            if len(layers) == 1:
                variants.append(
                    ("random-dense", [random_vector_control(policy, one_patch(head(patches, len(fl))), fl, cfg.seed)])
                )
            opp = OPPOSITE[name]
            if method in TARGET_FREE:
                pass  # the same edit for every target: no opposite-target control
            elif opp in fitted:
                variants.append(("opposite", fitted[opp]))
            else:
                ot = target_cells(levels, opp)
                tl = levels_of(cfg, 5, cfg.train_mazes) if method == "shared" else None
                op, _ = build(policy, cfg, method, knob, levels, ot, ranking, tl,
                               None if tl is None else target_cells(tl, opp), progress, cache)
                variants.append(("opposite", op))
            if method in ("per-maze", "per-maze-multi"):
                variants.append(("other-maze", other_maze(patches)))
        # the edit runs as the first block of the batched rollout, so its episodes use the same
        # sampling streams (seed, level index) as a plain rollout of the evaluation levels
        runs = [(levels, t, variants[0][1], True), (levels, t, None, True)]
        runs += [(levels, t, ps, True) for _, ps in variants[1:]]
        rates = retarget_success_batch(
            policy, runs, max_steps=cfg.max_steps, seed=cfg.seed, deterministic=cfg.deterministic, split=True
        )
        base = rates[1]
        rates = [rates[0]] + rates[2:]
        rows.append({**common, "method": "none", "control": "baseline", **_rate_cols(base),
                     "modified": 0.0, "fraction_layer": 0.0, "fraction_network": 0.0})
        for (vname, ps), r in zip(variants, rates):
            vfm = fm if vname == "" else fraction_modified(policy, head(ps, len(fl)), fl)
            row = {**common, "control": vname, **_rate_cols(r), **_modified_cols(vfm)}
            if vname in ("", "random-positions", "random-dense"):
                row["edit_norm"] = _edit_norm(policy, head(ps, len(fl)), fl)
                row["layer_act_norm"] = float(np.sqrt(sum(v**2 for v in act_norm.values())))
            if vname == "":
                info = infos[name]
                row["fit_states"] = (info.get("states") or [0])[-1]
                row["fit_p_move"] = info.get("train_p_move", math.nan)
                if "channels" in info:
                    row["channels"] = " ".join(str(c) for c in info["channels"])
            if vname in ("random-positions", "random-dense", "opposite", "other-maze"):
                row["control_delta"] = r["reached"].rate - base["reached"].rate
                row["control_flag"] = abs(row["control_delta"]) > RETENTION_TOL
            rows.append(row)
    if cfg.retention:
        rows.append(_retention(policy, cfg, method, knob, levels, ranking, progress, cache))
    return {"rows": rows, "patches": fitted}


def _retention(policy, cfg, method, knob, levels, ranking, progress, cache=None) -> dict:
    """The method aimed at the cheese's own cell: cheese rate vs the unedited agent's."""
    cheese = np.asarray(levels.cheese, np.int64)
    train = train_t = None
    if method == "shared":
        train = levels_of(cfg, 5, cfg.train_mazes)
        train_t = np.asarray(train.cheese, np.int64)
    if progress:
        progress(f"{method} {knob:g} -> cheese (retention)")
    patches, _ = build(policy, cfg, method, knob, levels, cheese, ranking, train, train_t, progress, cache)
    from agents.eval.rollout import rollout

    from ..patches.apply import rollout_patch

    kw = dict(deterministic=cfg.deterministic, seed=cfg.seed, max_steps=cfg.max_steps)
    b = np.asarray(rollout(policy, levels, **kw).got_cheese, bool)
    e = np.asarray(rollout(policy, levels, patch=rollout_patch(policy, patches), **kw).got_cheese, bool)
    rb, re_ = Rate.of(int(b.sum()), len(b)), Rate.of(int(e.sum()), len(e))
    return {
        "method": method, "knob": float(knob), "target": "cheese", "size": cfg.size,
        "control": "retention", **re_.columns("cheese_rate"), **rb.columns("cheese_rate_unedited"),
        "retention_delta": re_.rate - rb.rate,
        "retention_violation": abs(re_.rate - rb.rate) > RETENTION_TOL,
    }


def _rate_cols(r: dict[str, Rate]) -> dict:
    return {
        **r["reached"].columns("arrival"),
        **r["cheese_first"].columns("cheese_first"),
        **r["neither"].columns("neither"),
    }


def _modified_cols(fm: dict) -> dict:
    layers = fm["layers"]
    size = sum(v["layer_size"] for v in layers.values())
    mod = fm["total"]["modified"]
    return {
        "modified": mod,
        "fraction_layer": mod / size if size else 0.0,
        "fraction_network": fm["total"]["fraction_network"],
        "network_size": fm["network_size"],
    }
