#!/usr/bin/env python
"""Steer a maze agent: retargeting, steering vectors, cheese-channel discovery.

Subcommands (``python scripts/steer.py SUBCOMMAND --help`` for the options)::

    retarget  clamp cheese-tracking activations at a target cell; success vs magnitude,
              per method, with baseline and controls (random channels, wrong location,
              same-norm random vector), path probability and fraction of activations modified.
              Default protocol (Q2): 25x25, cheese left at its top-right:5 spawn, targets the
              top-left / bottom-right corners, 500 steps, 200 mazes; outcomes "reached target",
              "ate cheese first", "neither" (--cheese removed: the published protocol)
    frontier  Q2 frontier: every method (clamps, optimised per-maze / shared sparse edits,
              counterfactual activation patching, steering vectors) over its size knob;
              arrival (Wilson CI) vs % of network activations modified,
              with controls; frontier.csv/json/png and the best patch exported
    distance  arrival vs the target's BFS distance from the start -> top-right path (random
              targets, cheese at spawn), per size and method, against the unedited baseline
    vector    cheese / top-right steering vectors over coefficients (random-vector control)
    discover  rank a layer's channels by cheese tracking and validate them causally
    apply     rerun a patch file (as the app exports it) on one maze: arrival rate with and
              without the patches, share of activations modified

Examples::

    python scripts/steer.py retarget --agent grid-r5-s1 --json
    python scripts/steer.py retarget --agent grid-r5-s1 --cheese removed --max-steps 250 \\
        --methods single,discovered --magnitudes 1,3,10 --mazes 50 --out runs/steer
    python scripts/steer.py frontier --agent grid-r5-s1 --mazes 30 --train-mazes 30 \\
        --methods per-maze,shared --ks 16,64 --shared-ks 256
    python scripts/steer.py frontier --agent grid-r5-s1 --methods cf-target,cf-waypoint,vec-cheese \\
        --cf-channels 1,8,32 --coeffs=-1,-2
    python scripts/steer.py vector --agent grid-r5-s1 --kind cheese --coeffs 0.5,1,2
    python scripts/steer.py discover --agent grid-r5-s1 --layer embedder.block2.res1.resadd_out
    python scripts/steer.py apply --agent grid-r5-s1 --patches patches.json --level-seed 5 \\
        --size 7 --cheese none --target 9,9 --mazes 50

Outputs in ``--out`` (default ``runs/steer-<subcommand>-<timestamp>``): ``rows.csv``,
``summary.json``, PNG figures; the directory is printed at the end (``--json``: then the
summary as one JSON object, the last line). ``retarget``, ``frontier`` and ``distance`` are
resumable: each unit ((size, target) / (method, knob)) is saved when done and skipped on a re-run
with the same arguments and the same agent weights (other arguments, or an agent retrained under
the same name: an error naming what differs). ``retarget --ray [ADDRESS]`` runs each unit as a
Ray task (same files; README "On a cluster").
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from agents.checkpoint import atomic_write_text
from agents.rundir import load_or_run_unit, open_run, unit_stem, write_csv, write_json
from mazegen.checks import check_maze_size, is_maze_size
from mazegen.constants import MAX_MAZE_SIZE, MIN_MAZE_SIZE
from steering.cli import (
    add_run_options,
    comma_floats,
    comma_ints,
    comma_strs,
    finish_run,
    int_at_least,
    jsonable,
    run_dir,
)


def _finite_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def _sizes(s: str) -> list[int]:
    if s.strip() == "all":
        return list(range(MIN_MAZE_SIZE, MAX_MAZE_SIZE + 1, 2))
    sizes = comma_ints(s)
    if not sizes or not all(is_maze_size(v) for v in sizes):
        raise argparse.ArgumentTypeError(
            f"expected 'all' or comma-separated odd maze sizes in [{MIN_MAZE_SIZE}, {MAX_MAZE_SIZE}], got {s!r}"
        )
    return sizes


def _nonempty(parse, what: str):
    """An argparse type: ``parse`` (a comma-list type) refusing an empty list."""

    def check(text: str) -> list:
        out = parse(text)
        if not out:
            raise argparse.ArgumentTypeError(f"expected at least one {what}, got {text!r}")
        return out

    return check


def _finite_floats(text: str) -> list[float]:
    vals = comma_floats(text)
    if not vals or not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers, got {text!r}")
    return vals


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
        type=_nonempty(comma_strs, "target"),
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
        type=_nonempty(comma_strs, "method"),
        default=["single", "channels", "discovered"],
        help="comma list of single (one activation), channels (a channel set), discovered",
    )
    r.add_argument(
        "--magnitudes",
        type=_finite_floats,
        default=None,
        help="comma list of clamp values (default: single 5.5, channel sets 2.3)",
    )
    r.add_argument(
        "--channels",
        type=_nonempty(comma_ints, "channel"),
        default=None,
        help="channel(s) for single/channels (default: from discovery)",
    )
    r.add_argument(
        "--n-channels",
        type=int_at_least(1, "--n-channels"),
        default=4,
        help="channel-set size taken from discovery (default 4)",
    )
    r.add_argument(
        "--discover-mazes",
        type=int_at_least(1, "--discover-mazes"),
        default=200,
        help="mazes for channel discovery (default 200)",
    )
    r.add_argument("--no-controls", action="store_true", help="skip the control rows")
    r.add_argument(
        "--cheese",
        choices=["spawn", "removed"],
        default="spawn",
        help="spawn: cheese left at its top-right:5 spawn (Q2, default); removed: cheese removed "
        "from uniformly placed levels (the published protocol)",
    )
    r.add_argument(
        "--no-cheese-variant",
        action="store_true",
        help="with --cheese removed: skip the with-cheese success",
    )
    r.set_defaults(mazes=200, max_steps=500)

    f = sub.add_parser("frontier", help="Q2 frontier: arrival vs %% of activations modified")
    common(f)
    f.set_defaults(mazes=200, max_steps=500, torch_threads=1)
    f.add_argument("--targets", type=comma_strs, default=["top-left", "bottom-right"],
                   help="comma list of corners (default top-left,bottom-right)")
    f.add_argument("--methods", type=comma_strs, default=None,
                   help="comma list of clamp-single, clamp-channels, per-maze, shared, per-maze-multi, "
                   "cf-target, cf-waypoint, vec-cheese, vec-top-right, vec-compose "
                   "(default clamp-single,clamp-channels,per-maze,shared)")
    f.add_argument("--size", type=int, default=25, help="odd maze size (default 25)")
    f.add_argument("--train-mazes", type=int_at_least(1, "--train-mazes"), default=100,
                   help="training mazes of the shared edit, disjoint from the evaluation mazes (default 100)")
    f.add_argument("--ks", type=comma_ints, default=None, help="k values of per-maze edits (default 16,64,256)")
    f.add_argument("--shared-ks", type=comma_ints, default=None,
                   help="k values of shared edits (default 64,256,1568)")
    f.add_argument("--multi-ks", type=comma_ints, default=None, help="k values of per-maze-multi (default 64,256)")
    f.add_argument("--multi-layers", type=comma_strs, default=None,
                   help="layers of per-maze-multi (default embedder.block1.res2.resadd_out,<--layer>)")
    f.add_argument("--magnitudes", type=comma_floats, default=None, help="clamp-single values (default 5.5,20)")
    f.add_argument("--channel-counts", type=comma_ints, default=None,
                   help="clamp-channels set sizes (default 1,4,11)")
    f.add_argument("--cf-channels", type=comma_ints, default=None,
                   help="channels replaced by cf-target / cf-waypoint, top by counterfactual change (default 1,8,32)")
    f.add_argument("--cf-radius", type=int_at_least(0, "--cf-radius"), default=None,
                   help="counterfactual methods replace only activation cells within this distance of the "
                   "moved and the original cheese (default: every cell)")
    f.add_argument("--coeffs", type=_finite_floats, default=None,
                   help="coefficients of vec-cheese / vec-top-right / vec-compose, negative subtracts; write "
                   "--coeffs=-1,-2 (default -1,-2 / -1,1 / -1,-2)")
    f.add_argument("--support", choices=["l1", "grad"], default="l1",
                   help="support of the optimised edits: dense L1 fit or gradient magnitude (default l1)")
    f.add_argument("--steps", type=int_at_least(1, "--steps"), default=200, help="Adam steps per fit (default 200)")
    f.add_argument("--radius", type=int, default=1, help="training states within this many steps of the path (default 1)")
    f.add_argument("--dagger", type=int, default=0, help="DAgger rounds of the optimised edits (default 0)")
    f.add_argument("--discover-mazes", type=int_at_least(2, "--discover-mazes"), default=200,
                   help="mazes for cheese-channel discovery (default 200)")
    f.add_argument("--no-controls", action="store_true", help="skip the control rows")
    f.add_argument("--no-retention", action="store_true", help="skip the capability-retention rows")

    dc = sub.add_parser("distance", help="arrival vs the target's distance from the top-right path")
    common(dc)
    dc.set_defaults(mazes=200, max_steps=500, torch_threads=1)
    dc.add_argument("--sizes", type=_sizes, default=[13, 25], help="comma list of odd maze sizes (default 13,25)")
    dc.add_argument("--methods", type=comma_strs, default=["clamp-single", "per-maze"],
                    help="comma list of clamp-single, clamp-channels, per-maze, shared (default clamp-single,per-maze)")
    dc.add_argument("--knobs", type=comma_floats, default=None,
                    help="one knob per method: clamp value / channel count / k (default 5.5 for clamp-single, "
                    "4 for clamp-channels, 64 for edits)")
    dc.add_argument("--train-mazes", type=int_at_least(1, "--train-mazes"), default=100,
                    help="training mazes of the shared edit (default 100)")
    dc.add_argument("--steps", type=int_at_least(1, "--steps"), default=200, help="Adam steps per fit (default 200)")
    dc.add_argument("--discover-mazes", type=int_at_least(2, "--discover-mazes"), default=200,
                    help="mazes for cheese-channel discovery (default 200)")

    v = sub.add_parser("vector", help="cheese / top-right steering vectors")
    common(v)
    v.add_argument(
        "--kind",
        choices=["cheese", "top-right"],
        default="cheese",
        help="which vector (default cheese)",
    )
    v.add_argument(
        "--coeffs",
        type=_finite_floats,
        default=[1.0],
        help="comma list of coefficients (default 1)",
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
        "--validate-top",
        type=int_at_least(1, "--validate-top"),
        default=6,
        help="channels validated by retargeting (default 6)",
    )
    d.add_argument(
        "--validate-mazes",
        type=int_at_least(1, "--validate-mazes"),
        default=12,
        help="mazes per validated channel (default 12)",
    )
    d.add_argument(
        "--magnitude",
        type=_finite_float,
        default=None,
        help="clamp value for validation (default 5.5)",
    )
    a = sub.add_parser("apply", help="rerun a patch file on one maze (the app's export)")
    common(a)
    a.add_argument("--patches", required=True, help="patch JSON file (steering.load_patches format)")
    a.add_argument("--level-seed", type=int_at_least(0, "--level-seed"), default=0, help="level seed (default 0)")
    a.add_argument("--size", type=int, default=None, help="maze size (default: procgen's size draw)")
    a.add_argument("--cheese", default="uniform", help="cheese placement spec (default uniform)")
    a.add_argument("--target", type=comma_ints, default=None, help="target cell R,C (default: none; rate = cheese)")
    return p


def _config(args):
    """The validated experiment config of a subcommand (before any agent is loaded)."""
    from steering.experiments.retarget import RetargetConfig
    from steering.experiments.vectors import VectorConfig

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
            cheese=args.cheese,
        ).validate()
    if args.cmd == "distance":
        from steering.experiments.frontier import FrontierConfig

        default = {"clamp-single": 5.5, "clamp-channels": 4, "per-maze": 64, "shared": 64}
        knobs = args.knobs if args.knobs is not None else [default.get(m, 64) for m in args.methods]
        if len(knobs) != len(args.methods):
            raise ValueError(f"--knobs needs one value per method ({len(args.methods)}), got {len(knobs)}")
        cfgs = []
        for size in args.sizes:
            cfg = FrontierConfig(
                layer=args.layer, size=size, mazes=args.mazes, train_mazes=args.train_mazes,
                max_steps=args.max_steps, seed=args.seed, deterministic=args.greedy,
                methods=list(args.methods), knobs={m: [k] for m, k in zip(args.methods, knobs)},
                discover_mazes=args.discover_mazes, edit={"steps": args.steps},
            )
            cfgs.append(cfg.validate())
        return _DistanceConfigs(cfgs)
    if args.cmd == "frontier":
        from steering.experiments.frontier import FrontierConfig

        knobs = {}
        for method, flag in (("per-maze", args.ks), ("shared", args.shared_ks),
                             ("per-maze-multi", args.multi_ks), ("clamp-single", args.magnitudes),
                             ("clamp-channels", args.channel_counts), ("cf-target", args.cf_channels),
                             ("cf-waypoint", args.cf_channels), ("vec-cheese", args.coeffs),
                             ("vec-top-right", args.coeffs), ("vec-compose", args.coeffs)):
            if flag is not None:
                knobs[method] = list(flag)
        cfg = FrontierConfig(
            layer=args.layer,
            targets=args.targets,
            size=args.size,
            mazes=args.mazes,
            train_mazes=args.train_mazes,
            max_steps=args.max_steps,
            seed=args.seed,
            deterministic=args.greedy,
            controls=not args.no_controls,
            retention=not args.no_retention,
            discover_mazes=args.discover_mazes,
            knobs=knobs or None,
            edit={"support": args.support, "steps": args.steps, "radius": args.radius,
                  "dagger": args.dagger},
            cf_radius=args.cf_radius,
        )
        if args.methods is not None:
            cfg.methods = args.methods
        if args.multi_layers is not None:
            cfg.multi_layers = args.multi_layers
        else:
            cfg.multi_layers = ["embedder.block1.res2.resadd_out", args.layer]
        return cfg.validate()
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
    if args.size is not None:
        check_maze_size(args.size, "--size")
    if args.seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {args.seed}")
    return None


def _check_for_agent(args, cfg, policy) -> None:
    """The checks that need the agent (layer name, channel range), before any file is written."""
    from steering.activations import layer_shape

    if cfg is not None and hasattr(cfg, "check_for"):
        cfg.check_for(policy)
        return
    shape = layer_shape(policy, args.layer)  # lists the hook points when the name is unknown
    if args.cmd == "discover":
        if len(shape) != 3:
            raise ValueError(
                f"--layer {args.layer!r} has shape {tuple(shape)}; discover needs a (C, H, W) conv layer"
            )
        if args.validate_top > shape[0]:
            raise ValueError(
                f"--validate-top must be in [1, {shape[0]}] (channels of {args.layer}), got {args.validate_top}"
            )


def _retarget(args, cfg, policy, out: Path, bar) -> dict:
    from agents.cluster import map_units
    from steering.experiments.retarget import parse_targets, retarget_ranking
    from steering.experiments.retarget_units import retarget_unit
    from steering.methods.retarget import ChannelRanking
    from steering.plots import plot_success_vs_magnitude, plot_target_heatmap

    # refuses a directory of another agent (weights fingerprint) or other arguments
    open_run(out, {"agent": args.agent, "config": cfg.to_dict()}, policy=policy)
    ranking = ChannelRanking.cached(
        out / "ranking.json", lambda: retarget_ranking(policy, cfg, progress=bar.set_description)
    )
    units = [(s, t) for s in cfg.sizes for t in parse_targets(cfg.targets)]
    bar.reset(total=len(units))
    (out / "units").mkdir(exist_ok=True)

    def upath(s: int, t: str) -> Path:
        return (out / "units" / unit_stem(s, t)).with_suffix(".json")

    todo = [u for u in units if not upath(*u).exists()]
    bar.update(len(units) - len(todo))

    def write(i: int, unit_rows: list) -> None:  # the driver alone writes the run directory
        write_json(upath(*todo[i]), unit_rows)
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
    from steering.experiments.vectors import run_vector
    from steering.plots import plot_vector_effect

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
    from steering.methods.retarget import discover_cheese_channels
    from steering.plots import plot_channel_scores

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


def _apply(args, cfg, policy, out: Path, bar) -> dict:
    """The app's numbers for one maze: ``steering.app.Session`` with and without the patches."""
    import steering
    from steering.app import AgentStore, Session

    patches = [p.to_json() for p in steering.load_patches(args.patches)]
    if args.target is not None and len(args.target) != 2:
        raise ValueError(f"--target must be R,C, got {args.target}")
    store = AgentStore(zoo=False, policies={args.agent: policy})
    maze = {"seed": args.level_seed, "size": args.size, "cheese": args.cheese}
    target = None if args.target is None else tuple(args.target)
    bar.reset(total=2)
    rows = []
    for name, ps in (("unpatched", []), ("patched", patches)):
        s = Session(store, {"agent": args.agent, "maze": maze, "patches": ps, "target": target})
        r = s.rollouts({"n": args.mazes, "seed": args.seed, "max_steps": args.max_steps, "greedy": args.greedy})
        greedy = s.rollout({"max_steps": args.max_steps})
        m = s.modified()
        rows.append({
            "variant": name, "goal": r["goal"], "rate": r["rate"], "lo": r["lo"], "hi": r["hi"],
            "k": r["k"], "n": r["n"], "greedy_outcome": greedy["outcome"], "greedy_steps": greedy["steps"],
            "fraction_layer": 0.0 if m is None else m["total"]["fraction_layer"],
            "fraction_network": 0.0 if m is None else m["total"]["fraction_network"],
        })
        bar.update(1)
    write_csv(out / "rows.csv", rows)
    return {"command": "apply", "agent": args.agent, "patches": str(args.patches), "maze": maze,
            "target": target, "rows": rows}


