#!/usr/bin/env python
"""Benchmark: a placement sweep without Ray, on a local Ray, and on 1 and 2 single-CPU Ray
workers; projects the full every-cell sweep over the zoo onto a 64-core cluster.

Runs the same sweep (``--agents`` x ``--sizes`` x ``--placements``, ``--mazes`` each) into fresh
directories: once without Ray, then on a local Ray started with ``num_cpus = 1`` and ``2``
(one single-threaded worker per CPU). Ray's start-up is timed separately from the sweep. For
each run: wall time, units/s and episodes/s; Ray's per-unit overhead is
``(wall(1 worker) - wall(no Ray)) / units``; scaling is ``wall(1) / wall(2)``. It also checks
that every run's CSV/JSON files are byte-identical to the run without Ray.

The projection of the full sweep (``--project-agents`` agents, every maze size 3..25,
``every-cell`` placement, ``--project-mazes`` mazes per size) counts its episodes (every open
cell of a perfect s x s maze but the mouse's: ``2 k^2 - 2`` with ``k = (s + 1) / 2``) and
divides by the measured single-worker episodes/s times 64 workers (perfect scaling beyond the
measured 1 -> 2, units far more numerous than cores). ``--json`` prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.suffix in (".csv", ".json")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", default="grid-r5-s1,grid-r5-s2", help="agents (default %(default)s)")
    p.add_argument("--sizes", default="13,25", help="maze sizes (default %(default)s)")
    p.add_argument("--placements", default="top-left,top-right,bottom-right",
                   help="placements (default %(default)s)")
    p.add_argument("--mazes", type=int, default=32, help="mazes per unit (default %(default)s)")
    p.add_argument("--project-agents", type=int, default=15, help="agents in the projected sweep (default 15)")
    p.add_argument("--project-mazes", type=int, default=1000, help="mazes per size in the projection (default 1000)")
    p.add_argument("--project-cores", type=int, default=64, help="cores in the projection (default 64)")
    p.add_argument("--workers", default="1,2", help="Ray CPU counts to run (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object last")
    args = p.parse_args(argv)
    args.workers = [int(x) for x in args.workers.split(",")]
    if not {1, 2} <= set(args.workers) or min(args.workers) < 1:
        p.error(f"--workers must include 1 and 2 (positive CPU counts), got {args.workers}")

    import ray
    import torch

    from agents.card import machine_info
    from agents.eval.sweep import SweepConfig, prepare_sweep, run_units
    from agents.eval.sweep_agents import resolve_agents, run_agent_sweeps
    from agents.eval.sweep_axes import SIZES_ALL
    from agents.model import ImpalaModel
    from agents.policy import Policy

    agents = resolve_agents(args.agents)
    cfg = SweepConfig(agent=agents[0][1], sizes=args.sizes, placements=args.placements, mazes=args.mazes,
                      threads=1)
    units = len(agents) * len(cfg.sizes) * len(cfg.placements)
    episodes = units * args.mazes
    tmp = Path(tempfile.mkdtemp(prefix="bench_cluster_"))
    runs: dict[str, dict] = {}
    out = tmp / "run"  # every run in the same directory (summary.json names it), one after another
    # Ray's own cost per task: a sweep of near-empty units (1 maze, 1 step, a tiny network)
    torch.manual_seed(0)
    tiny = {"tiny": Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25), obs="grid")}
    tiny_cfg = SweepConfig(agent="tiny", sizes="all", placements="top-left,top-right", mazes=1, max_steps=1,
                           examples=0, threads=1)
    tiny_units = len(tiny_cfg.sizes) * len(tiny_cfg.placements)

    def tiny_sweep(ray_arg) -> float:
        shutil.rmtree(tmp / "tiny", ignore_errors=True)
        t0 = time.perf_counter()
        run_units([prepare_sweep(tiny_cfg, tmp / "tiny", policy=tiny["tiny"])], ray=ray_arg)
        return time.perf_counter() - t0

    tiny_sweep(None)  # warm up (numba and torch first calls), as the Ray workers are below
    dispatch = {"units": tiny_units, "no_ray_s_per_unit": tiny_sweep(None) / tiny_units}
    try:
        t0 = time.perf_counter()
        run_agent_sweeps(cfg, agents, out)
        runs["no_ray"] = {"wall_s": time.perf_counter() - t0}
        reference = _files(out)
        for workers in args.workers:
            shutil.rmtree(out)
            t0 = time.perf_counter()
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            start = time.perf_counter() - t0
            try:
                tiny_sweep("local")  # warm the workers up
                dispatch[f"ray_{workers}_workers_s_per_unit"] = tiny_sweep("local") / tiny_units
                t0 = time.perf_counter()
                run_agent_sweeps(cfg, agents, out, ray="local")
                wall = time.perf_counter() - t0
            finally:
                ray.shutdown()
            runs[f"ray_{workers}_workers"] = {"wall_s": wall, "ray_start_s": start,
                                              "identical_files": _files(out) == reference}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in runs.values():
        r["units_per_s"] = units / r["wall_s"]
        r["episodes_per_s"] = episodes / r["wall_s"]
        r["wall_s"] = round(r["wall_s"], 2)
    base, one, two = runs["no_ray"], runs["ray_1_workers"], runs["ray_2_workers"]  # needs 1 and 2
    k = [(s + 1) // 2 for s in SIZES_ALL]
    proj_episodes = args.project_agents * args.project_mazes * sum(2 * x * x - 2 for x in k)
    proj_s = proj_episodes / (one["episodes_per_s"] * args.project_cores)
    result = {
        "agents": [a for a, _ in agents],
        "sizes": list(cfg.sizes),
        "placements": list(cfg.placements),
        "mazes_per_unit": args.mazes,
        "units": units,
        "episodes": episodes,
        "runs": runs,
        "ray_1_worker_vs_no_ray": one["wall_s"] / base["wall_s"],
        "ray_per_unit_overhead_s": (one["wall_s"] - base["wall_s"]) / units,
        "near_empty_units": dispatch,
        "ray_dispatch_overhead_s_per_unit": dispatch["ray_1_workers_s_per_unit"] - dispatch["no_ray_s_per_unit"],
        "scaling_2_vs_1_workers": one["wall_s"] / two["wall_s"],
        "projection": {
            "agents": args.project_agents,
            "sizes": list(SIZES_ALL),
            "mazes_per_size": args.project_mazes,
            "placement": "every-cell",
            "episodes": proj_episodes,
            "cores": args.project_cores,
            "hours": proj_s / 3600,
            "assumes": "the measured 1-worker episodes/s of these placements per core, perfect scaling",
        },
        "machine": machine_info(),
        "load_average_1min_at_end": os.getloadavg()[0],
    }
    stream = sys.stderr if args.json else sys.stdout
    for name, r in runs.items():
        extra = f", Ray start {r['ray_start_s']:.1f} s, identical files {r['identical_files']}" if "ray_start_s" in r else ""
        print(f"{name:<14} {r['wall_s']:7.2f} s  {r['units_per_s']:.3f} units/s  {r['episodes_per_s']:.1f} ep/s{extra}",
              file=stream)
    print(f"Ray (1 worker) / no Ray: {result['ray_1_worker_vs_no_ray']:.3f}; per-unit overhead "
          f"{result['ray_per_unit_overhead_s']:.3f} s (near-empty units: "
          f"{result['ray_dispatch_overhead_s_per_unit']:.3f} s); 2 vs 1 workers: {result['scaling_2_vs_1_workers']:.2f}x; "
          f"projected full sweep: {result['projection']['hours']:.1f} h on {args.project_cores} cores", file=stream)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
