"""``scripts/steer.py retarget``: retargeting success vs magnitude, per method, with controls.

Each (size, target) unit is saved to ``units/`` when done (and may run as a Ray task,
``--ray``); ``rows.csv``, ``ranking.json`` and the success / target-heatmap figures follow.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agents.rundir import open_run, unit_stem, write_csv, write_json

from . import comma_ints, comma_strs, config_from_flags, int_at_least
from .steer_options import add_common, finite_floats, maze_sizes, nonempty


def add_parser(sub: Any) -> None:
    """Add the ``retarget`` subcommand to ``sub`` (``ArgumentParser.add_subparsers()``)."""
    from agents.cluster import add_ray_option

    r = sub.add_parser(
        "retarget", help="retargeting success vs magnitude, per method, with controls"
    )
    add_common(r)
    add_ray_option(r)  # each (size, target) unit a Ray task; same files as without
    r.add_argument(
        "--targets",
        type=nonempty(comma_strs, "target"),
        default=["top-left", "bottom-right"],
        help="comma list of top-left,top-right,bottom-left,bottom-right or grid:K (KxK node cells)",
    )
    r.add_argument(
        "--sizes",
        type=maze_sizes,
        default=[25],
        help="comma list of odd maze sizes, or 'all' (default 25)",
    )
    r.add_argument(
        "--methods",
        type=nonempty(comma_strs, "method"),
        default=["single", "channels", "discovered"],
        help="comma list of single (one activation), channels (a channel set), discovered",
    )
    r.add_argument(
        "--magnitudes",
        type=finite_floats,
        default=None,
        help="comma list of clamp values (default: single 5.5, channel sets 2.3)",
    )
    r.add_argument(
        "--channels",
        type=nonempty(comma_ints, "channel"),
        default=None,
        help="channel(s) for single/channels (default: from discovery)",
    )
    r.add_argument(
        "--n-channels",
        type=int_at_least(1, "--n-channels"),
        default=4,
        help="channel-set size taken from discovery (default 4)",
    )
    r.add_argument(
        "--discover-mazes",
        type=int_at_least(1, "--discover-mazes"),
        default=200,
        help="mazes for channel discovery (default 200)",
    )
    r.add_argument("--no-controls", action="store_false", dest="controls", help="skip the control rows")
    r.add_argument(
        "--cheese",
        choices=["spawn", "removed"],
        default="spawn",
        help="spawn: cheese left at its top-right:5 spawn (Q2, default); removed: cheese removed "
        "from uniformly placed levels (the published protocol)",
    )
    r.add_argument(
        "--no-cheese-variant",
        action="store_false",
        dest="with_cheese",
        help="with --cheese removed: skip the with-cheese success",
    )
    r.set_defaults(mazes=200, max_steps=500)


def config(args: argparse.Namespace) -> Any:
    """The validated :class:`~steering.experiments.retarget.RetargetConfig` of the flags."""
    from ..experiments.retarget import RetargetConfig

    return config_from_flags(RetargetConfig, args)


def run(args: argparse.Namespace, cfg: Any, policy: Any, out: Path, bar: Any) -> dict:
    """Run (or resume) every (size, target) unit into ``out``; returns the summary."""
    from agents.cluster import map_units

    from ..experiments.retarget import retarget_ranking
    from ..experiments.retarget_units import retarget_unit
    from ..experiments.targets import parse_targets
    from ..methods.retarget import ChannelRanking
    from ..plots import plot_success_vs_magnitude, plot_target_heatmap

    # refuses a directory of another agent (weights fingerprint) or other arguments
    open_run(out, {"agent": args.agent, "config": cfg.to_dict()}, policy=policy)
    ranking = ChannelRanking.cached(
        out / "ranking.json", lambda: retarget_ranking(policy, cfg, progress=bar.set_description)
    )
    units = [(s, t) for s in cfg.sizes for t in parse_targets(cfg.targets)]
    bar.reset(total=len(units))
    (out / "units").mkdir(exist_ok=True)

    def upath(s: int, t: str) -> Path:
        return (out / "units" / unit_stem(s, t)).with_suffix(".json")

    todo = [u for u in units if not upath(*u).exists()]
    bar.update(len(units) - len(todo))

    def write(i: int, unit_rows: list) -> None:  # the driver alone writes the run directory
        write_json(upath(*todo[i]), unit_rows)
        bar.update(1)

    map_units(retarget_unit, [(policy, cfg, s, t, ranking, args.torch_threads) for s, t in todo],
              ray=args.ray, on_result=write)
    rows: list[dict] = []
    for s, t in units:
        rows += json.loads(upath(s, t).read_text())
    write_csv(out / "rows.csv", rows)
    figs = []
    figs.append(str(plot_success_vs_magnitude(rows, out / "success_vs_magnitude.png")))
    for m in cfg.methods:
        figs.append(str(plot_target_heatmap(rows, out / f"target_heatmap_{m}.png", method=m)))
    main = [r for r in rows if r["control"] == ""]
    best = max(main, key=lambda r: r["success"]) if main else None
    return {
        "command": "retarget",
        "agent": args.agent,
        "layer": cfg.layer,
        "rows": len(rows),
        "best": best,
        "ranking_selected": None if ranking is None else ranking.selected,
        "figures": figs,
    }
