"""Reading vs controlling: each probe family's direction used as an activation edit.

For one layer, :func:`run_probe_steer` fits every family of :mod:`steering.methods.probe_kinds` on
``probe_mazes`` mazes (70/30 split by maze: the held-out accuracy is the *read* score), then
adds ``alpha * unit * w / |w|`` to the layer, where ``unit`` is the norm of the class-mean
difference (so the mean-difference direction at ``alpha = 1`` shifts a negative example by
exactly the class-mean gap), next to a norm-matched random Gaussian direction with the same
placement (kind ``random``). Two concepts:

- ``cheese_cell`` (convolutional probes, "the cheese is at this activation cell"): the channel
  vector is added at a random target cell's activation cell only. Control effect: the rate of
  reaching the target within ``max_steps`` with the cheese removed (``reach_target``), and with
  the cheese present, ``p_cheese`` (the rate of eating it);
- ``cheese_top_right`` (flattened probes, "the cheese is in the top-right 5x5"): the whole-layer
  direction is added everywhere, on 25x25 mazes with the cheese in the top-left corner
  (``alpha < 0``: "the cheese is *not* top-right"): ``p_cheese`` and ``p_top_right`` (the
  episode reached the top-right cell without the cheese).

Every (kind, alpha) of a concept runs in one batched rollout (a :class:`~steering.patches.Stack`
of per-level :class:`~steering.patches.Add` patches); rates carry Wilson 95% CIs, and
``frac_layer`` is :func:`steering.metrics.fraction_modified`'s share of the layer's activations
the edit changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from agents.eval.stats import Rate
from mazegen import Levels, generate_levels
from mazegen.checks import check_int

from ..activations import DEFAULT_LAYER
from ..methods.probe_data import collect_probe_data, probe_levels, probe_seeds, split_indices
from ..methods.probe_kinds import (
    CELL_KINDS,
    FLAT_KINDS,
    argmax_cells,
    cheese_in_top_right,
    fit_cell_probe,
    fit_readout,
)
from ..metrics import fraction_modified
from ..patches.apply import rollout_patch
from ..patches.base import Stack
from ..patches.edits import Add

__all__ = ["ProbeSteerConfig", "run_probe_steer"]


@dataclass
class ProbeSteerConfig:
    """Settings of :func:`run_probe_steer` (CLI: ``scripts/probe.py steer-by-probe``)."""

    #: hook point edited and probed
    layer: str = DEFAULT_LAYER
    #: mazes the probes are fitted on (uniform cheese, procgen's size draw; 70/30 split)
    probe_mazes: int = 200
    #: mazes per (kind, alpha) for the behavioural effect
    mazes: int = 40
    #: edit strengths, in units of the class-mean difference's norm
    alphas: list = field(default_factory=lambda: [1.0, 3.0, 10.0])
    #: edit strengths for the top-right concept (negative: "not top-right")
    tr_alphas: list = field(default_factory=lambda: [-3.0, -1.0, 1.0, 3.0])
    #: maze sizes of the cheese-cell retargeting mazes (cycled)
    sizes: list = field(default_factory=lambda: [13, 15, 17, 19, 21, 23, 25])
    #: step cap for reaching the target
    max_steps: int = 150
    #: step cap of the 25x25 top-right episodes
    tr_max_steps: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        self.probe_mazes = check_int("probe_mazes", self.probe_mazes, 10)
        self.mazes = check_int("mazes", self.mazes, 1)
        for a in list(self.alphas) + list(self.tr_alphas):
            if not np.isfinite(float(a)):
                raise ValueError(f"alphas must be finite, got {a!r}")


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _rate(x: np.ndarray) -> dict:
    r = Rate.of(int(np.sum(x)), int(np.size(x)))
    return {"rate": r.rate, "ci_lo": r.lo, "ci_hi": r.hi, "n": r.n}


def _batched(policy, layer: str, levels: Levels, patches: list[Add | None], targets, *, seed, max_steps, stop):
    """One rollout of ``len(patches)`` copies of ``levels``, copy ``b`` patched by ``patches[b]``."""
    from agents.eval.rollout import rollout

    stack = Stack(layer, patches, [len(levels)] * len(patches))
    allv = Levels.concat([levels] * len(patches))
    t = None if targets is None else np.concatenate([targets] * len(patches))
    res = rollout(policy, allv, seed=seed, max_steps=max_steps, targets=t, stop_on_target=stop,
                  patch=rollout_patch(policy, stack))
    return res, np.repeat(np.arange(len(patches)), len(levels))


def _fit(policy, cfg: ProbeSteerConfig) -> dict:
    """The probe unit: read rows, every (concept, kind) unit direction (flattened), the two
    class-mean-gap norms and the layer shape."""
    plv = probe_levels(cfg.probe_mazes, cfg.seed, mouse="start")
    data = collect_probe_data(policy, plv, cfg.layer, outcomes=False)
    acts = data.acts
    n, c, h, w = acts.shape
    tr, te = split_indices(n, 0.3, cfg.seed)
    rng = np.random.default_rng(cfg.seed + 17)
    read, dirs = [], {}

    # concept 1: the cheese is at this cell (convolutional probes)
    pos = acts.reshape(n, c, -1).transpose(0, 2, 1)
    lab = np.zeros((n, h * w), bool)
    lab[np.arange(n), data.cheese_act] = True
    unit1 = float(np.linalg.norm(pos[lab].mean(0) - pos[data.valid_act & ~lab].mean(0)))
    for name, kind in CELL_KINDS.items():
        r = fit_cell_probe(kind, acts[tr], data.cheese_act[tr], data.valid_act[tr], seed=cfg.seed)
        ok = argmax_cells(r, acts[te], data.valid_act[te]) == data.cheese_act[te]
        read.append({"concept": "cheese_cell", "kind": name, **_rate(ok)})
        dirs[f"cheese_cell|{name}"] = _unit(r.w).ravel().tolist()
    dirs["cheese_cell|random"] = _unit(rng.standard_normal(c)).tolist()
    read.append({"concept": "cheese_cell", "kind": "random", "rate": None, "ci_lo": None, "ci_hi": None, "n": 0})

    # concept 2: the cheese is in the top-right 5x5 (flattened probes)
    flat = acts.reshape(n, -1).astype(np.float64)
    y = cheese_in_top_right(data)
    unit2 = float(np.linalg.norm(flat[y].mean(0) - flat[~y].mean(0)))
    for name, kind in FLAT_KINDS.items():
        r = fit_readout(kind, flat[tr], y[tr], seed=cfg.seed, l2=1.0)
        read.append({"concept": "cheese_top_right", "kind": name, **_rate(r.predict(flat[te]) == y[te])})
        dirs[f"cheese_top_right|{name}"] = _unit(r.w).ravel().tolist()
    dirs["cheese_top_right|random"] = _unit(rng.standard_normal(c * h * w)).tolist()
    read.append({"concept": "cheese_top_right", "kind": "random", "rate": None, "ci_lo": None, "ci_hi": None, "n": 0})
    return {"read": read, "dirs": dirs, "unit": {"cheese_cell": unit1, "cheese_top_right": unit2},
            "shape": [c, h, w]}


def run_probe_steer(
    policy: Any,
    cfg: ProbeSteerConfig,
    *,
    out: str | Path | None = None,
    bar: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """``{"read": [...], "control": [...], "table": [...]}`` rows; see the module docstring.

    Resume: with ``out``, a run directory (:func:`agents.rundir.open_run`: refused if it holds
    other settings or another agent's weights) of five units, reused when finished: ``fit``
    (the probes and directions), one per batched rollout (``cheese_cell-removed``,
    ``cheese_cell-present``, ``top_right``) and ``frac``. Every unit is seeded by ``cfg.seed``
    alone, so a resumed run gives the rows of an uninterrupted one. ``bar``: a tqdm bar over
    the units."""
    from agents.rundir import unit_runner

    from ..cells import maze_cell_to_act_cell
    from ..methods.retarget import random_targets

    say = progress or (lambda m: None)
    config = {"experiment": "steer-by-probe", **asdict(cfg)}
    with unit_runner(out, config, policy=policy, total=5, desc="steer-by-probe", bar=bar) as unit:
        say(f"fitting the probes on {cfg.probe_mazes} mazes at {cfg.layer}")
        fit = unit("fit", lambda: _fit(policy, cfg))
        c, h, w = fit["shape"]
        unit1, unit2 = fit["unit"]["cheese_cell"], fit["unit"]["cheese_top_right"]
        dirs = {tuple(k.split("|")): np.asarray(v) for k, v in fit["dirs"].items()}

        # --- cheese-cell edits: at each maze's target cell ---
        sizes = [int(cfg.sizes[i % len(cfg.sizes)]) for i in range(cfg.mazes)]
        lv = generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=600_000), maze_size=sizes, cheese="uniform")
        targets = random_targets(lv, cfg.seed)
        tcell = np.array([maze_cell_to_act_cell(tuple(t), layer_shape=(c, h, w), obs_kind=policy.obs)
                          for t in targets])
        kinds1 = list(CELL_KINDS) + ["random"]
        variants, patches = [], []
        for kind in kinds1:
            for a in cfg.alphas:
                vec = np.zeros((cfg.mazes, c, h, w), np.float32)
                vec[np.arange(cfg.mazes), :, tcell[:, 0], tcell[:, 1]] = (a * unit1 * dirs[("cheese_cell", kind)])[None]
                variants.append((kind, a))
                patches.append(Add(cfg.layer, vec, 1.0, per_level=True))
        variants.insert(0, ("none", 0.0))
        patches.insert(0, None)

        def cell_rows(cheese: bool) -> list[dict]:
            lvx = lv if cheese else Levels.from_list([x.with_cheese(None) for x in lv])
            say(f"cheese-cell edits, cheese {'present' if cheese else 'removed'}: {len(patches)} variants x {cfg.mazes} mazes")
            res, block = _batched(policy, cfg.layer, lvx, patches, targets, seed=cfg.seed,
                                  max_steps=cfg.max_steps, stop=True)
            rows = []
            for b, (kind, a) in enumerate(variants):
                sel = block == b
                row = {"concept": "cheese_cell", "kind": kind, "alpha": a, "cheese": cheese,
                       "metric": "reach_target", **_rate(np.asarray(res.reached_target)[sel])}
                rows.append(row)
                if cheese:
                    rows.append({**row, "metric": "p_cheese", **_rate(np.asarray(res.got_cheese)[sel])})
            return rows

        control = []
        for cheese in (False, True):
            control += unit(f"cheese_cell-{'present' if cheese else 'removed'}", partial(cell_rows, cheese))

        # --- top-right edits: everywhere, 25x25 mazes with the cheese top-left ---
        tlv = generate_levels(probe_seeds(cfg.mazes, cfg.seed, offset=700_000), maze_size=25, cheese="top-left")
        kinds2 = list(FLAT_KINDS) + ["random"]
        variants2, patches2 = [("none", 0.0)], [None]
        for kind in kinds2:
            for a in cfg.tr_alphas:
                variants2.append((kind, a))
                d = dirs[("cheese_top_right", kind)].reshape(c, h, w)
                patches2.append(Add(cfg.layer, (a * unit2 * d).astype(np.float32), 1.0))

        def top_right_rows() -> list[dict]:
            say(f"top-right edits: {len(patches2)} variants x {cfg.mazes} 25x25 mazes")
            res, block = _batched(policy, cfg.layer, tlv, patches2, None, seed=cfg.seed,
                                  max_steps=cfg.tr_max_steps, stop=False)
            outcome = np.asarray(res.outcome)
            rows = []
            for b, (kind, a) in enumerate(variants2):
                sel = block == b
                base = {"concept": "cheese_top_right", "kind": kind, "alpha": a, "cheese": True}
                rows.append({**base, "metric": "p_cheese", **_rate(outcome[sel] == "cheese")})
                rows.append({**base, "metric": "p_top_right", **_rate(outcome[sel] == "top_right")})
            return rows

        control += unit("top_right", top_right_rows)

        def fracs() -> dict:
            def f(p, levels):
                return fraction_modified(policy, p, levels)["layers"][cfg.layer]["fraction_layer"]

            return {"cheese_cell": {k: f(patches[1 + i * len(cfg.alphas)], lv) for i, k in enumerate(kinds1)},
                    "cheese_top_right": {k: f(patches2[1 + i * len(cfg.tr_alphas)], tlv)
                                         for i, k in enumerate(kinds2)}}

        frac = unit("frac", fracs)
    for r in control:
        r["frac_layer"] = 0.0 if r["kind"] == "none" else frac[r["concept"]][r["kind"]]
    return {"read": fit["read"], "control": control, "table": _table(fit["read"], control),
            "unit": fit["unit"]}


def _table(read: Sequence[dict], control: Sequence[dict]) -> list[dict]:
    """One row per (concept, kind): read accuracy, and the control effect at the strongest
    alpha (cheese cell: reach_target with the cheese removed; top-right: p_top_right and
    p_cheese at the most negative alpha) against no edit."""
    out = []
    for r in read:
        cc = [x for x in control if x["concept"] == r["concept"]]
        none = {x["metric"]: x["rate"] for x in cc if x["kind"] == "none" and (x["concept"] != "cheese_cell" or not x["cheese"])}
        mine = [x for x in cc if x["kind"] == r["kind"]]
        row = {"concept": r["concept"], "kind": r["kind"], "read_acc": r["rate"],
               "read_ci_lo": r["ci_lo"], "read_ci_hi": r["ci_hi"]}
        if r["concept"] == "cheese_cell":
            best = max((x for x in mine if x["metric"] == "reach_target" and not x["cheese"]),
                       key=lambda x: x["alpha"])
            row.update(alpha=best["alpha"], effect_metric="reach_target (cheese removed)",
                       effect=best["rate"], effect_ci_lo=best["ci_lo"], effect_ci_hi=best["ci_hi"],
                       no_edit=none.get("reach_target"), frac_layer=best["frac_layer"])
        else:
            for metric, pick in (("p_top_right", max), ("p_cheese", min)):
                best = pick((x for x in mine if x["metric"] == metric), key=lambda x: x["alpha"])
                row.update({f"alpha_{metric}": best["alpha"], metric: best["rate"],
                            f"{metric}_ci_lo": best["ci_lo"], f"{metric}_ci_hi": best["ci_hi"],
                            f"{metric}_no_edit": none.get(metric), "frac_layer": best["frac_layer"]})
        out.append(row)
    return out
