"""The retargeting experiment shared by ``scripts/steer.py`` and :mod:`steering.report`.

- :func:`run_retarget`: retargeting success over (maze size x target x method x magnitude).
  Default protocol (``cheese="spawn"``, the Q2 question): the cheese stays at its in-distribution
  ``top-right:5`` spawn, episodes run up to 500 steps, and each rate is split into "reached the
  target" (``success``), "ate the cheese first" (``cheese_first``) and "neither". With
  ``cheese="removed"`` (the published protocol) the cheese is removed from uniformly placed
  levels, and the with-cheese success is reported separately. Baseline (no patch) and three
  controls in every table: ``random-channels`` (the same clamp on as many random other
  channels), ``wrong-location`` (the right patch aimed at another cell; success still means
  reaching the intended target) and ``random-vector`` (a Gaussian vector with the norm of
  the patch's own edit, added to the whole layer). Each row also carries the normalized path
  probability and the fraction of activations modified.
- target specs (``top-left``, ``bottom-right``, ..., ``grid:K``) are parsed in
  :mod:`~steering.experiments.targets`.

Rows are flat dicts (CSV-ready); rates carry Wilson 95% CIs (``*_lo``, ``*_hi``).
The steering-vector experiment lives in :mod:`steering.experiments.vectors`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mazegen import Levels
from mazegen.checks import check_int, check_maze_size

from ..activations import DEFAULT_LAYER, layer_activations, layer_shape
from ..methods.retarget import (
    DEFAULT_MAGNITUDE,
    METHODS,
    ChannelRanking,
    discover_cheese_channels,
    eval_levels,
    retarget_patch,
)
from ..methods.vectors import random_like
from ..metrics import (
    fraction_modified,
    path_probability,
    retarget_success_batch,
)
from ..patches.base import Patch
from ..patches.edits import Add, Clamp
from .targets import parse_targets, target_cells, wrong_targets

__all__ = [
    "DEFAULT_LAYER",
    "RetargetConfig",
    "random_vector_control",
    "retarget_ranking",
    "run_retarget",
]

#: Cheese protocols of :class:`RetargetConfig`: the level generator's cheese spec of each.
CHEESE_PROTOCOLS = {"spawn": "top-right:5", "removed": "uniform"}

def random_vector_control(policy: Any, patch: Patch, levels: Levels, seed: int) -> Add:
    """An Add patch of a random vector with the mean L2 norm of ``patch``'s own edit."""
    clean = layer_activations(policy, levels, patch.layer)
    edited = layer_activations(policy, levels, patch.layer, patches=[patch])
    norm = float((edited - clean).reshape(len(levels), -1).norm(dim=1).mean())
    vec = random_like(np.ones(clean.shape[1:], np.float32), seed)
    vec = vec * (norm / float(np.linalg.norm(vec))) if norm > 0 else vec * 0
    return Add(patch.layer, vec, 1.0)


