#!/usr/bin/env python
"""Probes, probe-direction steering, pruning and its bound, and what the understood channels explain.

Subcommands (``python scripts/probe.py SUBCOMMAND --help`` for the options)::

    probe           fit held-out linear probes (cheese activation cell, cheese (row, col), open
                    cells, "will find cheese") on the layer's activations, with shuffled-label
                    and random-init-network controls; ``--all-layers``: every residual-stream
                    layer, every probe family (logistic/ridge, mean-difference, first PC of
                    paired differences, convolutional) and target (also the mouse's cell and
                    "the cheese is in the top-right 5x5"), and the in->out generalisation split
    steer-by-probe  add each probe family's direction to the layer (alpha swept, norm-matched
                    random control): read accuracy vs control effect
    prune           ablate the k lowest-std channels (zero or mean) and measure the cheese rate in
                    and off distribution, with a random-channel control; ``--bound``: the
                    Lipschitz bound K*std per channel vs the measured logit change and KL under
                    mean-ablation, and lowest-std vs random vs weight-magnitude pruning of k%
                    of one layer and of all layers
    explain         keep only (or ablate only) the channels probes and discovery tie to the
                    cheese and the top-right: behaviour kept and action agreement

Examples::

    python scripts/probe.py probe --agent grid-r5-s1 --mazes 300 --out runs/probe
    python scripts/probe.py probe --agent grid-r5-s1 --all-layers --mazes 150
    python scripts/probe.py steer-by-probe --agent grid-r5-s1 --mazes 40
    python scripts/probe.py prune --agent grid-r5-s1 --ks 0,4,8,16 --mazes 50
    python scripts/probe.py prune --agent grid-r5-s1 --bound --mazes 40 --std-mazes 200
    python scripts/probe.py explain --agent grid-r5-s1 --mazes 40

Outputs in ``--out`` (default ``runs/probe-<subcommand>-<timestamp>``): ``rows.csv``,
``summary.json`` and a PNG; the directory is printed at the end (``--json``: then the summary
as one JSON object, the last line). Files are written atomically when the run is done.

Resume: ``steer-by-probe``, ``prune --bound`` and ``explain`` keep each finished unit of work
(the probe fit, each batched rollout, each bound layer) in ``OUT/units`` with a tqdm bar over
the units (``--no-progress`` hides it); re-run with the same ``--out`` after a kill and the
finished units are reused, with the same rows as an uninterrupted run. A directory of another
agent's weights or other arguments is refused (``probe --all-layers`` resumes per layer in
``OUT/layers``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mazegen.checks import check_maze_size  # noqa: E402
from steering.cli import (  # noqa: E402
    add_run_options,
    comma_floats,
    comma_ints,
    comma_strs,
    config_from_flags,
    finish_run,
    int_at_least,
    run_dir,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("probe", help="linear probes with controls")
    add_run_options(pp, "probe-probe", mazes=200, max_steps=500, torch_threads=1)
    pp.add_argument(
        "--sizes",
        type=comma_ints,
        default=None,
        help="maze sizes to cycle (default: procgen's draw)",
    )
    pp.add_argument("--test-frac", type=float, default=0.3, help="held-out fraction (default 0.3)")
    pp.add_argument(
        "--no-random-init", action="store_true", help="skip the random-init network control"
    )
    pp.add_argument(
        "--all-layers",
        action="store_true",
        help="every residual-stream layer, every probe family and target (ignores --layer); "
        "finished layers are kept in OUT/layers and reused when re-run with the same agent and "
        "arguments",
    )
    pp.add_argument(
        "--layers",
        type=comma_strs,
        default=None,
        help="with --all-layers: only these layers (comma-separated hook points)",
    )
    pp.add_argument(
        "--mouse",
        choices=("start", "uniform"),
        default=None,
        help="mouse placement: procgen's start, or uniform over open cells (default: start; "
        "uniform with --all-layers, so the mouse-cell target is not the maze size in disguise)",
    )
    ps = sub.add_parser("steer-by-probe", help="probe directions as activation edits")
    add_run_options(ps, "probe-steer-by-probe", mazes=40, max_steps=150, torch_threads=1,
                    mazes_help="mazes per (kind, alpha) for the behaviour")
    ps.add_argument("--probe-mazes", type=int_at_least(10, "--probe-mazes"), default=200,
                    help="mazes the probes are fitted on (default 200)")
    ps.add_argument("--alphas", type=comma_floats, default=[1.0, 3.0, 10.0],
                    help="cheese-cell edit strengths in class-mean-gap units (default 1,3,10)")
    ps.add_argument("--tr-alphas", type=comma_floats, default=[-3.0, -1.0, 1.0, 3.0],
                    help="top-right edit strengths (default -3,-1,1,3)")
    ps.add_argument("--sizes", type=comma_ints, default=[13, 15, 17, 19, 21, 23, 25],
                    help="maze sizes of the retargeting mazes (default 13..25)")
    ps.add_argument("--tr-max-steps", type=int_at_least(1, "--tr-max-steps"), default=500,
                    help="step cap of the 25x25 top-right episodes (default 500)")
    pr = sub.add_parser("prune", help="ablate the lowest-std channels")
    add_run_options(pr, "probe-prune", mazes=200, max_steps=500, torch_threads=1)
    pr.add_argument(
        "--ks",
        type=comma_ints,
        default=[0, 4, 8, 16, -1],
        help="numbers of channels (-1: half); default 0,4,8,16,-1",
    )
    pr.add_argument(
        "--modes", type=comma_strs, default=["zero", "mean"], help="ablation modes: zero,mean"
    )
    pr.add_argument(
        "--std-mazes",
        type=int_at_least(1, "--std-mazes"),
        default=200,
        help="mazes for the channel stds (default 200)",
    )
    pr.add_argument(
        "--in-sizes",
        type=comma_ints,
        default=None,
        help="in-distribution sizes (default procgen's draw)",
    )
    pr.add_argument(
        "--off-sizes",
        type=comma_ints,
        default=[19, 21, 23, 25],
        help="off-distribution sizes (default 19,21,23,25)",
    )
    pr.add_argument(
        "--no-random-control", action="store_false", dest="random_control", help="skip the random-channel control"
    )
    pr.add_argument(
        "--random-draws",
        type=int_at_least(1, "--random-draws"),
        default=3,
        help="random channel sets per (mode, k) for the control (default 3)",
    )
    pr.add_argument(
        "--bound",
        action="store_true",
        help="the Lipschitz bound vs measured mean-ablation per channel, and k%% pruning curves "
        "(lowest-std / random / weight-magnitude, one layer and global); uses --percents, "
        "--bound-layers, --std-mazes, --mazes, --random-draws",
    )
    pr.add_argument("--percents", type=comma_floats, default=[10.0, 25.0, 50.0],
                    help="with --bound: percentages of channels pruned (default 10,25,50)")
    pr.add_argument("--bound-layers", type=comma_strs, default=None,
                    help="with --bound: layers of the bound table (default every residual-stream layer)")
    pe = sub.add_parser("explain", help="keep / ablate only the understood channels")
    add_run_options(pe, "probe-explain", mazes=40, max_steps=500, torch_threads=1,
                    mazes_help="mazes per distribution and variant")
    pe.add_argument("--k-cheese", type=int_at_least(0, "--k-cheese"), default=3,
                    help="channels per cheese criterion (discovery, cell probe; default 3)")
    pe.add_argument("--k-top-right", type=int_at_least(0, "--k-top-right"), default=3,
                    help="channels per top-right criterion (vector, probe; default 3)")
    pe.add_argument("--probe-mazes", type=int_at_least(10, "--probe-mazes"), default=200,
                    help="mazes for finding the channels (default 200)")
    pe.add_argument("--states", type=int_at_least(1, "--states"), default=1000,
                    help="states for the action agreement (default 1000)")
    pe.add_argument("--random-draws", type=int_at_least(0, "--random-draws"), default=2,
                    help="random sets of the same size (default 2)")
    a = ap.parse_args(argv)
    for m in getattr(a, "modes", []):
        if m not in ("zero", "mean"):
            ap.error(f"--modes: each must be 'zero' or 'mean', got {m!r}")
    for name in ("sizes", "ks", "modes", "in_sizes", "off_sizes"):
        if getattr(a, name, None) == []:
            ap.error(f"--{name.replace('_', '-')} must name at least one value, got ''")
    if a.command == "probe" and not 0 < a.test_frac < 1:
        ap.error(f"--test-frac must be in (0, 1), got {a.test_frac}")

    cfg = None
    try:  # bad settings fail here, before the agent loads or a file is written
        if a.command == "steer-by-probe":
            from steering.experiments.probe_steer import ProbeSteerConfig

            cfg = config_from_flags(ProbeSteerConfig, a)
        elif a.command == "explain":
            from steering.experiments.explain import ExplainConfig

            cfg = config_from_flags(ExplainConfig, a)
        elif a.command == "prune" and a.bound:
            from steering.experiments.prune_bound import PruneBoundConfig

            cfg = config_from_flags(PruneBoundConfig, a)
    except ValueError as e:
        ap.error(str(e))

    import torch

    torch.set_num_threads(a.torch_threads)
    import agents
    from agents.rundir import write_csv

    out = run_dir(a.out, f"probe-{a.command}")
    say = (lambda m: None) if a.no_progress else (lambda m: print(m, file=sys.stderr, flush=True))
    # every check before the run directory is made: a refused run leaves nothing behind
    try:
        policy = agents.load(a.agent)
        from steering.activations import layer_shape

        channels = layer_shape(policy, a.layer)[0]  # lists the hook points for an unknown name
        for name in ("sizes", "in_sizes", "off_sizes"):
            for v in getattr(a, name, None) or []:
                check_maze_size(v, f"--{name.replace('_', '-')} entry")
        ks = [] if getattr(a, "bound", False) else getattr(a, "ks", None) or []  # --bound sweeps percents
        for k in ks:
            if not (k == -1 or 0 <= k <= channels):
                raise ValueError(
                    f"--ks: k must be in [0, {channels}] (or -1 for half) for {a.layer}, got {k}"
                )
        many = a.command == "probe" and bool(a.all_layers or a.layers)
        if a.command == "probe":
            from steering.methods.probe_data import probe_levels

            if many:
                from steering.experiments.probe_layers import check_conv_layers, stream_layers

                layers = a.layers or stream_layers(policy)
                check_conv_layers(policy, layers)
            # every layer: the mouse anywhere (its cell is then not the maze size in disguise)
            mouse = a.mouse or ("uniform" if many else "start")
            levels = probe_levels(a.mazes, a.seed, a.sizes, mouse=mouse)
    except ValueError as e:
        ap.error(str(e))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    extra: dict[str, list[dict]] = {}
    if many:
        from agents.rundir import agent_fingerprint
        from steering.experiments.probe_layers import run_layer_probes
        from steering.methods.probe_data import random_policy_like
        from steering.plots.probes import plot_depth

        ctl = None if a.no_random_init else random_policy_like(policy, a.seed)
        key = {"agent_fingerprint": agent_fingerprint(policy), "mazes": a.mazes,
               "seed": a.seed, "sizes": a.sizes, "mouse": mouse,
               "test_frac": a.test_frac, "max_steps": a.max_steps,
               "random_init": not a.no_random_init}
        rows = run_layer_probes(policy, levels, layers, control_policy=ctl, seed=a.seed,
                                test_frac=a.test_frac, max_steps=a.max_steps, progress=say,
                                cache_dir=out / "layers", key=key)
        plot_depth(rows, out / "probes_depth.png")
        summary = {"command": "probe", "all_layers": True, "layers": layers,
                   "mouse": mouse, "rows": rows}
    elif a.command == "probe":
        from steering.methods.probe_data import random_policy_like
        from steering.methods.probes import run_probes

        ctl = None if a.no_random_init else random_policy_like(policy, a.seed)
        say(f"probing {a.mazes} mazes at {a.layer}")
        rows = run_probes(
            policy,
            levels,
            a.layer,
            control_policy=ctl,
            seed=a.seed,
            test_frac=a.test_frac,
            max_steps=a.max_steps,
        )
        from steering.plots.probes import plot_probes

        plot_probes(rows, out / "probes.png")
        summary = {"command": "probe", "rows": rows}
    elif a.command == "steer-by-probe":
        from steering.experiments.probe_steer import run_probe_steer
        from steering.plots.probes import plot_probe_steer

        try:
            out.mkdir(parents=True, exist_ok=True)
            res = run_probe_steer(policy, cfg, out=out, bar=not a.no_progress)
        except ValueError as e:
            ap.error(str(e))
        rows = res["table"]
        extra = {"read.csv": res["read"], "control.csv": res["control"]}
        plot_probe_steer(res["control"], out / "steer_by_probe.png")
        summary = {"command": "steer-by-probe", "table": res["table"], "read": res["read"],
                   "control": res["control"], "unit": res["unit"], "alphas": cfg.alphas,
                   "tr_alphas": cfg.tr_alphas}
    elif a.command == "explain":
        from steering.experiments.explain import run_explain
        from steering.plots.probes import plot_explain

        try:
            out.mkdir(parents=True, exist_ok=True)
            res = run_explain(policy, cfg, out=out, bar=not a.no_progress)
        except ValueError as e:
            ap.error(str(e))
        rows = res["rows"]
        plot_explain(rows, out / "explain.png")
        und = {k: v for k, v in res["understood"].items() if k != "channel_mean"}
        summary = {"command": "explain", "rows": rows, "understood": und}
    elif a.bound:
        from steering.experiments.probe_layers import stream_layers
        from steering.experiments.prune_bound import run_prune_bound
        from steering.plots.prune import plot_bound, plot_curves

        try:
            out.mkdir(parents=True, exist_ok=True)
            res = run_prune_bound(policy, cfg, stream_layers(policy), out=out, bar=not a.no_progress)
        except ValueError as e:
            ap.error(str(e))
        rows, curves = res["bound_rows"], res["curves"]
        extra = {"curves.csv": curves}
        plot_bound(rows, out / "bound.png")
        plot_curves(curves, out / "prune_curves.png")
        summary = {"command": "prune", "bound": True, "bound_rows": rows, "curves": curves,
                   "percents": cfg.percents}
    else:
        from steering.methods.prune import PruneConfig, run_prune

        cfg = config_from_flags(PruneConfig, a)
        try:
            out.mkdir(parents=True, exist_ok=True)
            res = run_prune(policy, cfg, progress=say)
        except ValueError as e:
            ap.error(str(e))
        rows = res["rows"]
        from steering.plots.prune import plot_prune

        plot_prune(rows, res["random_summary"], out / "prune.png")
        summary = {
            "command": "prune",
            "rows": rows,
            "random_summary": res["random_summary"],
            "channel_std": res["std"],
            "channels": res["channels"],
        }
    for name, rr in extra.items():
        write_csv(out / name, rr)
    write_csv(out / "rows.csv", rows)
    summary.update(
        {
            "agent": a.agent,
            "layer": a.layer,
            "mazes": a.mazes,
            "seed": a.seed,
            "wall_time_s": round(time.time() - t0, 2),
        }
    )
    finish_run(out, summary, as_json=a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
