#!/usr/bin/env python
"""The demo: does the shipped agent go for the cheese or for the top-right corner?

Runs, on the default zoo agent ``grid-r5-long-s1`` (or ``--agent``):

1. a sweep of the largest maze (25x25) with the cheese in the top-left, bottom-right and
   top-right corners and in the top-right 5x5 training region: how often does the agent get it
   (Wilson 95% CIs)?
2. the phase-transition sweep over every maze size (3..25);
3. a P(cheese)-by-cheese-cell heatmap for one maze size;
4. the behavioural regression of Mini et al. (which maze features predict got_cheese);
5. the steering section from ``steering.report.steering_section`` if that package provides it
   (skip with ``--no-steering``);

and writes ``report.md`` with the numbers, CIs and figures into the run directory (default
``runs/demo-<timestamp>``), printing its path at the end. Every sweep is resumable: re-running
with the same ``--out`` skips finished parts. The defaults are sized to finish within 10
minutes on 2 CPU cores for a grid agent; an rgb agent (64x64 frames, ~15x slower forward
passes) takes about half an hour at the same defaults. ``--quick`` is a smoke-test size.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", default=None, help="checkpoint path or zoo name (default: grid-r5-long-s1, agents.default_zoo_agent())")
    p.add_argument("--out", default=None, help="run directory (default runs/demo-<timestamp>)")
    p.add_argument("--seed", type=int, default=0, help="seed of every part (default 0)")
    p.add_argument("--corner-mazes", type=int, default=400, help="mazes per placement in the 25x25 sweep (default 400)")
    p.add_argument("--phase-mazes", type=int, default=60, help="mazes per (size, placement) of the phase sweep "
                   "(default 60)")
    p.add_argument("--heatmap-size", type=int, default=13, help="maze size of the every-cell heatmap (default 13; "
                   "0 skips it)")
    p.add_argument("--heatmap-mazes", type=int, default=3, help="mazes of the heatmap, each with the cheese on "
                   "every open cell (default 3)")
    p.add_argument("--behaviour-mazes", type=int, default=1000, help="mazes of the behavioural regression "
                   "(default 1000)")
    p.add_argument("--greedy", action="store_true", help="argmax actions instead of sampling")
    p.add_argument("--max-steps", type=int, default=500, help="episode cap (default 500)")
    p.add_argument("--no-steering", action="store_true", help="skip the steering section")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: on 2 cores faster than 2, "
                   "and far faster when the machine is busy)")
    p.add_argument("--quick", action="store_true", help="tiny sizes for a smoke test (overrides the maze counts)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print one JSON summary object last")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    t_start = time.perf_counter()
    import agents
    from agents.eval.behaviour import BehaviourConfig, behaviour_stats
    from agents.eval.report import write_report
    from agents.eval.sweep import SweepConfig, run_sweep

    log = sys.stderr if args.json else sys.stdout
    if args.threads < 1:
        print(f"error: --threads must be >= 1, got {args.threads}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    name = args.agent
    if name is None:
        name = agents.default_zoo_agent()
        if name is None:
            print("error: the zoo is empty (no agents/zoo/<name>/model.pt); train one with scripts/train.py or "
                  "pass --agent PATH", file=sys.stderr)
            return 2
    out = Path(args.out) if args.out else Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    if args.quick:
        corner_n, phase_n, phase_sizes, heat_n, beh_n, max_steps = 4, 3, "3,5,25", 1, 40, min(args.max_steps, 40)
    else:
        corner_n, phase_n, phase_sizes, heat_n = args.corner_mazes, args.phase_mazes, "all", args.heatmap_mazes
        beh_n, max_steps = args.behaviour_mazes, args.max_steps
    timings: dict[str, float] = {}
    try:
        policy = agents.load(name, fast=True)
        common = dict(agent=name, seed=args.seed, threads=args.threads, greedy=args.greedy, max_steps=max_steps,
                      progress=not args.no_progress)
        print(f"[demo] agent {name}; writing to {out}", file=log)

        t = time.perf_counter()
        corners = run_sweep(SweepConfig(sizes=(25,), placements=("top-left", "bottom-right", "top-right", "region:5"),
                                        mazes=corner_n, **common), out / "sweep_25x25", policy=policy)
        timings["25x25 corner sweep"] = time.perf_counter() - t

        t = time.perf_counter()
        phase = run_sweep(SweepConfig(sizes=phase_sizes, placements=("top-left", "bottom-right", "top-right", "uniform"),
                                      mazes=phase_n, **common), out / "sweep_phase", policy=policy)
        timings["phase-transition sweep"] = time.perf_counter() - t

        every = None
        if args.heatmap_size:
            t = time.perf_counter()
            every = run_sweep(SweepConfig(sizes=(5 if args.quick else args.heatmap_size,), placements=("every-cell",),
                                          mazes=heat_n, **common), out / "sweep_every_cell", policy=policy)
            timings["every-cell heatmap"] = time.perf_counter() - t

        t = time.perf_counter()
        beh_dir = out / "behaviour"
        try:
            behaviour = behaviour_stats(policy, BehaviourConfig(mazes=beh_n, seed=args.seed, greedy=args.greedy,
                                                                max_steps=max_steps, n_boot=20 if args.quick else 50,
                                                                progress=not args.no_progress), out_dir=beh_dir)
        except ValueError as e:  # e.g. the agent never (or always) gets the cheese
            print(f"[demo] behavioural regression skipped: {e}", file=log)
            behaviour = None
        timings["behavioural regression"] = time.perf_counter() - t

        steering_md, note = None, ""
        if args.no_steering:
            note = "skipped with --no-steering"
        else:
            try:
                from steering.report import steering_section
            except ImportError as e:
                note = f"steering.report.steering_section is not available ({e})"
            else:
                t = time.perf_counter()
                kw = dict(mazes=3, discover_mazes=8, max_steps=40, steps=5) if args.quick else {}
                steering_md = steering_section(policy, out, agent=str(name), seed=args.seed,
                                               progress=not args.no_progress, **kw)
                timings["steering section"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t_start
        meta = policy.metadata or {}
        card = meta.get("card") or {}
        info = {k: v for k, v in (("obs", policy.obs), ("training steps", card.get("steps", meta.get("steps"))),
                                  ("training region", corners["config"]["train_region_used"])) if v is not None}
        report = write_report(out, agent=name, agent_info=info, corners=corners, phase=phase, behaviour=behaviour,
                              every_cell=every, steering_md=steering_md, steering_note=note, timings=timings,
                              command="scripts/demo " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"[demo] report: {report.resolve()}", file=log)
    print(str(out.resolve()), file=log)
    if args.json:
        by = {u["placement"]: u for u in corners["units"]}
        print(json.dumps({
            "out_dir": str(out.resolve()), "report": str(report.resolve()), "agent": name,
            "corners_25": {p: {k: by[p][k] for k in ("n", "cheese_rate", "cheese_lo", "cheese_hi", "top_right_rate")}
                           for p in by},
            "behaviour": None if behaviour is None else {k: behaviour[k] for k in ("accuracy", "base_rate", "n",
                                                                                   "strongest")},
            "steering": steering_md is not None, "timings_s": timings,
        }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
