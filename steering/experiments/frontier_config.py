"""The Q2 frontier's options (:class:`FrontierConfig`, also the CLI's ``frontier`` flags) and its
units in run order (see :mod:`steering.experiments.frontier` for the protocol)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mazegen import CORNERS
from mazegen.checks import check_int, check_maze_size, is_int

from ..activations import DEFAULT_LAYER, layer_shape
from ..methods.optimise import EditConfig, check_edit_layers
from .frontier_methods import (
    CF_METHODS,
    DEFAULT_KNOBS,
    FRONTIER_METHODS,
    INT_KNOBS,
    VECTOR_METHODS,
)

__all__ = ["FrontierConfig", "frontier_units"]


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
