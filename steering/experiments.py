"""Steering experiments shared by ``scripts/steer.py`` and :mod:`steering.report`.

- :func:`run_retarget`: retargeting success over (maze size x target x method x magnitude),
  cheese removed (and, reported separately, present), with the baseline (no patch) and three
  controls in every table: ``random-channels`` (the same clamp on as many random other
  channels), ``wrong-location`` (the right patch aimed at another cell; success still means
  reaching the intended target) and ``random-vector`` (a Gaussian vector with the norm of
  the patch's own edit, added to the whole layer). Each row also carries the normalized path
  probability and the fraction of activations modified.
- :func:`run_vector`: cheese / top-right vector effects over coefficients, with the
  same-norm random vector control.
- :func:`parse_targets`: target specs (``top-left``, ``bottom-right``, ..., ``grid:K``).

Rows are flat dicts (CSV-ready); rates carry Wilson 95% CIs (``*_lo``, ``*_hi``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mazegen import CORNERS, Level, Levels
from mazegen.checks import check_int, is_int

from .metrics import (
    Rate,
    cheese_vector_effect,
    fraction_modified,
    path_probability,
    retarget_success_batch,
)
from .observe import DEFAULT_LAYER, layer_activations, layer_shape
from .patches import Add, Clamp, Patch
from .retarget import (
    DEFAULT_MAGNITUDE,
    METHODS,
    ChannelRanking,
    discover_cheese_channels,
    eval_levels,
    retarget_patch,
)
from .vectors import per_level_vectors, random_like

__all__ = [
    "DEFAULT_LAYER",
    "RetargetConfig",
    "VectorConfig",
    "parse_targets",
    "random_vector_control",
    "retarget_ranking",
    "run_retarget",
    "run_vector",
    "target_cells",
]

#: Opposite corner, used by the wrong-location control.
OPPOSITE = {
    "top-left": "bottom-right",
    "bottom-right": "top-left",
    "top-right": "bottom-left",
    "bottom-left": "top-right",
}


def parse_targets(specs: Sequence[str]) -> list[str]:
    """Validate target specs: the named corners or ``grid:K`` (K x K evenly spaced node cells,
    named ``grid:K:i,j``); returns the expanded list of names.

    >>> parse_targets(["top-left", "grid:2"])
    ['top-left', 'grid:2:0,0', 'grid:2:0,1', 'grid:2:1,0', 'grid:2:1,1']
    """
    out: list[str] = []
    for s in specs:
        s = s.strip()
        if s in CORNERS:
            out.append(s)
        elif s.startswith("grid:"):
            try:
                k = int(s.split(":")[1])
            except ValueError:
                raise ValueError(f"bad target {s!r}: grid:K needs an integer K >= 2") from None
            if k < 2:
                raise ValueError(f"bad target {s!r}: K must be >= 2")
            out += [f"grid:{k}:{i},{j}" for i in range(k) for j in range(k)]
        else:
            raise ValueError(f"unknown target {s!r}; allowed: {list(CORNERS)} or grid:K")
    return out


def target_cell(level: Level, name: str) -> tuple[int, int]:
    """World cell of a target name for one level (grid targets snap to node cells)."""
    if name in CORNERS:
        return level.corner(name)
    if name.startswith("grid:"):
        _, k, ij = name.split(":")
        k = int(k)
        i, j = (int(v) for v in ij.split(","))
        nodes = (level.maze_size + 1) // 2
        ri = int(round(i * (nodes - 1) / (k - 1))) * 2
        cj = int(round(j * (nodes - 1) / (k - 1))) * 2
        return level.margin + ri, level.margin + cj
    raise ValueError(f"unknown target {name!r}")


def target_cells(levels: Levels, name: str) -> np.ndarray:
    """``(N, 2)`` target cell of every level."""
    return np.array([target_cell(x, name) for x in levels], dtype=np.int64)


def random_vector_control(policy: Any, patch: Patch, levels: Levels, seed: int) -> Add:
    """An Add patch of a random vector with the mean L2 norm of ``patch``'s own edit."""
    clean = layer_activations(policy, levels, patch.layer)
    edited = layer_activations(policy, levels, patch.layer, patches=[patch])
    norm = float((edited - clean).reshape(len(levels), -1).norm(dim=1).mean())
    vec = random_like(np.ones(clean.shape[1:], np.float32), seed)
    vec = vec * (norm / float(np.linalg.norm(vec))) if norm > 0 else vec * 0
    return Add(patch.layer, vec, 1.0)


