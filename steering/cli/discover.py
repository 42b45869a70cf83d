"""``scripts/steer.py discover``: rank a layer's channels by cheese tracking, validate them causally.

The ranking is :func:`steering.methods.retarget.discover_cheese_channels`; here are its flags,
``ranking.json``, ``rows.csv`` and ``channel_scores.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agents.checkpoint import atomic_write_text
from agents.rundir import write_csv

from . import int_at_least
from .steer_options import add_common, check_size_and_seed, finite_float
from .steer_options import check_for_agent as check_layer


def add_parser(sub: Any) -> None:
    """Add the ``discover`` subcommand to ``sub`` (``ArgumentParser.add_subparsers()``)."""
    d = sub.add_parser("discover", help="rank channels by cheese tracking and validate causally")
    add_common(d)
    d.add_argument(
        "--size", type=int, default=None, help="maze size (default: procgen's size draw)"
    )
    d.add_argument(
        "--validate-top",
        type=int_at_least(1, "--validate-top"),
        default=6,
        help="channels validated by retargeting (default 6)",
    )
    d.add_argument(
        "--validate-mazes",
        type=int_at_least(1, "--validate-mazes"),
        default=12,
        help="mazes per validated channel (default 12)",
    )
    d.add_argument(
        "--magnitude",
        type=finite_float,
        default=None,
        help="clamp value for validation (default 5.5)",
    )


def config(args: argparse.Namespace) -> None:
    """No config: checks ``--size`` and ``--seed``."""
    check_size_and_seed(args)


def check_for_agent(args: argparse.Namespace, cfg: None, policy: Any) -> None:
    """``--layer`` is a (C, H, W) hook point of the policy with at least ``--validate-top`` channels."""
    shape = check_layer(args, cfg, policy)
    if len(shape) != 3:
        raise ValueError(
            f"--layer {args.layer!r} has shape {tuple(shape)}; discover needs a (C, H, W) conv layer"
        )
    if args.validate_top > shape[0]:
        raise ValueError(
            f"--validate-top must be in [1, {shape[0]}] (channels of {args.layer}), got {args.validate_top}"
        )


def run(args: argparse.Namespace, cfg: None, policy: Any, out: Path, bar: Any) -> dict:
    """Rank and validate the channels into ``out``; returns the summary."""
    from ..methods.retarget import discover_cheese_channels
    from ..plots import plot_channel_scores

    bar.reset(total=1)
    bar.set_description("discovering cheese channels")
    ranking = discover_cheese_channels(
        policy,
        args.layer,
        n_mazes=args.mazes,
        seed=args.seed,
        maze_size=args.size,
        validate_top=args.validate_top,
        validate_mazes=args.validate_mazes,
        magnitude=args.magnitude,
        max_steps=args.max_steps,
    )
    bar.update(1)
    rj = ranking.to_json()
    atomic_write_text(out / "ranking.json", json.dumps(rj, indent=1))
    write_csv(
        out / "rows.csv",
        [
            {
                "rank": i,
                "channel": c,
                "score": s,
                "hit_rate": h,
                "causal_success": (rj["causal"].get(str(c)) or {}).get("rate"),
            }
            for i, (c, s, h) in enumerate(zip(rj["channels"], rj["scores"], rj["hit_rate"]))
        ],
    )
    fig = plot_channel_scores(rj, out / "channel_scores.png")
    return {
        "command": "discover",
        "agent": args.agent,
        "layer": args.layer,
        "top": rj["channels"][:10],
        "selected": rj["selected"],
        "baseline": rj["baseline"],
        "figures": [str(fig)],
    }
