"""``scripts/steer.py distance``: arrival vs the target's BFS distance from the start -> top-right path.

One frontier config per size (:class:`DistanceConfigs`); each (size, method) unit is a
:func:`steering.experiments.distance.distance_curve`, saved to ``units/`` when done;
``distance.csv`` and ``distance_curve.png`` follow.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agents.rundir import load_or_run_unit, open_run, write_csv

from . import comma_floats, comma_strs, config_from_flags, int_at_least, jsonable
from .steer_options import add_common, maze_sizes


def add_parser(sub: Any) -> None:
    """Add the ``distance`` subcommand to ``sub`` (``ArgumentParser.add_subparsers()``)."""
    dc = sub.add_parser("distance", help="arrival vs the target's distance from the top-right path")
    add_common(dc)
    dc.set_defaults(mazes=200, max_steps=500, torch_threads=1)
    dc.add_argument("--sizes", type=maze_sizes, default=[13, 25], help="comma list of odd maze sizes (default 13,25)")
    dc.add_argument("--methods", type=comma_strs, default=["clamp-single", "per-maze"],
                    help="comma list of clamp-single, clamp-channels, per-maze, shared (default clamp-single,per-maze)")
    dc.add_argument("--knobs", type=comma_floats, default=None,
                    help="one knob per method: clamp value / channel count / k (default 5.5 for clamp-single, "
                    "4 for clamp-channels, 64 for edits)")
    dc.add_argument("--train-mazes", type=int_at_least(1, "--train-mazes"), default=100,
                    help="training mazes of the shared edit (default 100)")
    dc.add_argument("--steps", type=int_at_least(1, "--steps"), default=200, help="Adam steps per fit (default 200)")
    dc.add_argument("--discover-mazes", type=int_at_least(2, "--discover-mazes"), default=200,
                    help="mazes for cheese-channel discovery (default 200)")


class DistanceConfigs(list):
    """The per-size :class:`~steering.experiments.frontier_config.FrontierConfig` of ``distance``."""

    def check_policy(self, policy: Any) -> None:
        for c in self:
            c.check_policy(policy)

    def to_dict(self) -> dict:
        return {"sizes": [c.to_dict() for c in self]}


def config(args: argparse.Namespace) -> DistanceConfigs:
    """One validated frontier config per ``--sizes`` entry, one knob per method."""
    from ..experiments.frontier_config import FrontierConfig

    default = {"clamp-single": 5.5, "clamp-channels": 4, "per-maze": 64, "shared": 64}
    knobs = args.knobs if args.knobs is not None else [default.get(m, 64) for m in args.methods]
    if len(knobs) != len(args.methods):
        raise ValueError(f"--knobs needs one value per method ({len(args.methods)}), got {len(knobs)}")
    cfgs = []
    for size in args.sizes:
        cfgs.append(config_from_flags(
            FrontierConfig, args, size=size, methods=list(args.methods),
            knobs={m: [k] for m, k in zip(args.methods, knobs)}, edit={"steps": args.steps},
        ))
    return DistanceConfigs(cfgs)


def run(args: argparse.Namespace, cfgs: DistanceConfigs, policy: Any, out: Path, bar: Any) -> dict:
    """Run (or resume) every (size, method) unit into ``out``; returns the summary."""
    from ..experiments.distance import distance_curve
    from ..methods.retarget import ChannelRanking, discover_cheese_channels
    from ..plots.frontier import plot_distance_curve

    open_run(out, {"agent": args.agent, "config": cfgs.to_dict()}, policy=policy)
    ranking = None
    if any(m.startswith("clamp") for m in cfgs[0].methods):

        def discover() -> ChannelRanking:
            bar.set_description("discovering cheese channels")
            return discover_cheese_channels(policy, args.layer, n_mazes=args.discover_mazes, seed=args.seed)

        ranking = ChannelRanking.cached(out / "ranking.json", discover)
    units = [(c, m) for c in cfgs for m in c.methods]
    bar.reset(total=len(units))
    rows: list[dict] = []
    for c, m in units:

        def unit(c=c, m=m) -> list:
            bar.set_description(f"size {c.size} {m}")
            knob = c.all_knobs()[m][0]
            return jsonable(distance_curve(policy, c, m, knob, ranking=ranking, progress=bar.set_description))

        rows += load_or_run_unit(out / "units" / f"{c.size}_{m}", unit)
        bar.update(1)
    write_csv(out / "distance.csv", rows)
    fig = plot_distance_curve(rows, out / "distance_curve.png")
    return {"command": "distance", "agent": args.agent, "rows": rows, "figures": [str(fig)]}
