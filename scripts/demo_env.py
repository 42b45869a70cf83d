#!/usr/bin/env python
"""A tiny env demo: play a few procgen mazes with random actions and save a PNG grid.

For ``--n`` envs (level stream of ``--seed``), it writes into the run directory:

* ``mazes.png``: row 1 the first frame of each env, row 2 the frame after ``--steps`` random
  steps (64x64 rgb frames, ``--rgb-style`` mono or textured), titled with level seed and size;
* ``levels.csv``: env, level seed, maze size, mouse and cheese cells of each first level;
* ``summary.json``: the options, episodes finished and cheese found during the random steps.

Every file is written atomically. The run directory is printed at the end.

Example::

    python scripts/demo_env.py --n 6 --steps 40 --run-dir runs/demo_env
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import json
import sys
from pathlib import Path

import numpy as np

from steering.cli import int_at_least


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument(
        "--n",
        type=int_at_least(1, "--n"),
        default=6,
        help="number of mazes (envs) to show, 1..32 (default 6)",
    )
    p.add_argument(
        "--steps",
        type=int_at_least(0, "--steps"),
        default=30,
        help="random steps before the second row (default 30)",
    )
    p.add_argument(
        "--seed",
        type=int_at_least(0, "--seed"),
        default=0,
        help="procgen rand_seed and action seed (default 0)",
    )
    p.add_argument(
        "--distribution-mode",
        choices=("hard", "easy"),
        default="hard",
        help="world size 25 or 15 (default hard)",
    )
    p.add_argument(
        "--cheese",
        default="uniform",
        help="cheese placement spec, e.g. top-right:5 (default uniform)",
    )
    p.add_argument(
        "--rgb-style",
        choices=("mono", "textured"),
        default="textured",
        help="frame style: textured (procgen's own frame) or mono (default textured)",
    )
    p.add_argument(
        "--no-backgrounds",
        action="store_true",
        help="black corridors instead of procgen's background",
    )
    p.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="output directory (default runs/demo_env/<UTC timestamp>)",
    )
    args = p.parse_args(argv)
    if args.n > 32:
        p.error(f"--n must be in [1, 32], got {args.n}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from agents.checkpoint import atomic_write, atomic_write_text
    from mazegen.adapters.make import make_maze_env

    try:
        env = make_maze_env(
            args.n,
            obs="rgb",
            distribution_mode=args.distribution_mode,
            cheese=args.cheese,
            seed=args.seed,
            rgb_style=args.rgb_style,
            use_backgrounds=not args.no_backgrounds,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    run_dir = args.run_dir or Path("runs/demo_env") / _dt.datetime.now(_dt.UTC).strftime(
        "%Y%m%d-%H%M%S"
    )
    run_dir.mkdir(parents=True, exist_ok=True)

    first = env.reset()
    levels = env.levels
    rng = np.random.default_rng(args.seed)
    episodes = cheese = 0
    obs = first
    for _ in range(args.steps):
        obs, _, term, trunc, _ = env.step(rng.integers(0, 15, args.n))
        episodes += int((term | trunc).sum())
        cheese += int(term.sum())

    fig, axes = plt.subplots(2, args.n, figsize=(1.6 * args.n, 3.6), squeeze=False)
    for i in range(args.n):
        for row, frames, label in ((0, first, "start"), (1, obs, f"+{args.steps} steps")):
            ax = axes[row, i]
            ax.imshow(frames[i], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"seed {levels.seed[i]}\nsize {levels.maze_size[i]}", fontsize=7)
            if i == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.tight_layout()
    atomic_write(
        run_dir / "mazes.png", lambda f: fig.savefig(f, format="png", dpi=100), binary=True
    )
    plt.close(fig)

    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(
        ["env", "level_seed", "maze_size", "mouse_row", "mouse_col", "cheese_row", "cheese_col"]
    )
    for i in range(args.n):
        w.writerow(
            [
                i,
                int(levels.seed[i]),
                int(levels.maze_size[i]),
                *levels.mouse[i].tolist(),
                *levels.cheese[i].tolist(),
            ]
        )
    atomic_write_text(run_dir / "levels.csv", text.getvalue())

    summary = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    summary.update(episodes_finished=episodes, cheese_found=cheese)
    atomic_write_text(
        run_dir / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n"
    )
    print(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