@dataclass
class RetargetConfig:
    """Options of :func:`run_retarget` (also the CLI's ``retarget`` flags)."""

    layer: str = DEFAULT_LAYER
    targets: list[str] = field(default_factory=lambda: ["top-left", "bottom-right"])
    sizes: list[int] = field(default_factory=lambda: [25])
    methods: list[str] = field(default_factory=lambda: ["single", "channels", "discovered"])
    #: None: each method's published default (single 5.5, channel sets 2.3)
    magnitudes: list[float] | None = None
    mazes: int = 200
    seed: int = 0
    max_steps: int = 500
    #: "spawn": cheese left at its top-right:5 spawn (Q2 protocol); "removed": cheese removed
    cheese: str = "spawn"
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
        """Check every field (ValueError naming the field, the value and what is allowed)."""
        for name in ("targets", "sizes", "methods"):
            if not list(getattr(self, name)):
                raise ValueError(
                    f"{name} must name at least one entry, got {getattr(self, name)!r}"
                )
        for m in self.methods:
            if m not in METHODS:
                raise ValueError(f"unknown method {m!r}; allowed: {list(METHODS)}")
        if self.cheese not in CHEESE_PROTOCOLS:
            raise ValueError(f"cheese must be one of {list(CHEESE_PROTOCOLS)}, got {self.cheese!r}")
        for s in self.sizes:
            check_maze_size(s)
        parse_targets(self.targets)
        nodes = (min(self.sizes) + 1) // 2  # node cells per side of the smallest maze
        for t in self.targets:
            if t.strip().startswith("grid:") and int(t.split(":")[1]) > nodes:
                raise ValueError(
                    f"target {t.strip()!r} asks for a {t.split(':')[1]}x{t.split(':')[1]} grid of node "
                    f"cells but a {min(self.sizes)}x{min(self.sizes)} maze has {nodes}x{nodes}; "
                    f"K must be in [2, {nodes}]"
                )
        self.mazes = check_int("mazes", self.mazes, 1)
        self.seed = check_int("seed", self.seed, 0)
        self.max_steps = check_int("max_steps", self.max_steps, 1)
        for name in ("n_channels", "discover_mazes", "discover_validate", "fraction_mazes"):
            setattr(self, name, check_int(name, getattr(self, name), 1))
        if self.magnitudes is not None:
            if not list(self.magnitudes):
                raise ValueError(
                    "magnitudes must name at least one value (or be None for the defaults)"
                )
            if not all(math.isfinite(m) for m in self.magnitudes):
                raise ValueError(f"magnitudes must be finite numbers, got {self.magnitudes}")
        if self.channels is not None:
            if not list(self.channels):
                raise ValueError(
                    "channels must name at least one channel (or be None: from discovery)"
                )
            for c in self.channels:
                check_int("channel", c, 0)
        return self

    def check_for(self, policy: Any) -> RetargetConfig:
        """Check the fields that depend on the agent (the layer and the channels) against
        ``policy`` before any work: ValueError listing the hook points or the channel range."""
        shape = layer_shape(policy, self.layer)
        if len(shape) != 3:
            raise ValueError(
                f"layer {self.layer!r} has shape {tuple(shape)}; retargeting needs a (C, H, W) "
                "conv layer such as embedder.block2.res1.resadd_out"
            )
        for c in self.channels or ():
            if not 0 <= c < shape[0]:
                raise ValueError(
                    f"channel {c} is out of range for layer {self.layer!r}: channels must be in "
                    f"[0, {shape[0] - 1}]"
                )
        if self.n_channels > shape[0]:
            raise ValueError(
                f"n_channels must be in [1, {shape[0]}] for layer {self.layer!r}, got {self.n_channels}"
            )
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
    cfg.validate().check_for(policy)
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
        spawn = cfg.cheese == "spawn"
        levels = eval_levels(
            cfg.mazes, seed=cfg.seed, maze_size=size, cheese=CHEESE_PROTOCOLS[cfg.cheese], salt=3
        )
        frac_levels = levels[: min(cfg.fraction_mazes, len(levels))]
        for name in names:
            tgt = target_cells(levels, name)
            if progress:
                progress(f"size {size} target {name}")
            common = {"size": size, "target": name, "layer": cfg.layer, "cheese": cfg.cheese}
            # every variant of this (size, target) runs in one batched rollout
            variants: list[tuple] = [(levels, tgt, None, spawn)]
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
                    "path_prob_median": float(
                        np.median(path_probability(policy, levels, tgt, cheese=spawn))
                    ),
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
                        world_size=levels.world_size,
                    )
                    used = list(patch.channels or [])
                    fm = fraction_modified(policy, _sub(patch, len(frac_levels)), frac_levels)
                    lay = fm["layers"][cfg.layer]
                    pp = path_probability(policy, levels, tgt, [patch], cheese=spawn)
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
                    variants.append((levels, tgt, patch, spawn))
                    if cfg.with_cheese and not spawn:
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
                    wrong = wrong_targets(levels, name)
                    wp = retarget_patch(
                        policy, cfg.layer, wrong, method="channels", channels=used, magnitude=mag,
                        world_size=levels.world_size,
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
                        variants.append((levels, tgt, cp, spawn))
            rates = retarget_success_batch(
                policy,
                variants,
                max_steps=cfg.max_steps,
                seed=cfg.seed,
                deterministic=cfg.deterministic,
                split=True,
            )
            # variants were appended in row order, with each main row's with-cheese run right after it
            vi = 0
            for ri, row in enumerate(pending):
                row.update(rates[vi]["reached"].columns("success"))
                row.update(rates[vi]["cheese_first"].columns("cheese_first"))
                row.update(rates[vi]["neither"].columns("neither"))
                vi += 1
                if ri in with_cheese_of:
                    row.update(rates[vi]["reached"].columns("success_with_cheese"))
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
