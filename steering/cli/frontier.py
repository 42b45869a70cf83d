"""``scripts/steer.py frontier``: every method over its size knob, arrival vs % of activations modified.

The run itself (units, controls, ``frontier.csv/json/png``, the best patch exported) is
:func:`steering.experiments.frontier.run_frontier`; here are its flags and their config.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import comma_floats, comma_ints, comma_strs, config_from_flags, int_at_least
from .steer_options import add_common, finite_floats


def add_parser(sub: Any) -> None:
    """Add the ``frontier`` subcommand to ``sub`` (``ArgumentParser.add_subparsers()``)."""
    f = sub.add_parser("frontier", help="Q2 frontier: arrival vs %% of activations modified")
    add_common(f)
    f.set_defaults(mazes=200, max_steps=500, torch_threads=1)
    f.add_argument("--targets", type=comma_strs, default=["top-left", "bottom-right"],
                   help="comma list of corners (default top-left,bottom-right)")
    f.add_argument("--methods", type=comma_strs, default=None,
                   help="comma list of clamp-single, clamp-channels, per-maze, shared, per-maze-multi, "
                   "cf-target, cf-waypoint, vec-cheese, vec-top-right, vec-compose "
                   "(default clamp-single,clamp-channels,per-maze,shared)")
    f.add_argument("--size", type=int, default=25, help="odd maze size (default 25)")
    f.add_argument("--train-mazes", type=int_at_least(1, "--train-mazes"), default=100,
                   help="training mazes of the shared edit, disjoint from the evaluation mazes (default 100)")
    f.add_argument("--ks", type=comma_ints, default=None, help="k values of per-maze edits (default 16,64,256)")
    f.add_argument("--shared-ks", type=comma_ints, default=None,
                   help="k values of shared edits (default 64,256,1568)")
    f.add_argument("--multi-ks", type=comma_ints, default=None, help="k values of per-maze-multi (default 64,256)")
    f.add_argument("--multi-layers", type=comma_strs, default=None,
                   help="layers of per-maze-multi (default embedder.block1.res2.resadd_out,<--layer>)")
    f.add_argument("--magnitudes", type=comma_floats, default=None, help="clamp-single values (default 5.5,20)")
    f.add_argument("--channel-counts", type=comma_ints, default=None,
                   help="clamp-channels set sizes (default 1,4,11)")
    f.add_argument("--cf-channels", type=comma_ints, default=None,
                   help="channels replaced by cf-target / cf-waypoint, top by counterfactual change (default 1,8,32)")
    f.add_argument("--cf-radius", type=int_at_least(0, "--cf-radius"), default=None,
                   help="counterfactual methods replace only activation cells within this distance of the "
                   "moved and the original cheese (default: every cell)")
    f.add_argument("--coeffs", type=finite_floats, default=None,
                   help="coefficients of vec-cheese / vec-top-right / vec-compose, negative subtracts; write "
                   "--coeffs=-1,-2 (default -1,-2 / -1,1 / -1,-2)")
    f.add_argument("--support", choices=["l1", "grad"], default="l1",
                   help="support of the optimised edits: dense L1 fit or gradient magnitude (default l1)")
    f.add_argument("--steps", type=int_at_least(1, "--steps"), default=200, help="Adam steps per fit (default 200)")
    f.add_argument("--radius", type=int, default=1, help="training states within this many steps of the path (default 1)")
    f.add_argument("--dagger", type=int, default=0, help="DAgger rounds of the optimised edits (default 0)")
    f.add_argument("--discover-mazes", type=int_at_least(2, "--discover-mazes"), default=200,
                   help="mazes for cheese-channel discovery (default 200)")
    f.add_argument("--no-controls", action="store_false", dest="controls", help="skip the control rows")
    f.add_argument("--no-retention", action="store_false", dest="retention",
                   help="skip the capability-retention rows")


def config(args: argparse.Namespace) -> Any:
    """The validated :class:`~steering.experiments.frontier_config.FrontierConfig` of the flags."""
    from ..experiments.frontier_config import FrontierConfig

    knobs = {}
    for method, flag in (("per-maze", args.ks), ("shared", args.shared_ks),
                         ("per-maze-multi", args.multi_ks), ("clamp-single", args.magnitudes),
                         ("clamp-channels", args.channel_counts), ("cf-target", args.cf_channels),
                         ("cf-waypoint", args.cf_channels), ("vec-cheese", args.coeffs),
                         ("vec-top-right", args.coeffs), ("vec-compose", args.coeffs)):
        if flag is not None:
            knobs[method] = list(flag)
    return config_from_flags(
        FrontierConfig,
        args,
        knobs=knobs or None,
        edit={"support": args.support, "steps": args.steps, "radius": args.radius,
              "dagger": args.dagger},
        multi_layers=(args.multi_layers if args.multi_layers is not None
                      else ["embedder.block1.res2.resadd_out", args.layer]),
    )


def run(args: argparse.Namespace, cfg: Any, policy: Any, out: Path, bar: Any) -> dict:
    """Run (or resume) the frontier into ``out``; returns the summary."""
    from ..experiments.frontier import run_frontier

    return {"command": "frontier", "agent": args.agent,
            **run_frontier(policy, cfg, out, agent=args.agent, bar=bar)}
