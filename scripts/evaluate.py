#!/usr/bin/env python
"""Held-out in-distribution cheese rate of an agent, by maze size, for several action modes.

  python scripts/evaluate.py --agent grid-r5-s1 --levels 600 \\
      --modes sampled,greedy,greedy-untried --out runs/eval1 [--json]

Plays the same ``--levels`` held-out levels (consecutive level seeds from ``--level-seed``,
default 10^9, the first seed after the zoo's training range; procgen's maze-size draw unless
``--sizes``; cheese per ``--cheese``, default the agent's training region) once per mode:

- ``sampled``: actions sampled from the policy (the agent as trained; the cards' number);
- ``greedy``: argmax actions;
- ``greedy-untried``: an **evaluation option**, not the agent: argmax, except that on a revisit
  of a cell it takes the most probable open move taken least often from that cell (staying and
  wall bumps skipped), which breaks greedy loops (see :mod:`agents.rollout`).

Writes ``evaluation.json`` (every mode's :func:`agents.eval.evaluate.evaluate` result, Wilson 95%
CIs) and ``by_size.csv`` (one row per maze size, the modes side by side) into the run
directory, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys

from steering.cli import comma_strs, finish_run, int_at_least, run_dir


def _parser() -> argparse.ArgumentParser:
    from agents.eval.evaluate import ACTION_MODES

    p = argparse.ArgumentParser(
        prog="evaluate.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--agent", required=True, help="checkpoint path or zoo agent name")
    p.add_argument("--levels", type=int_at_least(1, "--levels"), default=400,
                   help="held-out levels per mode (default %(default)s)")
    p.add_argument("--level-seed", type=int_at_least(0, "--level-seed"), default=10**9,
                   help="first level seed (default %(default)s, after the training range)")
    p.add_argument("--modes", type=comma_strs, default=["sampled", "greedy"],
                   help=f"comma-separated action modes from {list(ACTION_MODES)} (default sampled,greedy)")
    p.add_argument("--sizes", default=None,
                   help="comma-separated odd maze sizes in [3, 25], levels spread over them in turn "
                        "(default: procgen's draw)")
    p.add_argument("--cheese", default=None,
                   help="cheese placement (default: top-right:N, N the agent's training region, else 5)")
    p.add_argument("--max-steps", type=int_at_least(1, "--max-steps"), default=500,
                   help="step cap per episode (default %(default)s)")
    p.add_argument("--fp32", action="store_true", help="fp32 forward passes (default: channels_last + bf16 where the CPU has it)")
    p.add_argument("--torch-threads", type=int_at_least(1, "--torch-threads"), default=1,
                   help="torch CPU threads (default %(default)s)")
    p.add_argument("--out", default=None, help="run directory (default runs/evaluate-<timestamp>)")
    p.add_argument("--json", action="store_true", help="print one JSON summary object last")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    import agents
    from agents.eval.evaluate import evaluate_modes
    from agents.eval.sweep import agent_train_region
    from agents.eval.sweep_axes import parse_sizes
    from agents.rundir import write_csv

    try:
        sizes = parse_sizes(args.sizes) if args.sizes is not None else None
        policy = agents.load(args.agent, fast=not args.fp32)
        cheese = args.cheese or f"top-right:{agent_train_region(policy)}"
        torch.set_num_threads(args.torch_threads)
        results = evaluate_modes(
            policy, args.modes, n_levels=args.levels, seed=args.level_seed, cheese=cheese,
            sizes=None if not sizes else sizes[0] if len(sizes) == 1
            else [sizes[i % len(sizes)] for i in range(args.levels)],  # sizes in turn
            max_steps=args.max_steps,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = run_dir(args.out, "evaluate")
    out.mkdir(parents=True, exist_ok=True)
    modes = list(results)
    all_sizes = sorted({int(s) for r in results.values() for s in r["by_maze_size"]})
    rows = []
    for s in all_sizes:
        row = {"maze_size": s}
        for m in modes:
            b = results[m]["by_maze_size"][s]
            row.update({f"{m}_n": b["n"], f"{m}_rate": b["rate"], f"{m}_lo": b["ci95"][0],
                        f"{m}_hi": b["ci95"][1]})
        rows.append(row)
    write_csv(out / "by_size.csv", rows)
    from agents.checkpoint import atomic_write_text

    atomic_write_text(out / "evaluation.json", json.dumps(results, indent=1))
    stream = sys.stderr if args.json else sys.stdout
    print("size  " + "  ".join(f"{m + ' [95% CI]':<26}" for m in modes), file=stream)
    for row in rows + [None]:
        if row is None:
            cells = [(results[m]["cheese_rate"], *results[m]["ci95"]) for m in modes]
            label = "all "
        else:
            cells = [(row[f"{m}_rate"], row[f"{m}_lo"], row[f"{m}_hi"]) for m in modes]
            label = f"{row['maze_size']:>4}"
        print(label + "  " + "  ".join(f"{r:.3f} [{lo:.3f}, {hi:.3f}]      " for r, lo, hi in cells),
              file=stream)
    summary = {
        "agent": args.agent,
        "cheese": cheese,
        "levels": args.levels,
        "level_seeds": [args.level_seed, args.level_seed + args.levels - 1],
        "modes": {m: {k: results[m][k] for k in ("cheese_rate", "ci95", "hits", "mean_episode_length")}
                  for m in modes},
        "files": ["evaluation.json", "by_size.csv", "summary.json"],
    }
    finish_run(out, summary, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