class _DistanceConfigs(list):
    """The per-size frontier configs of ``distance``."""

    def check_policy(self, policy) -> None:
        for c in self:
            c.check_policy(policy)

    def to_dict(self) -> dict:
        return {"sizes": [c.to_dict() for c in self]}


def _distance(args, cfgs, policy, out: Path, bar) -> dict:
    from steering.experiments.frontier import distance_curve, plot_distance_curve
    from steering.methods.retarget import ChannelRanking, discover_cheese_channels

    open_run(out, {"agent": args.agent, "config": cfgs.to_dict()}, policy=policy)
    ranking = None
    if any(m.startswith("clamp") for m in cfgs[0].methods):

        def discover() -> ChannelRanking:
            bar.set_description("discovering cheese channels")
            return discover_cheese_channels(policy, args.layer, n_mazes=args.discover_mazes, seed=args.seed)

        ranking = ChannelRanking.cached(out / "ranking.json", discover)
    units = [(c, m) for c in cfgs for m in c.methods]
    bar.reset(total=len(units))
    rows: list[dict] = []
    for c, m in units:

        def unit(c=c, m=m) -> list:
            bar.set_description(f"size {c.size} {m}")
            knob = c.all_knobs()[m][0]
            return jsonable(distance_curve(policy, c, m, knob, ranking=ranking, progress=bar.set_description))

        rows += load_or_run_unit(out / "units" / f"{c.size}_{m}", unit)
        bar.update(1)
    write_csv(out / "distance.csv", rows)
    fig = plot_distance_curve(rows, out / "distance_curve.png")
    return {"command": "distance", "agent": args.agent, "rows": rows, "figures": [str(fig)]}


def _frontier(args, cfg, policy, out: Path, bar) -> dict:
    from steering.experiments.frontier import run_frontier

    return {"command": "frontier", "agent": args.agent,
            **run_frontier(policy, cfg, out, agent=args.agent, bar=bar)}


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
        _check_for_agent(args, cfg, policy)
        if hasattr(cfg, "check_policy"):
            cfg.check_policy(policy)  # layers and sizes, before any file is written
        out.mkdir(parents=True, exist_ok=True)
        with tqdm(total=1, disable=args.no_progress, file=sys.stderr) as bar:
            run = {"retarget": _retarget, "vector": _vector, "discover": _discover, "apply": _apply,
                   "frontier": _frontier, "distance": _distance}[args.cmd]
            summary = run(args, cfg, policy, out, bar)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finish_run(out, summary, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