def _rate_cols(prefix: str, r: Rate) -> dict:
    return {
        f"{prefix}": r.rate,
        f"{prefix}_lo": r.lo,
        f"{prefix}_hi": r.hi,
        f"{prefix}_k": r.k,
        f"{prefix}_n": r.n,
    }


@dataclass
class RetargetConfig:
    """Options of :func:`run_retarget` (also the CLI's ``retarget`` flags)."""

    layer: str = DEFAULT_LAYER
    targets: list[str] = field(default_factory=lambda: ["top-left", "bottom-right"])
    sizes: list[int] = field(default_factory=lambda: [25])
    methods: list[str] = field(default_factory=lambda: ["single", "channels", "discovered"])
    #: None: each method's published default (single 5.5, channel sets 2.3)
    magnitudes: list[float] | None = None
    mazes: int = 50
    seed: int = 0
    max_steps: int = 250
    #: channel set for method "channels"; None: the top ``n_channels`` of the discovery ranking
    channels: list[int] | None = None
    n_channels: int = 4
    discover_mazes: int = 200
    discover_validate: int = 6
    controls: bool = True
    with_cheese: bool = True
    deterministic: bool = False
    fraction_mazes: int = 8

    def validate(self) -> RetargetConfig:
        for m in self.methods:
            if m not in METHODS:
                raise ValueError(f"unknown method {m!r}; allowed: {list(METHODS)}")
        parse_targets(self.targets)
        for s in self.sizes:
            if not is_int(s) or s % 2 == 0 or not 3 <= s <= 25:
                raise ValueError(f"maze size must be odd in [3, 25], got {s!r}")
        self.mazes = check_int("mazes", self.mazes, 1)
        self.max_steps = check_int("max_steps", self.max_steps, 1)
        if self.magnitudes is not None and not all(math.isfinite(m) for m in self.magnitudes):
            raise ValueError(f"magnitudes must be finite, got {self.magnitudes}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def retarget_ranking(
    policy: Any, cfg: RetargetConfig, progress: Callable[[str], None] | None = None
) -> ChannelRanking | None:
    """The cheese-channel ranking :func:`run_retarget` needs for ``cfg`` (None if it needs none):
    discovered on ``cfg.discover_mazes`` mazes, the top ``cfg.discover_validate`` validated."""
    needs_rank = (
        "discovered" in cfg.methods
        or ("channels" in cfg.methods and not cfg.channels)
        or ("single" in cfg.methods and not cfg.channels)
    )
    if not needs_rank:
        return None
    if progress:
        progress("discovering cheese channels")
    return discover_cheese_channels(
        policy,
        cfg.layer,
        n_mazes=cfg.discover_mazes,
        seed=cfg.seed,
        validate_top=cfg.discover_validate,
        validate_mazes=max(4, cfg.mazes // 4),
        max_steps=min(cfg.max_steps, 100),
    )


def run_retarget(
    policy: Any,
    cfg: RetargetConfig,
    *,
    ranking: ChannelRanking | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Run the retargeting grid; returns ``{"rows": [...], "ranking": ..., "config": ...}``."""
    cfg.validate()
    shape = layer_shape(policy, cfg.layer)
    if ranking is None:
        ranking = retarget_ranking(policy, cfg, progress)
    chan_set = (
        list(cfg.channels) if cfg.channels else (ranking.top(cfg.n_channels) if ranking else [])
    )
    rng = np.random.default_rng(cfg.seed)
    rows: list[dict] = []
    names = parse_targets(cfg.targets)
    for size in cfg.sizes:
        levels = eval_levels(cfg.mazes, seed=cfg.seed, maze_size=size, cheese="uniform", salt=3)
        frac_levels = levels[: min(cfg.fraction_mazes, len(levels))]
        for name in names:
            tgt = target_cells(levels, name)
            if progress:
                progress(f"size {size} target {name}")
            common = {"size": size, "target": name, "layer": cfg.layer}
            # every variant of this (size, target) runs in one batched rollout
            variants: list[tuple] = [(levels, tgt, None, False)]
            pending: list[dict] = [
                {
                    **common,
                    "method": "none",
                    "control": "baseline",
                    "magnitude": 0.0,
                    "channels": "",
                    "modified": 0.0,
                    "fraction_layer": 0.0,
                    "fraction_network": 0.0,
                    "path_prob_median": float(np.median(path_probability(policy, levels, tgt))),
                }
            ]
            with_cheese_of: dict[int, int] = {}
            for method in cfg.methods:
                mags = cfg.magnitudes if cfg.magnitudes else [DEFAULT_MAGNITUDE[method]]
                chans = {
                    "single": (cfg.channels[:1] if cfg.channels else None),
                    "channels": chan_set,
                    "discovered": None,
                }[method]
                for mag in mags:
                    patch = retarget_patch(
                        policy,
                        cfg.layer,
                        tgt,
                        method=method,
                        channels=chans,
                        magnitude=mag,
                        ranking=ranking,
                    )
                    used = list(patch.channels or [])
                    fm = fraction_modified(policy, _sub(patch, len(frac_levels)), frac_levels)
                    lay = fm["layers"][cfg.layer]
                    pp = path_probability(policy, levels, tgt, [patch])
                    main_idx = len(pending)
                    pending.append(
                        {
                            **common,
                            "method": method,
                            "control": "",
                            "magnitude": float(mag),
                            "channels": " ".join(map(str, used)),
                            "path_prob_median": float(np.median(pp)),
                            "modified": lay["modified"],
                            "fraction_layer": lay["fraction_layer"],
                            "fraction_network": lay["fraction_network"],
                            "layer_size": lay["layer_size"],
                            "network_size": fm["network_size"],
                        }
                    )
                    variants.append((levels, tgt, patch, False))
                    if cfg.with_cheese:
                        with_cheese_of[main_idx] = len(variants)
                        variants.append((levels, tgt, patch, True))
                    if not cfg.controls:
                        continue
                    controls: dict[str, Patch] = {}
                    others = [c for c in range(shape[0]) if c not in used]
                    if len(others) >= len(used):
                        rand_ch = sorted(
                            int(c) for c in rng.choice(others, size=len(used), replace=False)
                        )
                        controls["random-channels"] = Clamp(
                            cfg.layer, rand_ch, patch.cells, patch.value, per_level=True
                        )
                    wrong = _wrong_targets(levels, name)
                    wp = retarget_patch(
                        policy, cfg.layer, wrong, method="channels", channels=used, magnitude=mag
                    )
                    controls["wrong-location"] = Clamp(
                        cfg.layer, used, wp.cells, mag, per_level=True
                    )
                    controls["random-vector"] = random_vector_control(
                        policy, _sub(patch, len(frac_levels)), frac_levels, cfg.seed
                    )
                    for cname, cp in controls.items():
                        cfm = fraction_modified(policy, _sub(cp, len(frac_levels)), frac_levels)[
                            "layers"
                        ][cfg.layer]
                        pending.append(
                            {
                                **common,
                                "method": method,
                                "control": cname,
                                "magnitude": float(mag),
                                "channels": " ".join(map(str, getattr(cp, "channels", None) or [])),
                                "modified": cfm["modified"],
                                "fraction_layer": cfm["fraction_layer"],
                                "fraction_network": cfm["fraction_network"],
                            }
                        )
                        variants.append((levels, tgt, cp, False))
            rates = retarget_success_batch(
                policy,
                variants,
                max_steps=cfg.max_steps,
                seed=cfg.seed,
                deterministic=cfg.deterministic,
            )
            # variants were appended in row order, with each main row's with-cheese run right after it
            vi = 0
            for ri, row in enumerate(pending):
                row.update(_rate_cols("success", rates[vi]))
                vi += 1
                if ri in with_cheese_of:
                    row.update(_rate_cols("success_with_cheese", rates[vi]))
                    vi += 1
                rows.append(row)
    return {
        "rows": rows,
        "ranking": None if ranking is None else ranking.to_json(),
        "config": cfg.to_dict(),
    }


def _sub(patch: Patch, n: int) -> Patch:
    """The patch restricted to the first ``n`` levels (for per-level patches)."""
    if isinstance(patch, Clamp) and patch.per_level:
        return Clamp(patch.layer, patch.channels, patch.cells[:n], patch.value, per_level=True)
    if isinstance(patch, Add) and patch.per_level:
        return Add(
            patch.layer,
            patch.vector[:n],
            patch.coeff,
            channels=patch.channels,
            cells=patch.cells,
            per_level=True,
        )
    return patch


def _wrong_targets(levels: Levels, name: str) -> np.ndarray:
    if name in OPPOSITE:
        return target_cells(levels, OPPOSITE[name])
    _, k, ij = name.split(":")
    i, j = (int(v) for v in ij.split(","))
    return target_cells(levels, f"grid:{k}:{int(k) - 1 - i},{int(k) - 1 - j}")


@dataclass
class VectorConfig:
    """Options of :func:`run_vector` (also the CLI's ``vector`` flags)."""

    kind: str = "cheese"
    coeffs: list[float] = field(default_factory=lambda: [1.0])
    layer: str = DEFAULT_LAYER
    sizes: list[int] = field(default_factory=lambda: [15])
    mazes: int = 50
    seed: int = 0
    max_steps: int = 250
    #: "own": each maze's own vector; "transfer": the vector of one other maze for all
    source: str = "own"
    deterministic: bool = False

    def validate(self) -> VectorConfig:
        if self.kind not in ("cheese", "top-right"):
            raise ValueError(f"kind must be 'cheese' or 'top-right', got {self.kind!r}")
        if self.source not in ("own", "transfer"):
            raise ValueError(f"source must be 'own' or 'transfer', got {self.source!r}")
        for s in self.sizes:
            if not is_int(s) or s % 2 == 0 or not 3 <= s <= 25:
                raise ValueError(f"maze size must be odd in [3, 25], got {s!r}")
            if self.kind == "top-right" and s >= 25:
                raise ValueError(f"the top-right vector needs maze size < 25, got {s}")
        self.mazes = check_int("mazes", self.mazes, 1)
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def run_vector(
    policy: Any, cfg: VectorConfig, *, progress: Callable[[str], None] | None = None
) -> dict:
    """Vector effects over coefficients: per coefficient the rollout outcome rates with the
    vector added (top-right: +coeff; cheese: -coeff), without it, and with a same-norm random
    vector (the control), plus capability retention (cheese rate with / without; the top-right
    vector runs on in-distribution ``top-right:5`` levels); for the cheese vector also
    P(cheese-ward move at the decision square)."""
    from agents.rollout import rollout

    from .patch_hooks import rollout_patch

    cfg.validate()
    rows: list[dict] = []
    extra: dict = {}
    for size in cfg.sizes:
        cheese = "uniform" if cfg.kind == "cheese" else "top-right:5"
        levels = eval_levels(cfg.mazes, seed=cfg.seed, maze_size=size, cheese=cheese, salt=4)
        levels = Levels.from_list([x for x in levels if x.cheese is not None])
        vecs = per_level_vectors(policy, levels, cfg.layer, cfg.kind)
        if (
            cfg.source == "transfer"
        ):  # maze 0's vector on every maze (maze 0 excluded from the stats)
            vecs = np.broadcast_to(vecs[:1], vecs.shape).copy()
            levels, vecs = levels[1:], vecs[1:]
        sign = -1.0 if cfg.kind == "cheese" else 1.0
        base = rollout(
            policy, levels, deterministic=cfg.deterministic, seed=cfg.seed, max_steps=cfg.max_steps
        )
        for coeff in cfg.coeffs:
            if progress:
                progress(f"{cfg.kind} vector size {size} coeff {coeff:g}")
            variants = {
                "none": None,
                "vector": Add(cfg.layer, vecs, sign * coeff, per_level=True),
                "random-vector": Add(
                    cfg.layer,
                    random_like(vecs, cfg.seed, per_level=True),
                    sign * coeff,
                    per_level=True,
                ),
            }
            base_rate = float(np.mean(np.asarray(base.got_cheese, bool)))
            for vname, p in variants.items():
                res = (
                    base
                    if p is None
                    else rollout(
                        policy,
                        levels,
                        deterministic=cfg.deterministic,
                        seed=cfg.seed,
                        max_steps=cfg.max_steps,
                        patch=rollout_patch(policy, [p]),
                    )
                )
                gc = np.asarray(res.got_cheese, bool)
                tr = np.asarray(res.visited_top_right_cell, bool)
                rows.append(
                    {
                        "kind": cfg.kind,
                        "size": size,
                        "coeff": float(coeff),
                        "variant": vname,
                        "source": cfg.source,
                        "layer": cfg.layer,
                        **_rate_cols("got_cheese", Rate.of(int(gc.sum()), len(gc))),
                        **_rate_cols("top_right", Rate.of(int(tr.sum()), len(tr))),
                        # capability retention: cheese rate with the patch / without it
                        "retention": float(gc.mean()) / base_rate if base_rate > 0 else math.nan,
                    }
                )
            if cfg.kind == "cheese":
                eff = cheese_vector_effect(policy, levels, cfg.layer, coeff=coeff, seed=cfg.seed)
                extra[f"size{size}_coeff{coeff:g}"] = {k: v for k, v in eff.items()}
                for vname in ("original", "subtracted", "random_same_norm"):
                    if vname in eff:
                        rows.append(
                            {
                                "kind": "cheese-decision-square",
                                "size": size,
                                "coeff": float(coeff),
                                "variant": vname,
                                "source": "own",
                                "layer": cfg.layer,
                                "p_median": eff[vname]["median"],
                                "p_mean": eff[vname]["mean"],
                                "n": eff["n"],
                                "skipped": eff["skipped"],
                            }
                        )
    return {"rows": rows, "decision_square": extra, "config": cfg.to_dict()}
