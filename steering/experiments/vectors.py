"""The steering-vector experiment behind ``scripts/steer.py vector``.

:func:`run_vector` adds ``coeff`` x a cheese vector or a top-right vector at one layer (the
coefficient is signed: ``-1`` subtracts the vector, the published use of the cheese vector, and
the default for ``kind="cheese"``; ``+1`` is the default for ``kind="top-right"``; the same
convention as the frontier's ``vec-*`` knobs) and measures, per maze size and coefficient, how often the agent
gets the cheese and reaches the top-right cell, and its capability retention (cheese rate with
the patch / without it). Controls: the unpatched baseline (``variant == "none"``) and a
Gaussian ``random-vector`` with the same per-level norm as the real vector. Vectors are each
maze's own (``source="own"``) or maze 0's on every other maze (``"transfer"``). For the cheese
vector it also reports P(cheese-ward move at the decision square).

Rows are flat dicts (CSV-ready): ``kind``, ``size``, ``coeff``, ``variant``, ``source``,
``layer``, the rates ``got_cheese`` and ``top_right`` with Wilson 95% CIs (``*_lo``, ``*_hi``,
``*_k``, ``*_n``) and ``retention``; ``cheese-decision-square`` rows carry ``p_median``,
``p_mean``, ``n`` and ``skipped`` instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from agents.eval.stats import Rate
from mazegen import Levels
from mazegen.checks import check_int, check_maze_size

from ..activations import DEFAULT_LAYER
from ..methods.retarget import eval_levels
from ..methods.vectors import per_level_vectors, random_like, steering_patch
from ..metrics import cheese_vector_effect

__all__ = ["VectorConfig", "run_vector"]


@dataclass
class VectorConfig:
    """Options of :func:`run_vector` (also the CLI's ``vector`` flags)."""

    kind: str = "cheese"
    #: signed ``Add`` coefficients; None = the kind's default (cheese ``[-1]``, top-right ``[1]``)
    coeffs: list[float] | None = None
    layer: str = DEFAULT_LAYER
    sizes: list[int] = field(default_factory=lambda: [15])
    mazes: int = 50
    seed: int = 0
    max_steps: int = 250
    #: "own": each maze's own vector; "transfer": the vector of one other maze for all
    source: str = "own"
    deterministic: bool = False

    def validate(self) -> VectorConfig:
        """Check every field (ValueError naming the field, the value and what is allowed)."""
        if self.coeffs is None:
            self.coeffs = [-1.0] if self.kind == "cheese" else [1.0]
        for name in ("coeffs", "sizes"):
            if not list(getattr(self, name)):
                raise ValueError(
                    f"{name} must name at least one entry, got {getattr(self, name)!r}"
                )
        if not all(isinstance(c, (int, float)) and math.isfinite(c) for c in self.coeffs):
            raise ValueError(f"coeffs must be finite numbers, got {self.coeffs}")
        self.seed = check_int("seed", self.seed, 0)
        self.max_steps = check_int("max_steps", self.max_steps, 1)
        if self.kind not in ("cheese", "top-right"):
            raise ValueError(f"kind must be 'cheese' or 'top-right', got {self.kind!r}")
        if self.source not in ("own", "transfer"):
            raise ValueError(f"source must be 'own' or 'transfer', got {self.source!r}")
        for s in self.sizes:
            check_maze_size(s)
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
    vector added (``coeff`` x the vector; negative subtracts), without it, and with a same-norm random
    vector (the control), plus capability retention (cheese rate with / without; the top-right
    vector runs on in-distribution ``top-right:5`` levels); for the cheese vector also
    P(cheese-ward move at the decision square)."""
    from agents.eval.rollout import rollout

    from ..patches.apply import rollout_patch

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
        base = rollout(
            policy, levels, deterministic=cfg.deterministic, seed=cfg.seed, max_steps=cfg.max_steps
        )
        for coeff in cfg.coeffs:
            if progress:
                progress(f"{cfg.kind} vector size {size} coeff {coeff:g}")
            variants = {
                "none": None,
                "vector": steering_patch(vecs, cfg.layer, coeff, per_level=True),
                "random-vector": steering_patch(
                    random_like(vecs, cfg.seed, per_level=True), cfg.layer, coeff, per_level=True
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
                        **Rate.of(int(gc.sum()), len(gc)).columns("got_cheese"),
                        **Rate.of(int(tr.sum()), len(tr)).columns("top_right"),
                        # capability retention: cheese rate with the patch / without it
                        "retention": float(gc.mean()) / base_rate if base_rate > 0 else math.nan,
                    }
                )
            if cfg.kind == "cheese":
                eff = cheese_vector_effect(policy, levels, cfg.layer, coeff=coeff, seed=cfg.seed)
                extra[f"size{size}_coeff{coeff:g}"] = {k: v for k, v in eff.items()}
                for vname in ("original", "patched", "random_same_norm"):
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
