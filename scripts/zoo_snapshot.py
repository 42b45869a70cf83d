#!/usr/bin/env python
"""Publish the newest checkpoint of a training run as a zoo agent.

Writes ``agents/zoo/ZOO_NAME/{model.pt, card.json, train_log.csv, learning_curve.png}``; the
card holds a fresh evaluation on held-out levels (Wilson 95% CI, by maze size), the learning
curve with the steps at which training first reached 50/80/90% cheese, and ``--notes``. Safe to run while the training
run is still going. Afterwards ``agents.load("ZOO_NAME")`` works.

Example::

    python scripts/zoo_snapshot.py runs/grid-r5-s1 grid-r5-s1
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from agents.train.state import WEIGHTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="Training run directory (holds checkpoints/ckpt_*.pt).")
    parser.add_argument(
        "zoo_name", help="Name of the zoo agent to write (a directory under the zoo)."
    )
    parser.add_argument(
        "--eval-levels",
        type=int,
        default=None,
        help="Held-out evaluation levels (default: the run's eval_levels; 0 = skip).",
    )
    parser.add_argument(
        "--largest-levels",
        type=int,
        default=None,
        help="Further held-out levels at the largest maze size (25 in hard mode), for the card's "
        "'largest_maze' rate (default: 400 when the card has an evaluation; 0 = skip).",
    )
    parser.add_argument(
        "--weights",
        choices=WEIGHTS,
        default="live",
        help="Publish the run's own weights (live, default) or their moving average (ema; runs "
        "trained with --ema-decay > 0). The card's 'weights' entry records which.",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        help="Publish this training checkpoint of the run (e.g. one restored from git) instead "
        "of the newest in RUN_DIR/checkpoints; the log is still RUN_DIR's, cut at its step.",
    )
    parser.add_argument("--zoo-dir", default=None, help="Zoo root directory (default: agents/zoo).")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the evaluation.")
    parser.add_argument(
        "--notes",
        default=None,
        help="Free text for the card's 'notes' (how it was trained, what limited it).",
    )
    args = parser.parse_args(argv)
    from agents.card import snapshot_to_zoo

    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if args.largest_levels is not None and args.largest_levels < 0:
        parser.error(f"--largest-levels must be >= 0, got {args.largest_levels}")
    torch.set_num_threads(args.threads)
    try:
        dest = snapshot_to_zoo(
            args.run_dir,
            args.zoo_name,
            eval_levels=args.eval_levels,
            zoo_root=args.zoo_dir,
            notes=args.notes,
            largest_levels=args.largest_levels,
            weights=args.weights,
            checkpoint=args.checkpoint,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    card = json.loads((dest / "card.json").read_text())
    ev = card.get("evaluation") or {}
    print(
        json.dumps(
            {
                "zoo_dir": str(dest),
                "steps": card["steps"],
                "weights": card["weights"]["kind"],
                "cheese_rate": ev.get("cheese_rate"),
                "ci95": ev.get("ci95"),
                "greedy_cheese_rate": (ev.get("greedy") or {}).get("cheese_rate"),
                "largest_maze": {k: v for k, v in (ev.get("largest_maze") or {}).items() if k != "greedy"}
                or None,
                # a distillation run's training rollouts are partly teacher-acted: quote its
                # held-out monitor's milestones when it has one
                "milestones": (card.get("monitor") or {}).get("milestones")
                or card["learning_curve"].get("milestones"),
            }
        )
    )
    print(f"run directory: {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
