#!/usr/bin/env python
"""Placement sweeps and behavioural statistics for a maze agent (thin CLI over agents.eval.sweep
and agents.eval.behaviour).

  python scripts/sweep.py --agent grid-r5-s1 --sizes 5,9,25 --placements top-left,top-right \\
      --mazes 100 --seed 0 --out runs/sweep1 [--greedy] [--json]
  python scripts/sweep.py --agents 'grid-r5-*' --sizes 25 --placements top-left --out runs/zoo1 [--ray [ADDRESS]]
  python scripts/sweep.py stats --agent grid-r5-s1 --mazes 1000 --out runs/stats1 [--json]

The sweep plays ``--mazes`` fresh mazes per (maze size, cheese placement) and writes outcome
rates with Wilson 95% CIs, per-episode CSVs, the phase-transition plot, every-cell heatmaps
and example trajectories into ``--out``. It is resumable: re-running with the same arguments
skips finished (size, placement) units; other arguments in an existing directory are an
error. Sweep mazes use level seeds 3e9 + seed*1e5 + i, disjoint from training seeds [0, 1e9).

``--agents A,B,C`` (zoo names, checkpoint paths or globs) runs the same sweep for every agent
into ``--out/agents/<name>/`` and writes one ``summary.csv`` (the agent as a column) and
``phase_transition_agents.png`` across them. ``--ray [ADDRESS]`` runs each (agent, size,
placement) unit as a Ray task (alone: $RAY_ADDRESS or a local Ray with this machine's cores);
the driver alone writes the run directory, and the files are byte-identical to a run without it.

``stats`` reproduces Mini et al.'s behavioural regression: L1 logistic regression of
got_cheese on maze geometry features, held-out accuracy vs base rate, coefficients with
bootstrap CIs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _sweep_parser() -> argparse.ArgumentParser:
    from agents.eval.sweep_axes import DEFAULT_PLACEMENTS

    p = argparse.ArgumentParser(prog="sweep.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    from agents.cluster import add_ray_option

    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--agent", help="checkpoint path or zoo agent name")
    who.add_argument("--agents", help="comma-separated zoo names, checkpoint paths or globs (one table across them)")
    p.add_argument("--sizes", default="all", help="comma-separated odd maze sizes in [3, 25], or 'all' (default)")
    p.add_argument("--placements", default=",".join(DEFAULT_PLACEMENTS),
                   help="comma-separated cheese placements: top-left, bottom-right, top-right, bottom-left, "
                        "region:N, uniform, cell:R,C, every-cell (default: %(default)s)")
    p.add_argument("--mazes", type=int, default=100, help="mazes per (size, placement) unit (default 100)")
    p.add_argument("--seed", type=int, default=0, help="selects level seeds and sampling streams (default 0)")
    p.add_argument("--out", required=True, help="run directory (created; re-use it to resume)")
    p.add_argument("--greedy", action="store_true", help="argmax actions instead of sampling")
    p.add_argument("--max-steps", type=int, default=500, help="episode cap (default 500, procgen's)")
    p.add_argument("--batch-size", type=int, default=256, help="rows per forward pass (default 256)")
    p.add_argument("--region", type=int, default=5, help="side of the top-right region counted as visited (default 5)")
    p.add_argument("--train-region", type=int, default=None,
                   help="the agent's training region for marking placements (default: from the agent, else 5)")
    p.add_argument("--fp32", action="store_false", dest="fast",
                   help="fp32 forward passes (default: channels_last + bf16 where the CPU has it)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: faster than 2 on a 2-core machine, much faster under load)")
    p.add_argument("--no-progress", action="store_false", dest="progress", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON summary object last")
    add_ray_option(p)
    return p


def _stats_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sweep.py stats", description="Behavioural statistics (Mini et al.): "
                                "which maze features predict that the agent gets the cheese.")
    p.add_argument("--agent", required=True, help="checkpoint path or zoo agent name")
    p.add_argument("--mazes", type=int, default=1000, help="random mazes (cheese uniform, with a decision square)")
    p.add_argument("--sizes", default="all", help="maze sizes to draw from, or 'all' = procgen's draw (default)")
    p.add_argument("--seed", type=int, default=0, help="level seeds, sampling, split and bootstrap seed")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--greedy", action="store_true", help="argmax actions instead of sampling")
    p.add_argument("--max-steps", type=int, default=500, help="episode cap (default 500)")
    p.add_argument("--n-boot", type=int, default=100, help="bootstrap refits for coefficient CIs (default 100)")
    p.add_argument("--fp32", action="store_false", dest="fast", help="fp32 forward passes (default: channels_last + bf16 where the CPU has it)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--no-progress", action="store_false", dest="progress", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON summary object last")
    return p


def _run_stats(argv: list[str]) -> int:
    args = _stats_parser().parse_args(argv)
    import torch

    import agents
    from agents.eval.behaviour import BehaviourConfig, behaviour_stats
    from steering.cli import config_from_flags

    if args.threads < 1:
        print(f"error: --threads must be >= 1, got {args.threads}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    try:
        cfg = config_from_flags(BehaviourConfig, args)
        policy = agents.load(args.agent, fast=args.fast)
        res = behaviour_stats(policy, cfg, out_dir=args.out)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"accuracy {res['accuracy']:.3f} vs base rate {res['base_rate']:.3f} on {res['n_test']} held-out mazes",
          file=sys.stderr if args.json else sys.stdout)
    print(f"results in {Path(args.out).resolve()}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps({k: v for k, v in res.items() if k != "rows"}))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "stats":
        return _run_stats(argv[1:])
    args = _sweep_parser().parse_args(argv)
    from agents.eval.report import unit_rate
    from agents.eval.stats import fmt_rate
    from agents.eval.sweep import SweepConfig, run_sweep
    from agents.eval.sweep_agents import resolve_agents, run_agent_sweeps
    from steering.cli import config_from_flags

    try:
        agent_list = resolve_agents(args.agents) if args.agents is not None else None
        cfg = config_from_flags(SweepConfig, args, agent=args.agent or agent_list[0][1])
        if agent_list is None:
            res = run_sweep(cfg, args.out, ray=args.ray)
        else:
            res = run_agent_sweeps(cfg, agent_list, args.out, ray=args.ray)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stream = sys.stderr if args.json else sys.stdout
    many = agent_list is not None
    width = max([len(u.get("agent", "")) for u in res["units"]] + [5])
    head = f"{'agent':<{width}}  " if many else ""
    print(f"{head}{'size':>4}  {'placement':<14} {'n':>6}  {'P(cheese) [95% CI] (k/n)':<30}  P(top-right) [95% CI] (k/n)",
          file=stream)
    for u in res["units"]:
        lead = f"{u['agent']:<{width}}  " if many else ""
        cheese, top_right = fmt_rate(unit_rate(u, "cheese")), fmt_rate(unit_rate(u, "top_right"))
        print(f"{lead}{u['size']:>4}  {u['placement']:<14} {u['n']:>6}  {cheese:<30}  {top_right}", file=stream)
    print(f"results in {Path(args.out).resolve()}", file=stream)
    if args.json:
        print(json.dumps({"out_dir": str(Path(args.out).resolve()), "units": res["units"], "files": res["files"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
