#!/usr/bin/env python
"""Steer a maze agent: retargeting, steering vectors, cheese-channel discovery.

Subcommands (``python scripts/steer.py SUBCOMMAND --help`` for the options)::

    retarget  clamp cheese-tracking activations at a target cell; success vs magnitude,
              per method, with baseline and controls (random channels, wrong location,
              same-norm random vector), path probability and fraction of activations modified
    vector    cheese / top-right steering vectors over coefficients (random-vector control)
    discover  rank a layer's channels by cheese tracking and validate them causally

Examples::

    python scripts/steer.py retarget --agent grid-r5-s1 --targets top-left,bottom-right \\
        --sizes 25 --methods single,discovered --magnitudes 1,3,10 --mazes 50 --out runs/steer
    python scripts/steer.py vector --agent grid-r5-s1 --kind cheese --coeffs 0.5,1,2
    python scripts/steer.py discover --agent grid-r5-s1 --layer embedder.block2.res1.resadd_out

Outputs in ``--out`` (default ``runs/steer-<subcommand>-<timestamp>``): ``rows.csv``,
``summary.json``, PNG figures; the directory is printed at the end (``--json``: then the
summary as one JSON object, the last line). ``retarget`` is resumable: each (size, target) unit is saved
when done and skipped on a re-run with the same arguments (other arguments: an error);
``retarget --ray [ADDRESS]`` runs each unit as a Ray task (same files; README "On a cluster").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agents.checkpoint import atomic_write_text
from agents.sweep import write_csv
from steering.cli import (
    add_run_options,
    comma_floats,
    comma_ints,
    comma_strs,
    finish_run,
    jsonable,
    run_dir,
)


def _sizes(s: str) -> list[int]:
    if s == "all":
        return list(range(3, 26, 2))
    return comma_ints(s)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="steer.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        add_run_options(
            sp,
            "steer-<cmd>",
            mazes=50,
            max_steps=250,
            torch_threads=2,
            mazes_help="mazes per (size, target) cell",
        )
        sp.add_argument("--greedy", action="store_true", help="argmax actions instead of sampling")

    r = sub.add_parser(
        "retarget", help="retargeting success vs magnitude, per method, with controls"
    )
    common(r)
    from agents.cluster import add_ray_option

    add_ray_option(r)  # each (size, target) unit a Ray task; same files as without
    r.add_argument(
        "--targets",
        type=comma_strs,
        default=["top-left", "bottom-right"],
        help="comma list of top-left,top-right,bottom-left,bottom-right or grid:K (KxK node cells)",
    )
    r.add_argument(
        "--sizes",
        type=_sizes,
        default=[25],
        help="comma list of odd maze sizes, or 'all' (default 25)",
    )
    r.add_argument(
        "--methods",
        type=comma_strs,
        default=["single", "channels", "discovered"],
        help="comma list of single (one activation), channels (a channel set), discovered",
    )
    r.add_argument(
        "--magnitudes",
        type=comma_floats,
        default=None,
        help="comma list of clamp values (default: single 5.5, channel sets 2.3)",
    )
    r.add_argument(
        "--channels",
        type=comma_ints,
        default=None,
        help="channel(s) for single/channels (default: from discovery)",
    )
    r.add_argument(
        "--n-channels",
        type=int,
        default=4,
        help="channel-set size taken from discovery (default 4)",
    )
    r.add_argument(
        "--discover-mazes", type=int, default=200, help="mazes for channel discovery (default 200)"
    )
    r.add_argument("--no-controls", action="store_true", help="skip the control rows")
    r.add_argument("--no-cheese-variant", action="store_true", help="skip the with-cheese success")

    v = sub.add_parser("vector", help="cheese / top-right steering vectors")
    common(v)
    v.add_argument(
        "--kind",
        choices=["cheese", "top-right"],
        default="cheese",
        help="which vector (default cheese)",
    )
    v.add_argument(
        "--coeffs", type=comma_floats, default=[1.0], help="comma list of coefficients (default 1)"
    )
    v.add_argument(
        "--sizes", type=_sizes, default=[15], help="comma list of odd maze sizes (default 15)"
    )
    v.add_argument(
        "--source",
        choices=["own", "transfer"],
        default="own",
        help="own: each maze's own vector; transfer: maze 0's vector on the others",
    )

    d = sub.add_parser("discover", help="rank channels by cheese tracking and validate causally")
    common(d)
    d.add_argument(
        "--size", type=int, default=None, help="maze size (default: procgen's size draw)"
    )
    d.add_argument(
        "--validate-top", type=int, default=6, help="channels validated by retargeting (default 6)"
    )
    d.add_argument(
        "--validate-mazes", type=int, default=12, help="mazes per validated channel (default 12)"
    )
    d.add_argument(
        "--magnitude", type=float, default=None, help="clamp value for validation (default 5.5)"
    )
    return p


def _config(args):
    """The validated experiment config of a subcommand (before any agent is loaded)."""
    from steering.experiments import RetargetConfig
    from steering.vector_experiments import VectorConfig

    if args.cmd == "retarget":
        return RetargetConfig(
            layer=args.layer,
            targets=args.targets,
            sizes=args.sizes,
            methods=args.methods,
            magnitudes=args.magnitudes,
            mazes=args.mazes,
            seed=args.seed,
            max_steps=args.max_steps,
            channels=args.channels,
            n_channels=args.n_channels,
            discover_mazes=args.discover_mazes,
            controls=not args.no_controls,
            with_cheese=not args.no_cheese_variant,
            deterministic=args.greedy,
        ).validate()
    if args.cmd == "vector":
        return VectorConfig(
            kind=args.kind,
            coeffs=args.coeffs,
            layer=args.layer,
            sizes=args.sizes,
            mazes=args.mazes,
            seed=args.seed,
            max_steps=args.max_steps,
            source=args.source,
            deterministic=args.greedy,
        ).validate()
    if args.size is not None and (args.size % 2 == 0 or not 3 <= args.size <= 25):
        raise ValueError(f"--size must be odd in [3, 25], got {args.size}")
    return None


def _retarget(args, cfg, policy, out: Path, bar) -> dict:
    from agents.cluster import map_units
    from steering.experiments import parse_targets, retarget_ranking
    from steering.plots import plot_success_vs_magnitude, plot_target_heatmap
    from steering.retarget import ChannelRanking
    from steering.retarget_units import retarget_unit

    cfg_path = out / "config.json"
    meta = {"agent": args.agent, "config": cfg.to_dict()}
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text())
        if old != json.loads(json.dumps(meta)):
            raise ValueError(
                f"{out} holds a run with other arguments ({cfg_path}); use another --out"
            )
    else:
        atomic_write_text(cfg_path, json.dumps(meta, indent=1))
    rank_path = out / "ranking.json"
    if rank_path.exists():
        ranking = ChannelRanking.from_json(json.loads(rank_path.read_text()))
    else:
        ranking = retarget_ranking(policy, cfg, progress=bar.set_description)
        if ranking is not None:
            atomic_write_text(rank_path, json.dumps(ranking.to_json(), indent=1))
    units = [(s, t) for s in cfg.sizes for t in parse_targets(cfg.targets)]
    bar.reset(total=len(units))
    (out / "units").mkdir(exist_ok=True)

    def upath(s: int, t: str) -> Path:
        return out / "units" / f"{s}_{t.replace(':', '-').replace(',', '-')}.json"

    todo = [u for u in units if not upath(*u).exists()]
    bar.update(len(units) - len(todo))

    def write(i: int, unit_rows: list) -> None:  # the driver alone writes the run directory
        atomic_write_text(upath(*todo[i]), json.dumps(unit_rows))
        bar.update(1)

    map_units(retarget_unit, [(policy, cfg, s, t, ranking, args.torch_threads) for s, t in todo],
              ray=args.ray, on_result=write)
    rows: list[dict] = []
    for s, t in units:
        rows += json.loads(upath(s, t).read_text())
    write_csv(out / "rows.csv", rows)
    figs = []
    figs.append(str(plot_success_vs_magnitude(rows, out / "success_vs_magnitude.png")))
    for m in cfg.methods:
        figs.append(str(plot_target_heatmap(rows, out / f"target_heatmap_{m}.png", method=m)))
    main = [r for r in rows if r["control"] == ""]
    best = max(main, key=lambda r: r["success"]) if main else None
    return {
        "command": "retarget",
        "agent": args.agent,
        "layer": cfg.layer,
        "rows": len(rows),
        "best": best,
        "ranking_selected": None if ranking is None else ranking.selected,
        "figures": figs,
    }


def _vector(args, cfg, policy, out: Path, bar) -> dict:
    from steering.plots import plot_vector_effect
    from steering.vector_experiments import run_vector

    bar.reset(total=1)
    res = run_vector(policy, cfg, progress=bar.set_description)
    bar.update(1)
    write_csv(out / "rows.csv", res["rows"])
    atomic_write_text(
        out / "decision_square.json", json.dumps(jsonable(res["decision_square"]), indent=1)
    )
    fig = plot_vector_effect(res["rows"], out / f"{args.kind}_vector.png")
    ds = {
        k: {
            v: res["decision_square"][k].get(v, {}).get("median")
            for v in ("original", "subtracted", "random_same_norm")
        }
        for k in res["decision_square"]
    }
    return {
        "command": "vector",
        "agent": args.agent,
        "kind": args.kind,
        "rows": res["rows"],
        "decision_square_median_p": ds,
        "figures": [str(fig)],
    }


def _discover(args, cfg, policy, out: Path, bar) -> dict:
    from steering.plots import plot_channel_scores
    from steering.retarget import discover_cheese_channels

    bar.reset(total=1)
    bar.set_description("discovering cheese channels")
    ranking = discover_cheese_channels(
        policy,
        args.layer,
        n_mazes=args.mazes,
        seed=args.seed,
        maze_size=args.size,
        validate_top=args.validate_top,
        validate_mazes=args.validate_mazes,
        magnitude=args.magnitude,
        max_steps=args.max_steps,
    )
    bar.update(1)
    rj = ranking.to_json()
    atomic_write_text(out / "ranking.json", json.dumps(rj, indent=1))
    write_csv(
        out / "rows.csv",
        [
            {
                "rank": i,
                "channel": c,
                "score": s,
                "hit_rate": h,
                "causal_success": (rj["causal"].get(str(c)) or {}).get("rate"),
            }
            for i, (c, s, h) in enumerate(zip(rj["channels"], rj["scores"], rj["hit_rate"]))
        ],
    )
    fig = plot_channel_scores(rj, out / "channel_scores.png")
    return {
        "command": "discover",
        "agent": args.agent,
        "layer": args.layer,
        "top": rj["channels"][:10],
        "selected": rj["selected"],
        "baseline": rj["baseline"],
        "figures": [str(fig)],
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch
    from tqdm import tqdm

    import agents

    torch.set_num_threads(args.torch_threads)
    out = run_dir(args.out, f"steer-{args.cmd}")
    try:
        cfg = _config(args)
        policy = agents.load(args.agent)
        out.mkdir(parents=True, exist_ok=True)
        with tqdm(total=1, disable=args.no_progress, file=sys.stderr) as bar:
            run = {"retarget": _retarget, "vector": _vector, "discover": _discover}[args.cmd]
            summary = run(args, cfg, policy, out, bar)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finish_run(out, summary, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
