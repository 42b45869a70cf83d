#!/usr/bin/env python
"""Steer a maze agent: retargeting, steering vectors, cheese-channel discovery.

Subcommands (``python scripts/steer.py SUBCOMMAND --help`` for the options)::

    retarget  clamp cheese-tracking activations at a target cell; success vs magnitude,
              per method, with baseline and controls (random channels, wrong location,
              same-norm random vector), path probability and fraction of activations modified.
              Default protocol (Q2): 25x25, cheese left at its top-right:5 spawn, targets the
              top-left / bottom-right corners, 500 steps, 200 mazes; outcomes "reached target",
              "ate cheese first", "neither" (--cheese removed: the published protocol)
    frontier  Q2 frontier: every method (clamps, optimised per-maze / shared sparse edits,
              counterfactual activation patching, steering vectors) over its size knob;
              arrival (Wilson CI) vs % of network activations modified,
              with controls; frontier.csv/json/png and the best patch exported
    distance  arrival vs the target's BFS distance from the start -> top-right path (random
              targets, cheese at spawn), per size and method, against the unedited baseline
    vector    cheese / top-right steering vectors over coefficients (random-vector control)
    discover  rank a layer's channels by cheese tracking and validate them causally
    apply     rerun a patch file (as the app exports it) on one maze: arrival rate with and
              without the patches, share of activations modified

Examples::

    python scripts/steer.py retarget --agent grid-r5-s1 --json
    python scripts/steer.py retarget --agent grid-r5-s1 --cheese removed --max-steps 250 \\
        --methods single,discovered --magnitudes 1,3,10 --mazes 50 --out runs/steer
    python scripts/steer.py frontier --agent grid-r5-s1 --mazes 30 --train-mazes 30 \\
        --methods per-maze,shared --ks 16,64 --shared-ks 256
    python scripts/steer.py frontier --agent grid-r5-s1 --methods cf-target,cf-waypoint,vec-cheese \\
        --cf-channels 1,8,32 --coeffs=-1,-2
    python scripts/steer.py vector --agent grid-r5-s1 --kind cheese --coeffs=-0.5,-1,-2
    python scripts/steer.py discover --agent grid-r5-s1 --layer embedder.block2.res1.resadd_out
    python scripts/steer.py apply --agent grid-r5-s1 --patches patches.json --level-seed 5 \\
        --size 7 --cheese none --target 9,9 --mazes 50

Outputs in ``--out`` (default ``runs/steer-<subcommand>-<timestamp>``): ``rows.csv``,
``summary.json``, PNG figures; the directory is printed at the end (``--json``: then the
summary as one JSON object, the last line). ``retarget``, ``frontier`` and ``distance`` are
resumable: each unit ((size, target) / (method, knob)) is saved when done and skipped on a re-run
with the same arguments and the same agent weights (other arguments, or an agent retrained under
the same name: an error naming what differs). ``retarget --ray [ADDRESS]`` runs each unit as a
Ray task (same files; README "On a cluster").
"""

from __future__ import annotations

import argparse
import sys

from steering.cli import apply, discover, distance, finish_run, frontier, retarget, run_dir, vector
from steering.cli.steer_options import check_for_agent

#: The subcommands in ``--help`` order, each a module with ``add_parser``, ``config``, ``run``.
SUBCOMMANDS = {
    "retarget": retarget,
    "frontier": frontier,
    "distance": distance,
    "vector": vector,
    "discover": discover,
    "apply": apply,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="steer.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    for mod in SUBCOMMANDS.values():
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch
    from tqdm import tqdm

    import agents

    cmd = SUBCOMMANDS[args.cmd]
    torch.set_num_threads(args.torch_threads)
    out = run_dir(args.out, f"steer-{args.cmd}")
    try:
        cfg = cmd.config(args)  # bad flags are refused before any agent is loaded
        policy = agents.load(args.agent)
        getattr(cmd, "check_for_agent", check_for_agent)(args, cfg, policy)
        if hasattr(cfg, "check_policy"):
            cfg.check_policy(policy)  # layers and sizes, before any file is written
        out.mkdir(parents=True, exist_ok=True)
        with tqdm(total=1, disable=args.no_progress, file=sys.stderr) as bar:
            summary = cmd.run(args, cfg, policy, out, bar)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finish_run(out, summary, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
