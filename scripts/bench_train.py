#!/usr/bin/env python
"""Benchmark PPO training throughput (env-steps/s of the whole loop) on this machine.

Runs short trainings (no evaluation, no TensorBoard) for grid-obs scale-1 IMPALA and for
64x64 rgb scale-1 IMPALA, and reports the steady-state env-steps/s: the median over PPO
iterations after the first (the first iteration has no update yet). ``--config`` benchmarks a
training config file instead (e.g. a zoo agent's, to turn its steps-to-90% into minutes).
``--json`` prints one JSON object as the last line.

Example::

    python scripts/bench_train.py --json
    python scripts/bench_train.py --config agents/zoo/configs/grid-r5-s1.yaml --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

SETUPS = {
    # name: (obs, n_envs, n_steps, batch_size)
    "grid_scale1": ("grid", 128, 128, 2048),
    "rgb64_scale1": ("rgb", 32, 64, 512),
}


def _setup_config(name: str, n_envs: int | None, n_steps: int | None, fast: bool) -> dict:
    obs, n_envs0, n_steps0, batch = SETUPS[name]
    n_envs, n_steps = n_envs or n_envs0, n_steps or n_steps0
    batch = min(batch, n_envs * n_steps)
    while (n_envs * n_steps) % batch:
        batch //= 2
    return {"obs": obs, "n_envs": n_envs, "n_steps": n_steps, "batch_size": batch, "fast": fast}


def bench(
    name: str,
    *,
    iterations: int,
    fast: bool,
    threads: int,
    seed: int,
    n_envs: int | None = None,
    n_steps: int | None = None,
    config: dict | None = None,
) -> dict:
    """One setup's throughput; ``config`` (a training config's fields) replaces the setup
    ``name`` and ``fast`` (``n_envs`` and ``n_steps``, when given, still override it)."""
    import csv

    from agents.model import fast_precision
    from agents.train.loop import TrainConfig, train

    if config is None:
        fields = _setup_config(name, n_envs, n_steps, fast)
    else:
        fields = dict(config)
        fields.update({k: v for k, v in (("n_envs", n_envs), ("n_steps", n_steps)) if v is not None})
    with tempfile.TemporaryDirectory(prefix="bench_train_") as d:
        cfg = TrainConfig.from_dict(
            {
                **fields,
                "run_dir": str(Path(d) / "run"),
                "total_steps": fields["n_envs"] * fields["n_steps"] * iterations,
                "torch_threads": threads,
                "seed": seed,
                "eval_levels": 0,
                "tensorboard": False,
                "progress": False,
                "checkpoint_minutes": 0,
                "checkpoint_steps": 0,
            }
        )
        t0 = time.perf_counter()
        train(cfg)
        wall = time.perf_counter() - t0
        with open(Path(cfg.run_dir) / "train_log.csv", newline="") as f:
            sps = [float(r["steps_per_s"]) for r in csv.DictReader(f)]
    steady = sorted(sps[1:]) or sps
    return {
        "env_steps_per_s": steady[len(steady) // 2],
        "collect_only_steps_per_s": sps[0],
        "per_iteration_steps_per_s": sps,
        "obs": cfg.obs,
        "scale": cfg.scale,
        "n_envs": cfg.n_envs,
        "n_steps": cfg.n_steps,
        "batch_size": cfg.batch_size,
        "n_epochs": cfg.n_epochs,
        "fast_bf16_channels_last": cfg.fast,
        "fast_precision": fast_precision(cfg.resolved_device(), enabled=cfg.fast),
        "torch_threads": threads,
        "wall_s_including_setup": round(wall, 2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--setups",
        default=None,
        help=f"Comma-separated setups to run, from {list(SETUPS)} (default: all).",
    )
    p.add_argument("--iterations", type=int, default=3, help="PPO iterations per setup (>= 2).")
    p.add_argument(
        "--fast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="channels_last + bf16 autocast where the CPU does bf16 in hardware (default: on, "
        "or the --config's value).",
    )
    p.add_argument("--threads", type=int, default=2, help="torch threads.")
    p.add_argument("--seed", type=int, default=0, help="Training seed.")
    p.add_argument(
        "--n-envs", type=int, default=None, help="Override every setup's number of envs."
    )
    p.add_argument(
        "--n-steps", type=int, default=None, help="Override every setup's rollout length."
    )
    p.add_argument(
        "--config",
        default=None,
        help="Benchmark this training config file (YAML/JSON) instead of the setups.",
    )
    p.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")
    args = p.parse_args(argv)
    config = None
    if args.config is not None:
        from agents.train.cli import load_config_file

        try:
            config = load_config_file(args.config)
        except (OSError, ValueError) as err:
            p.error(f"--config {args.config!r}: {err}")
        if args.setups is not None:
            p.error("give either --config or --setups, not both")
        if args.fast is not None:
            config["fast"] = args.fast
        names = [f"config:{Path(args.config).stem}"]
    else:
        setups = ",".join(SETUPS) if args.setups is None else args.setups
        names = [s for s in setups.split(",") if s]
        bad = [s for s in names if s not in SETUPS]
        if bad or not names:
            p.error(f"unknown setups {bad}; choose from {list(SETUPS)}")
    if args.iterations < 2:
        p.error(f"--iterations must be >= 2, got {args.iterations}")
    if args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    for opt in ("n_envs", "n_steps"):
        if getattr(args, opt) is not None and getattr(args, opt) < 2:
            p.error(f"--{opt.replace('_', '-')} must be >= 2, got {getattr(args, opt)}")
    from agents.card import machine_info

    results = {}
    for name in names:
        results[name] = bench(
            name,
            iterations=args.iterations,
            fast=True if args.fast is None else args.fast,
            threads=args.threads,
            seed=args.seed,
            n_envs=args.n_envs,
            n_steps=args.n_steps,
            config=config,
        )
        if not args.json:
            print(f"{name}: {results[name]['env_steps_per_s']:.0f} env-steps/s")
    results["machine"] = machine_info("cpu")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
