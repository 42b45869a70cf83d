#!/usr/bin/env python
"""Check mazegen's textured renderer against the real procgen engine, frame for frame.

For every level seed ``start-seed .. start-seed + seeds - 1`` and every selected configuration
(distribution mode x backgrounds on/off), procgen's engine plays its own level in
``--envs-per-seed`` copies with random actions for ``--steps`` steps; each engine frame is
compared with :class:`mazegen.render.textured.TexturedRenderer`'s frame of the same level and
mouse (see :func:`mazegen.procgen.engine.pixel_check`). Prints one line per configuration, then,
last, one JSON object with the counts (frames compared / identical, pixels differing).

Exit status: 0 when every hard-mode frame is identical and no easy-mode frame differs in more
than ``--easy-max-pixels`` pixels; 1 otherwise; 2 for bad arguments.

With ``--out DIR`` the result is also written to ``DIR/pixel_check.json`` (atomically, after each
configuration); rerunning with the same ``--out`` and arguments skips finished configurations.

Example::

    python scripts/check_pixels.py --seeds 1000 --steps 100 --json --out runs/pixels
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from steering.cli import int_at_least


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Compare mazegen's textured frames with procgen's engine, pixel for pixel.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--seeds",
        type=int_at_least(1, "--seeds"),
        default=100,
        help="number of level seeds to check",
    )
    p.add_argument(
        "--start-seed", type=int_at_least(0, "--start-seed"), default=0, help="first level seed"
    )
    p.add_argument(
        "--steps",
        type=int_at_least(0, "--steps"),
        default=100,
        help="random actions per env and seed",
    )
    p.add_argument(
        "--envs-per-seed",
        type=int_at_least(1, "--envs-per-seed"),
        default=4,
        help="engine copies of each level, each with its own random actions",
    )
    p.add_argument(
        "--modes", default="hard,easy", help="comma-separated distribution modes (hard, easy)"
    )
    p.add_argument(
        "--backgrounds",
        choices=("both", "on", "off"),
        default="both",
        help="check with procgen's background images, without, or both",
    )
    p.add_argument(
        "--easy-max-pixels",
        type=int_at_least(0, "--easy-max-pixels"),
        default=2,
        help="largest number of differing pixels tolerated in one easy-mode frame",
    )
    p.add_argument(
        "--rng-seed",
        type=int_at_least(0, "--rng-seed"),
        default=0,
        help="seed of the random actions",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="run directory for pixel_check.json (resumable)"
    )
    p.add_argument(
        "--json", action="store_true", help="print only the final JSON object (no per-config lines)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in ("hard", "easy"):
            parser.error(f"--modes entries must be 'hard' or 'easy', got {m!r}")
    if not modes:
        parser.error("--modes must name at least one of hard, easy")
    bgs = {"both": [True, False], "on": [True], "off": [False]}[args.backgrounds]

    from agents.checkpoint import atomic_write_text
    from mazegen.procgen.engine import pixel_check

    settings = {
        "seeds": args.seeds,
        "start_seed": args.start_seed,
        "steps": args.steps,
        "envs_per_seed": args.envs_per_seed,
        "rng_seed": args.rng_seed,
    }
    out_file = args.out / "pixel_check.json" if args.out is not None else None
    done: dict[str, dict] = {}
    if out_file is not None and out_file.exists():
        prev = json.loads(out_file.read_text())
        if prev.get("settings") == settings:
            done = prev.get("configs", {})
    t0 = time.time()
    seeds = range(args.start_seed, args.start_seed + args.seeds)
    for mode in modes:
        for bg in bgs:
            key = f"{mode}/{'bg' if bg else 'nobg'}"
            if key not in done:
                done[key] = pixel_check(
                    seeds,
                    steps=args.steps,
                    envs_per_seed=args.envs_per_seed,
                    distribution_mode=mode,
                    use_backgrounds=bg,
                    rng_seed=args.rng_seed,
                    progress=not args.no_progress,
                )
                if out_file is not None:
                    atomic_write_text(
                        out_file, json.dumps({"settings": settings, "configs": done}, indent=1)
                    )
            s = done[key]
            if not args.json:
                print(
                    f"{key}: {s['frames_identical']}/{s['frames_compared']} frames identical, "
                    f"{s['pixels_differing']} pixels differ (max {s['max_pixels_differing_in_a_frame']} in a frame)",
                    flush=True,
                )
    configs = {k: done[k] for k in done if k.split("/")[0] in modes}
    ok = True
    for key, s in configs.items():
        if key.startswith("hard") and s["frames_identical"] != s["frames_compared"]:
            ok = False
        if key.startswith("easy") and s["max_pixels_differing_in_a_frame"] > args.easy_max_pixels:
            ok = False
        if s["dynamics_mismatches"]:
            ok = False
    summary = {
        "ok": ok,
        "settings": settings,
        "frames_compared": sum(s["frames_compared"] for s in configs.values()),
        "frames_identical": sum(s["frames_identical"] for s in configs.values()),
        "pixels_differing": sum(s["pixels_differing"] for s in configs.values()),
        "wall_time_s": round(time.time() - t0, 2),
        "configs": {
            k: {
                f: s[f]
                for f in (
                    "frames_compared",
                    "frames_identical",
                    "pixels_differing",
                    "max_pixels_differing_in_a_frame",
                    "episodes_ended",
                    "dynamics_mismatches",
                    "seeds_with_differences",
                )
            }
            for k, s in configs.items()
        },
    }
    if args.out is not None and not args.json:
        print(f"run directory: {args.out}")
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
