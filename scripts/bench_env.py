#!/usr/bin/env python
"""Benchmark the batched maze env against the real procgen engine.

Measures, each for about ``--seconds`` of wall time after a warm-up:

* ``grid_sps``: env steps/s of :class:`mazegen.env.MazeVecEnv`, ``--envs`` envs (1024), grid
  observations, random actions, procgen levels, auto-reset included;
* ``rgb_mono_sps``: the same with procgen's monochrome 64x64 frames (backgrounds on);
* ``rgb_sps``: textured frames with backgrounds (null with a note if
  ``mazegen.render.textured`` is missing);
* ``procgen_sps``: the real engine (``ProcgenGym3Env``, hard mode, ``--procgen-envs`` envs),
  best over a few ``num_threads``;
* ``gen_per_s``: procgen-faithful level generation (``mazegen.procgen.generate.bench_generation``).

It prints a table on stderr and, with ``--json``, one JSON object as the last line of stdout
(also written atomically to ``--out`` if given), including machine info and each target ratio:
grid >= 100x procgen, rgb_mono >= 3x procgen, rgb >= 3x procgen, generation >= 50,000/s.

Examples::

    python scripts/bench_env.py --json
    python scripts/bench_env.py --quick --json --out runs/bench_env.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from steering.cli import int_at_least, positive_float

TARGETS = {
    "grid_sps": ("procgen_sps", 100.0),
    "rgb_mono_sps": ("procgen_sps", 3.0),
    "rgb_sps": ("procgen_sps", 3.0),
}
GEN_TARGET = 50_000.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument(
        "--seconds",
        type=positive_float("--seconds"),
        default=1.0,
        help="wall seconds per measurement, after a warm-up (default 1.0)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a fast smoke run: 0.15 s per measurement, fewer procgen thread counts, "
        "20,000 generated levels (numbers are rough)",
    )
    p.add_argument(
        "--envs",
        type=int_at_least(1, "--envs"),
        default=1024,
        help="envs of the batched env (default 1024)",
    )
    p.add_argument(
        "--procgen-envs",
        type=int_at_least(1, "--procgen-envs"),
        default=64,
        help="envs of the real engine (default 64)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="procgen rand_seed and action RNG seed (default 0)"
    )
    p.add_argument(
        "--json", action="store_true", help="print the results as one JSON object on the last line"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the JSON object to this file (atomically)",
    )
    return p.parse_args(argv)


def _time_steps(step, n_envs: int, seconds: float, actions: np.ndarray) -> float:
    """Env steps per second of ``step(actions[k % len])`` over about ``seconds``."""
    for k in range(3):  # warm-up (numba compilation happens at construction/reset/first steps)
        step(actions[k % len(actions)])
    k = 0
    t0 = time.perf_counter()
    while True:
        step(actions[k % len(actions)])
        k += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return k * n_envs / dt


def bench_mazegen(obs: str, rgb_style: str, n_envs: int, seconds: float, seed: int) -> float:
    from mazegen.env import MazeVecEnv
    from mazegen.level_source import ProcgenLevelSource

    env = MazeVecEnv(
        ProcgenLevelSource(n_envs, rand_seed=seed),
        n_envs,
        obs=obs,
        rgb_style=rgb_style,
        use_backgrounds=True,
    )
    env.reset()
    actions = np.random.default_rng(seed).integers(0, 15, (64, n_envs))
    return _time_steps(env.step, n_envs, seconds, actions)


def bench_procgen(n_envs: int, seconds: float, seed: int, threads: list[int]) -> tuple[float, int]:
    from procgen import ProcgenGym3Env

    best, best_t = 0.0, threads[0]
    actions = np.random.default_rng(seed).integers(0, 15, (64, n_envs)).astype(np.int32)
    for t in threads:
        env = ProcgenGym3Env(
            num=n_envs, env_name="maze", distribution_mode="hard", num_threads=t, rand_seed=seed
        )

        def step(a, env=env):
            env.act(a)
            env.observe()

        sps = _time_steps(step, n_envs, seconds, actions)
        env.close()
        if sps > best:
            best, best_t = sps, t
    return best, best_t


def run(args: argparse.Namespace) -> dict:
    seconds = 0.15 if args.quick else args.seconds
    res: dict = {
        "n_envs": args.envs,
        "procgen_n_envs": args.procgen_envs,
        "seconds": seconds,
        "quick": args.quick,
    }
    notes: list[str] = []

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    res["grid_sps"] = bench_mazegen("grid", "mono", args.envs, seconds, args.seed)
    log(f"grid      {res['grid_sps']:>14,.0f} steps/s ({args.envs} envs)")
    res["rgb_mono_sps"] = bench_mazegen("rgb", "mono", args.envs, seconds, args.seed)
    log(f"rgb mono  {res['rgb_mono_sps']:>14,.0f} steps/s ({args.envs} envs)")
    try:
        import mazegen.render.textured  # noqa: F401
    except ImportError as e:
        res["rgb_sps"] = None
        notes.append(f"rgb_sps: mazegen.render.textured is not available ({e})")
    else:
        res["rgb_sps"] = bench_mazegen("rgb", "textured", args.envs, seconds, args.seed)
        log(f"rgb tex   {res['rgb_sps']:>14,.0f} steps/s ({args.envs} envs)")
    try:
        threads = [0, 2] if args.quick else [0, 1, 2, 4]
        res["procgen_sps"], res["procgen_num_threads"] = bench_procgen(
            args.procgen_envs, seconds, args.seed, threads
        )
        log(
            f"procgen   {res['procgen_sps']:>14,.0f} steps/s ({args.procgen_envs} envs, "
            f"num_threads={res['procgen_num_threads']})"
        )
    except ImportError as e:
        res["procgen_sps"] = res["procgen_num_threads"] = None
        notes.append(f"procgen_sps: the procgen package is not available ({e})")
    try:
        from mazegen.procgen.generate import bench_generation
    except ImportError as e:
        res["gen_per_s"] = None
        notes.append(f"gen_per_s: mazegen.procgen.generate.bench_generation is not available ({e})")
    else:
        res["gen_per_s"] = bench_generation(
            20_000 if args.quick else 200_000, "hard", repeats=1 if args.quick else 3
        )
        log(f"generate  {res['gen_per_s']:>14,.0f} levels/s")

    targets = {}
    for key, (base, factor) in TARGETS.items():
        v, b = res.get(key), res.get(base)
        ratio = None if v is None or not b else v / b
        targets[key] = {
            "ratio_vs_procgen": ratio,
            "target_ratio": factor,
            "met": None if ratio is None else bool(ratio >= factor),
        }
    g = res.get("gen_per_s")
    targets["gen_per_s"] = {
        "value": g,
        "target": GEN_TARGET,
        "met": None if g is None else bool(g >= GEN_TARGET),
    }
    res["targets"] = targets
    for key, t in targets.items():
        if "ratio_vs_procgen" in t and t["ratio_vs_procgen"] is not None:
            log(
                f"{key:<13} {t['ratio_vs_procgen']:8.1f}x procgen (target {t['target_ratio']:g}x): "
                f"{'met' if t['met'] else 'NOT met'}"
            )
    if g is not None:
        log(
            f"gen_per_s     {g:10,.0f} (target {GEN_TARGET:,.0f}): {'met' if targets['gen_per_s']['met'] else 'NOT met'}"
        )
    res["machine"] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    res["date"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    if notes:
        res["note"] = "; ".join(notes)
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    res = run(args)
    text = json.dumps(res, sort_keys=True)
    if args.out is not None:
        from agents.checkpoint import atomic_write_text

        atomic_write_text(args.out, text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
