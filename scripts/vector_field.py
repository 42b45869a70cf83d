#!/usr/bin/env python
"""Draw a policy's vector field on one maze: with the mouse at every open cell, the arrow is
(p_right - p_left, p_up - p_down).

  python scripts/vector_field.py --agent grid-r5-s1 --level-seed 3000000000 --size 15 \\
      --cheese top-left --out runs/vf1 [--compare-no-cheese] [--json]

Writes ``vector_field.csv`` (per-cell move probabilities) and ``vector_field.png`` into
``--out``; with ``--compare-no-cheese`` also the field of the same maze without cheese and
the difference (``vector_field_compare.png``, ``vector_field_diff.csv``). Steering patches
are applied from Python: ``agents.eval.vector_field.vector_field(policy, level, patch=...)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", required=True, help="checkpoint path or zoo agent name")
    p.add_argument("--level-seed", type=int, default=3_000_000_000,
                   help="procgen level seed of the maze (default 3000000000, outside the training range)")
    p.add_argument("--size", type=int, default=None, help="force the maze size (odd, 3..25; default procgen's draw)")
    p.add_argument("--cheese", default="uniform",
                   help="cheese placement: uniform, top-left, bottom-right, top-right, region:N, cell:R,C, none")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--compare-no-cheese", action="store_true", help="also the field without cheese and the difference")
    p.add_argument("--json", action="store_true", help="print one JSON object last")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    import agents
    from agents.rundir import write_csv

    torch.set_num_threads(1)  # one batch of a few hundred cells: a second thread does not pay
    from agents.eval.vector_field import field_difference, plot_vector_field, vector_field
    from mazegen.procgen.generate import generate_level

    try:
        policy = agents.load(args.agent)
        level = generate_level(args.level_seed, maze_size=args.size, cheese=args.cheese)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        vf = vector_field(policy, level)
        write_csv(out / "vector_field.csv", vf.to_rows())
        plot_vector_field(vf, out / "vector_field.png",
                          title=f"level seed {args.level_seed}, {level.maze_size}x{level.maze_size}, cheese {args.cheese}")
        files = ["vector_field.csv", "vector_field.png"]
        if args.compare_no_cheese:
            if level.cheese is None:
                raise ValueError("--compare-no-cheese needs a level with cheese (not --cheese none)")
            bare = vector_field(policy, level.with_cheese(None))
            keep = ~((bare.cells[:, 0] == level.cheese[0]) & (bare.cells[:, 1] == level.cheese[1]))
            bare.cells, bare.probs, bare.vectors = bare.cells[keep], bare.probs[keep], bare.vectors[keep]
            diff = field_difference(vf, bare)
            write_csv(out / "vector_field_diff.csv", diff.to_rows())
            from agents.eval.plots import vector_field_compare

            vector_field_compare(level.walls, vf.cells, vf.vectors, bare.vectors, out / "vector_field_compare.png",
                                 cheese=level.cheese, maze_size=level.maze_size, labels=("with cheese", "no cheese"),
                                 title="effect of the cheese on the policy")
            files += ["vector_field_diff.csv", "vector_field_compare.png"]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stream = sys.stderr if args.json else sys.stdout
    print(f"results in {out.resolve()}", file=stream)
    if args.json:
        print(json.dumps({"out_dir": str(out.resolve()), "files": files, "cells": int(len(vf.cells)),
                          "maze_size": level.maze_size, "cheese": level.cheese}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
