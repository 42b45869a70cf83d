"""``scripts/steer.py apply``: rerun a patch file (as the app exports it) on one maze.

The numbers are the app's (:class:`steering.app.Session` with and without the patches): arrival
rate with its Wilson CI, the greedy episode, the share of activations modified; ``rows.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agents.rundir import write_csv

from . import comma_ints, int_at_least
from .steer_options import add_common, check_size_and_seed


def add_parser(sub: Any) -> None:
    """Add the ``apply`` subcommand to ``sub`` (``ArgumentParser.add_subparsers()``)."""
    a = sub.add_parser("apply", help="rerun a patch file on one maze (the app's export)")
    add_common(a)
    a.add_argument("--patches", required=True, help="patch JSON file (steering.load_patches format)")
    a.add_argument("--level-seed", type=int_at_least(0, "--level-seed"), default=0, help="level seed (default 0)")
    a.add_argument("--size", type=int, default=None, help="maze size (default: procgen's size draw)")
    a.add_argument("--cheese", default="uniform", help="cheese placement spec (default uniform)")
    a.add_argument("--target", type=comma_ints, default=None, help="target cell R,C (default: none; rate = cheese)")


def config(args: argparse.Namespace) -> None:
    """No config: checks ``--size`` and ``--seed``."""
    check_size_and_seed(args)


def run(args: argparse.Namespace, cfg: None, policy: Any, out: Path, bar: Any) -> dict:
    """The app's numbers for one maze: ``steering.app.Session`` with and without the patches."""
    from ..app import AgentStore, Session
    from ..patches.io import load_patches

    patches = [p.to_json() for p in load_patches(args.patches)]
    if args.target is not None and len(args.target) != 2:
        raise ValueError(f"--target must be R,C, got {args.target}")
    store = AgentStore(zoo=False, policies={args.agent: policy})
    maze = {"seed": args.level_seed, "size": args.size, "cheese": args.cheese}
    target = None if args.target is None else tuple(args.target)
    bar.reset(total=2)
    rows = []
    for name, ps in (("unpatched", []), ("patched", patches)):
        s = Session(store, {"agent": args.agent, "maze": maze, "patches": ps, "target": target})
        r = s.rollouts({"n": args.mazes, "seed": args.seed, "max_steps": args.max_steps, "greedy": args.greedy})
        greedy = s.rollout({"max_steps": args.max_steps})
        m = s.modified()
        rows.append({
            "variant": name, "goal": r["goal"], "rate": r["rate"], "lo": r["lo"], "hi": r["hi"],
            "k": r["k"], "n": r["n"], "greedy_outcome": greedy["outcome"], "greedy_steps": greedy["steps"],
            "fraction_layer": 0.0 if m is None else m["total"]["fraction_layer"],
            "fraction_network": 0.0 if m is None else m["total"]["fraction_network"],
        })
        bar.update(1)
    write_csv(out / "rows.csv", rows)
    return {"command": "apply", "agent": args.agent, "patches": str(args.patches), "maze": maze,
            "target": target, "rows": rows}
