"""The Q2 frontier: arrival rate at a far corner vs the share of the network's activations edited.

Protocol (Q2): mazes of ``size`` (default 25) with the cheese at its in-distribution
``top-right:5`` spawn, targets the inner ``top-left`` / ``bottom-right`` corner cells, episodes
of up to ``max_steps`` (500) steps. Each episode ends as "reached the target", "ate the cheese
first" or "neither"; every rate is a :class:`~steering.metrics.Rate` (Wilson 95% CI).

Methods and their size knob (one *unit* = one method at one knob value, both targets) are in
:mod:`steering.experiments.frontier_methods`: clamps (``clamp-single``, ``clamp-channels``),
optimised sparse edits (``per-maze``, ``shared``, ``per-maze-multi``), counterfactual
activation patching (``cf-target``, ``cf-waypoint``; knob = channels replaced) and steering
vectors (``vec-cheese``, ``vec-top-right``, ``vec-compose``; knob = coefficient).

Controls in every unit (success always means reaching the *intended* target):

- ``random-positions``: the same edit values at random positions of the layer (clamps and
  counterfactual patches: the same on random other channels);
- ``random-dense``: a Gaussian vector over the whole layer with the edit's own mean L2 norm;
- ``opposite``: the edit aimed at the opposite corner (not for the target-free vectors);
- ``other-maze`` (per-maze kinds): maze ``i`` gets maze ``i+1``'s edit;
- ``retention``: the method aimed at the cheese's own cell; its cheese rate is compared with the
  unedited agent's (flag ``retention_violation`` when they differ by more than 0.05).

Each row also carries the activations modified per forward pass (``modified``, of the layer and
of the whole network, counted by :func:`steering.metrics.fraction_modified`), the edit's mean
L2 norm and the layer's typical activation norm (mean L2 norm of a state's whole activation).

:func:`run_frontier_unit` computes one unit; :func:`frontier_units` lists them;
``scripts/steer.py frontier`` runs them resumably and writes ``frontier.csv/json/png``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from agents.eval.stats import Rate
from mazegen import CORNERS, Levels
from mazegen.checks import check_int, check_maze_size, is_int

from ..activations import DEFAULT_LAYER, layer_activations, layer_shape
from ..methods.optimise import EditConfig, check_edit_layers
from ..methods.retarget import ChannelRanking
from ..metrics import fraction_modified, retarget_success_batch
from ..patches.base import Patch, flatten_patches
from .frontier_methods import (
    CF_METHODS,
    DEFAULT_KNOBS,
    FRONTIER_METHODS,
    INT_KNOBS,
    TARGET_FREE,
    VECTOR_METHODS,
    build,
    head,
    levels_of,
    one_patch,
    other_maze,
    random_positions,
)
from .retarget import random_vector_control
from .targets import OPPOSITE, target_cells

__all__ = [
    "DEFAULT_KNOBS",
    "FRONTIER_METHODS",
    "FrontierConfig",
    "frontier_units",
    "run_frontier_unit",
]

RETENTION_TOL = 0.05


@dataclass
class FrontierConfig:
    """Options of the frontier (also the CLI's ``frontier`` flags)."""

    #: layer of the clamps and single-layer edits
    layer: str = DEFAULT_LAYER
    #: layers of ``per-maze-multi`` (k split evenly)
    multi_layers: list[str] = field(
        default_factory=lambda: ["embedder.block1.res2.resadd_out", DEFAULT_LAYER]
    )
    targets: list[str] = field(default_factory=lambda: ["top-left", "bottom-right"])
    methods: list[str] = field(default_factory=lambda: ["clamp-single", "clamp-channels", "per-maze", "shared"])
    #: knob values per method (None: :data:`DEFAULT_KNOBS`)
    knobs: dict[str, list[float]] | None = None
    size: int = 25
    #: evaluation mazes per target
    mazes: int = 200
    #: training mazes of the shared edit (disjoint from the evaluation mazes)
    train_mazes: int = 100
    max_steps: int = 500
    seed: int = 0
    deterministic: bool = False
    controls: bool = True
    retention: bool = True
    #: mazes over which activations modified are counted
    fraction_mazes: int = 8
    #: cheese-channel discovery for the clamps
    discover_mazes: int = 200
    #: options of the optimised edits (k and layers are set per unit)
    edit: dict = field(default_factory=dict)
    #: cells the counterfactual methods replace: within this Chebyshev distance (activation
    #: cells) of the moved and the original cheese; None: every cell
    cf_radius: int | None = None

    def validate(self, policy: Any | None = None) -> FrontierConfig:
        if not self.methods:
            raise ValueError(f"the method list is empty; allowed methods: {list(FRONTIER_METHODS)}")
        for m in self.methods:
            if m not in FRONTIER_METHODS:
                raise ValueError(f"unknown method {m!r}; allowed: {list(FRONTIER_METHODS)}")
        for t in self.targets:
            if t not in CORNERS:
                raise ValueError(f"unknown target {t!r}; allowed: {list(CORNERS)}")
        if not self.targets:
            raise ValueError(f"the target list is empty; allowed: {list(CORNERS)}")
        check_maze_size(self.size)
        self.mazes = check_int("mazes", self.mazes, 1)
        self.train_mazes = check_int("train_mazes", self.train_mazes, 1)
        self.max_steps = check_int("max_steps", self.max_steps, 1)
        self.fraction_mazes = check_int("fraction_mazes", self.fraction_mazes, 1)
        self.discover_mazes = check_int("discover_mazes", self.discover_mazes, 2)
        knobs = self.all_knobs()
        for m in self.methods:
            vals = knobs[m]
            if not vals:
                raise ValueError(f"method {m!r} has no knob values")
            for v in vals:
                if not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise ValueError(f"knob values of {m!r} must be finite numbers, got {v!r}")
                if m in INT_KNOBS and (not float(v).is_integer() or v < 1):
                    raise ValueError(f"knob values of {m!r} must be integers >= 1, got {v!r}")
                if m in VECTOR_METHODS and v == 0:
                    raise ValueError(f"knob values of {m!r} are coefficients and must be nonzero, got {v!r}")
        if self.cf_radius is not None and (not is_int(self.cf_radius) or self.cf_radius < 0):
            raise ValueError(f"cf_radius must be None (every cell) or an integer >= 0, got {self.cf_radius!r}")
        EditConfig(**{**self.edit, "layers": [self.layer], "k": 1}).validate()
        if policy is not None:
            self.check_policy(policy)
        return self

    def check_policy(self, policy: Any) -> None:
        """Layer names and knob sizes against the policy's layers (before any work)."""
        shape = layer_shape(policy, self.layer)
        knobs = self.all_knobs()
        for m in self.methods:
            for v in knobs[m]:
                if m in ("per-maze", "shared"):
                    check_edit_layers(policy, [self.layer], int(v))
                elif m == "per-maze-multi":
                    check_edit_layers(policy, self.multi_layers, int(v))
                elif m in ("clamp-channels", *CF_METHODS) and not 1 <= int(v) <= shape[0]:
                    raise ValueError(
                        f"{m} n={int(v)} out of range [1, {shape[0]}] for layer {self.layer!r}"
                    )
        if any(m.startswith("clamp") for m in self.methods) and len(shape) != 3:
            raise ValueError(f"clamps need a conv layer (C, H, W); {self.layer!r} has shape {shape}")
        cf = [m for m in self.methods if m in CF_METHODS]
        if cf and getattr(policy, "obs", None) != "grid":
            raise ValueError(
                f"{cf[0]} moves the cheese in the grid observation; it needs a grid agent, this one "
                f"sees {getattr(policy, 'obs', None)!r}"
            )
        if cf and self.cf_radius is not None and len(shape) != 3:
            raise ValueError(f"cf_radius needs a conv layer (C, H, W); {self.layer!r} has shape {shape}")

    def all_knobs(self) -> dict[str, list[float]]:
        return {**DEFAULT_KNOBS, **(self.knobs or {})}

    def to_dict(self) -> dict:
        """The config as saved in a run directory; options added later appear only when set, so
        runs started before them still resume."""
        d = asdict(self)
        if d["cf_radius"] is None:
            del d["cf_radius"]
        return d


def frontier_units(cfg: FrontierConfig) -> list[tuple[str, float]]:
    """``[(method, knob)]`` in run order."""
    knobs = cfg.all_knobs()
    return [(m, v) for m in cfg.methods for v in knobs[m]]


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


def _unit_name(method: str, knob: float) -> str:
    return f"{method}_{knob:g}".replace(".", "p")


def best_row(rows: Sequence[dict], max_fraction: float = 0.001) -> dict | None:
    """The optimised-edit row with the highest mean arrival over the targets among units that
    modify at most ``max_fraction`` of the network (else the highest overall)."""
    main = [r for r in rows if r["control"] == "" and r["method"] in ("per-maze", "shared", "per-maze-multi")]
    if not main:
        main = [r for r in rows if r["control"] == ""]
    if not main:
        return None
    units: dict[tuple, list[dict]] = {}
    for r in main:
        units.setdefault((r["method"], r["knob"]), []).append(r)
    ok = {u: rs for u, rs in units.items() if max(r["fraction_network"] for r in rs) <= max_fraction}
    pool = ok or units
    best = max(pool, key=lambda u: np.mean([r["arrival"] for r in pool[u]]))
    return {"method": best[0], "knob": best[1], "rows": pool[best]}


def run_frontier(policy: Any, cfg: FrontierConfig, out, *, agent: str, bar=None) -> dict:
    """Run (or resume) every unit into ``out``; writes ``frontier.csv``, ``frontier.json``,
    ``frontier.png``, ``ranking.json`` (clamps), ``patches/<unit>_<target>.json`` and
    ``best_patch_<target>.json``; checks that the best patch, loaded back and applied in a plain
    :func:`agents.rollout`, reproduces its arrival count. Returns the summary."""
    import json
    from pathlib import Path

    from agents.checkpoint import atomic_write_text
    from agents.rundir import load_or_run_unit, open_run, write_csv

    from ..cli import jsonable
    from ..methods.retarget import discover_cheese_channels
    from ..patches.io import load_patches, save_patches

    out = Path(out)
    cfg.validate(policy)
    open_run(out, {"agent": agent, "config": cfg.to_dict()}, policy=policy)
    desc = bar.set_description if bar is not None else None
    ranking = None
    if any(m.startswith("clamp") for m in cfg.methods):

        def discover() -> ChannelRanking:
            if desc:
                desc("discovering cheese channels")
            return discover_cheese_channels(
                policy, cfg.layer, n_mazes=cfg.discover_mazes, seed=cfg.seed, validate_top=6,
                validate_mazes=12, max_steps=100,
            )

        ranking = ChannelRanking.cached(out / "ranking.json", discover)
    units = frontier_units(cfg)
    if bar is not None:
        bar.reset(total=len(units))
    rows: list[dict] = []
    for method, knob in units:
        name = _unit_name(method, knob)

        def unit(method=method, knob=knob, name=name) -> list:
            res = run_frontier_unit(policy, cfg, method, knob, ranking=ranking, progress=desc)
            for tname, ps in res["patches"].items():
                save_patches(ps, out / "patches" / f"{name}_{tname}.json")
            return jsonable(res["rows"])

        rows += load_or_run_unit(out / "units" / name, unit)
        if bar is not None:
            bar.update(1)
    write_csv(out / "frontier.csv", rows)
    best = best_row(rows)
    reproduced = {}
    if best is not None:
        levels = levels_of(cfg, 3, cfg.mazes)
        from agents.eval.rollout import rollout

        from ..patches.apply import rollout_patch

        for r in best["rows"]:
            src = out / "patches" / f"{_unit_name(best['method'], best['knob'])}_{r['target']}.json"
            dst = out / f"best_patch_{r['target']}.json"
            patches = load_patches(src)
            save_patches(patches, dst)
            again = load_patches(dst)
            res = rollout(policy, levels, deterministic=cfg.deterministic, seed=cfg.seed,
                          max_steps=cfg.max_steps, targets=target_cells(levels, r["target"]),
                          stop_on_target=True, patch=rollout_patch(policy, again))
            k = int(np.asarray(res.reached_target).sum())
            reproduced[r["target"]] = {"patch": str(dst), "arrival_k_frontier": r["arrival_k"],
                                       "arrival_k_plain_rollout": k, "n": len(levels)}
    atomic_write_text(out / "frontier.json", json.dumps(jsonable(
        {"config": cfg.to_dict(), "rows": rows, "best": best, "reproduced": reproduced}), indent=1))
    from ..plots.frontier import plot_frontier

    fig = plot_frontier(rows, out / "frontier.png")
    flags = [
        {k: r.get(k) for k in ("method", "knob", "target", "control", "control_delta", "retention_delta")}
        for r in rows if r.get("control_flag") or r.get("retention_violation")
    ]
    table = [
        {k: r.get(k) for k in ("method", "knob", "target", "arrival", "arrival_lo", "arrival_hi",
                               "cheese_first", "fraction_layer", "fraction_network", "edit_norm",
                               "layer_act_norm")}
        for r in rows if r["control"] == ""
    ]
    return {"units": len(units), "table": table, "best": best, "reproduced": reproduced,
            "flags": flags, "figures": [str(fig)]}
