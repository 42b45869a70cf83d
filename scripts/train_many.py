#!/usr/bin/env python
"""Train several configs at once, each resumable as ``train.py --resume`` and ending with its card.

  python scripts/train_many.py --configs agents/zoo/configs/grid-r{1,15}-1ep-s1.yaml \\
      --runs-root runs [--ray [ADDRESS]] [--json]

Each config trains into its ``run_dir`` (else ``--runs-root/<config file stem>``); a directory
that holds checkpoints is resumed, up to the config's ``total_steps``. With ``--ray`` each run
is one Ray task on one worker that reserves the config's ``torch_threads`` CPUs (alone:
$RAY_ADDRESS or a local Ray with this machine's cores); without it the runs go one after the
other in this process. Re-running the same command after a kill resumes every run.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    from agents.cluster import add_ray_option
    from agents.train.many import plan_runs, train_many

    p = argparse.ArgumentParser(prog="train_many.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", required=True, help="YAML/JSON config files (TrainConfig fields)")
    p.add_argument("--runs-root", default="runs",
                   help="parent of the run directories of configs without run_dir (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON summary object last")
    add_ray_option(p)
    args = p.parse_args(argv)
    try:
        jobs = plan_runs(args.configs, runs_root=args.runs_root)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stream = sys.stderr if args.json else sys.stdout
    for j in jobs:
        print(f"{'resume' if j.resume else 'start '} {j.config_file} -> {j.config.run_dir} "
              f"({j.config.total_steps} steps, {j.config.torch_threads} torch threads)", file=stream)

    def report(i: int, r: dict) -> None:
        cr = "-" if r["cheese_rate"] is None else f"{r['cheese_rate']:.3f}"
        print(f"done   {jobs[i].config_file}: {r['steps']} steps, cheese rate {cr}, card {r['card']}",
              file=stream, flush=True)

    try:
        results = train_many(jobs, ray=args.ray, on_result=report)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for r in results:
        print(f"run directory: {r['run_dir']}", file=stream)
    if args.json:
        print(json.dumps({"runs": [{"config": j.config_file, **r} for j, r in zip(jobs, results)]}))
    return 0 if not any(r["stopped"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
