"""``scripts/steer.py vector``: cheese / top-right steering vectors over coefficients.

The experiment is :func:`steering.experiments.vectors.run_vector` (with its random-vector
control); here are its flags, ``rows.csv``, ``decision_square.json`` and the figure.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agents.checkpoint import atomic_write_text
from agents.rundir import write_csv

from . import config_from_flags, jsonable
from .steer_options import add_common, finite_floats, maze_sizes


def add_parser(sub: Any) -> None:
    """Add the ``vector`` subcommand to ``sub`` (``ArgumentParser.add_subparsers()``)."""
    v = sub.add_parser("vector", help="cheese / top-right steering vectors")
    add_common(v)
    v.add_argument(
        "--kind",
        choices=["cheese", "top-right"],
        default="cheese",
        help="which vector (default cheese)",
    )
    v.add_argument(
        "--coeffs",
        type=finite_floats,
        default=None,
        help="comma list of signed coefficients: each adds coeff x the vector, so -1 subtracts "
        "it (default: -1 for --kind cheese, the published use; 1 for --kind top-right); "
        "write negative lists as --coeffs=-1,-2",
    )
    v.add_argument(
        "--sizes", type=maze_sizes, default=[15], help="comma list of odd maze sizes (default 15)"
    )
    v.add_argument(
        "--source",
        choices=["own", "transfer"],
        default="own",
        help="own: each maze's own vector; transfer: maze 0's vector on the others",
    )


def config(args: argparse.Namespace) -> Any:
    """The validated :class:`~steering.experiments.vectors.VectorConfig` of the flags."""
    from ..experiments.vectors import VectorConfig

    return config_from_flags(VectorConfig, args)


def run(args: argparse.Namespace, cfg: Any, policy: Any, out: Path, bar: Any) -> dict:
    """Run the vector experiment into ``out``; returns the summary."""
    from ..experiments.vectors import run_vector
    from ..plots import plot_vector_effect

    bar.reset(total=1)
    res = run_vector(policy, cfg, progress=bar.set_description)
    bar.update(1)
    write_csv(out / "rows.csv", res["rows"])
    atomic_write_text(
        out / "decision_square.json", json.dumps(jsonable(res["decision_square"]), indent=1)
    )
    fig = plot_vector_effect(res["rows"], out / f"{args.kind}_vector.png")
    ds = {
        k: {
            v: res["decision_square"][k].get(v, {}).get("median")
            for v in ("original", "patched", "random_same_norm")
        }
        for k in res["decision_square"]
    }
    return {
        "command": "vector",
        "agent": args.agent,
        "kind": args.kind,
        "rows": res["rows"],
        "decision_square_median_p": ds,
        "figures": [str(fig)],
    }
