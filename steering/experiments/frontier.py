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

:func:`~steering.experiments.frontier_unit.run_frontier_unit` computes one unit (its own
module, with the controls and the retention check); :func:`frontier_units` lists them and
:class:`FrontierConfig` holds the options (both in :mod:`steering.experiments.frontier_config`);
``scripts/steer.py frontier`` runs them resumably and writes ``frontier.csv/json/png``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..methods.retarget import ChannelRanking
from .frontier_config import FrontierConfig, frontier_units
from .frontier_methods import levels_of
from .frontier_unit import run_frontier_unit
from .targets import target_cells

__all__ = ["best_row", "run_frontier"]


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
