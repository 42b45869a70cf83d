#!/usr/bin/env python
"""Linear probes and low-std channel pruning on one layer of a maze agent.

Subcommands (``python scripts/probe.py SUBCOMMAND --help`` for the options)::

    probe  fit held-out linear probes (cheese activation cell, cheese (row, col), open cells,
           "will find cheese") on the layer's activations, with shuffled-label and
           random-init-network controls
    prune  ablate the k lowest-std channels (zero or mean) and measure the cheese rate in and
           off distribution, with a random-channel control

Examples::

    python scripts/probe.py probe --agent grid-r5-s1 --mazes 300 --out runs/probe
    python scripts/probe.py prune --agent grid-r5-s1 --ks 0,4,8,16 --mazes 50

Outputs in ``--out`` (default ``runs/probe-<subcommand>-<timestamp>``): ``rows.csv``,
``summary.json`` and a PNG; the directory is printed at the end (``--json``: then the summary
as one JSON object, the last line). Files are written atomically when the run is done.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from steering.cli import add_run_options, comma_ints, comma_strs, finish_run, int_at_least, run_dir  # noqa: E402


def _plot_probe(rows: list[dict], path: Path) -> None:
    import matplotlib.pyplot as plt

    from steering.plots import save_figure

    probes = list(dict.fromkeys(r["probe"] for r in rows))
    controls = list(dict.fromkeys(r["control"] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / (len(controls) + 1)
    for j, ctl in enumerate(controls):
        for i, p in enumerate(probes):
            r = next((r for r in rows if r["probe"] == p and r["control"] == ctl), None)
            if r is None:
                continue
            x = i + j * width
            ax.bar(x, r["value"], width, color=f"C{j}", label=(ctl or "probe") if i == 0 else None)
            ax.errorbar(
                x,
                r["value"],
                [[r["value"] - r["ci_lo"]], [r["ci_hi"] - r["value"]]],
                color="k",
                capsize=2,
            )
            if j == 0:
                ax.plot(
                    [x - width / 2, x + width * (len(controls) - 0.5)],
                    [r["base_rate"]] * 2,
                    "k--",
                    lw=1,
                    label="base rate" if i == 0 else None,
                )
    ax.set_xticks([i + width * (len(controls) - 1) / 2 for i in range(len(probes))], probes)
    ax.set_ylabel("held-out accuracy / R²")
    ax.set_ylim(min(-0.1, min(r["ci_lo"] for r in rows)), 1.05)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def _plot_prune(rows: list[dict], random_summary: list[dict], path: Path) -> None:
    """Rate vs k per (mode, selection): lowest-std sets with their Wilson CI, random draws as
    their mean with a min-max bar (from :func:`steering.methods.prune.random_summary`)."""
    import matplotlib.pyplot as plt

    from steering.plots import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    base = {r["dist"]: r for r in rows if r["selection"] == "baseline"}
    for ax, dist in zip(axes, ("in", "off")):
        b = base[dist]
        for mode in sorted({r["mode"] for r in rows if r["selection"] == "lowest-std"}):
            key = (dist, mode, "lowest-std")
            pts = sorted(
                (r for r in rows if (r["dist"], r["mode"], r["selection"]) == key),
                key=lambda r: r["k"],
            )
            ks, ys = [0] + [r["k"] for r in pts], [b["got_cheese"]] + [r["got_cheese"] for r in pts]
            lo = [b["got_cheese"] - b["got_cheese_lo"]] + [r["got_cheese"] - r["got_cheese_lo"] for r in pts]
            hi = [b["got_cheese_hi"] - b["got_cheese"]] + [r["got_cheese_hi"] - r["got_cheese"] for r in pts]
            label = f"{mode} / lowest-std"
            ax.errorbar(ks, ys, [lo, hi], marker="o", capsize=2, ls="-", label=label)
            rand = sorted(
                (x for x in random_summary if (x["mode"], x["dist"]) == (mode, dist)),
                key=lambda x: x["k"],
            )
            if rand:
                ks = [0] + [x["k"] for x in rand]
                ys = [b["got_cheese"]] + [x["random_mean"] for x in rand]
                lo = [b["got_cheese"] - b["got_cheese_lo"]] + [x["random_mean"] - x["random_min"] for x in rand]
                hi = [b["got_cheese_hi"] - b["got_cheese"]] + [x["random_max"] - x["random_mean"] for x in rand]
                label = f"{mode} / random (mean, min-max of {rand[0]['draws']} draws)"
                ax.errorbar(ks, ys, [lo, hi], marker="o", capsize=2, ls="--", label=label)
        ax.set_title(f"{dist}-distribution cheese rate")
        ax.set_xlabel("channels ablated k")
    axes[0].set_ylabel("P(got cheese)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


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
        "--no-random-control", action="store_true", help="skip the random-channel control"
    )
    pr.add_argument(
        "--random-draws",
        type=int_at_least(1, "--random-draws"),
        default=3,
        help="random channel sets per (mode, k) for the control (default 3)",
    )
    a = ap.parse_args(argv)
    for m in getattr(a, "modes", []):
        if m not in ("zero", "mean"):
            ap.error(f"--modes: each must be 'zero' or 'mean', got {m!r}")
    for name in ("sizes", "ks", "modes", "in_sizes", "off_sizes"):
        if getattr(a, name, None) == []:
            ap.error(f"--{name.replace('_', '-')} must name at least one value, got ''")
    if a.command == "probe" and not 0 < a.test_frac < 1:
        ap.error(f"--test-frac must be in (0, 1), got {a.test_frac}")

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
                if v % 2 == 0 or not 3 <= v <= 25:
                    raise ValueError(
                        f"--{name.replace('_', '-')}: maze sizes must be odd in [3, 25], got {v}"
                    )
        for k in getattr(a, "ks", None) or []:
            if not (k == -1 or 0 <= k <= channels):
                raise ValueError(
                    f"--ks: k must be in [0, {channels}] (or -1 for half) for {a.layer}, got {k}"
                )
        if a.command == "probe":
            from steering.methods.probes import probe_levels

            levels = probe_levels(a.mazes, a.seed, a.sizes)
    except ValueError as e:
        ap.error(str(e))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if a.command == "probe":
        from steering.methods.probes import random_policy_like, run_probes

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
        _plot_probe(rows, out / "probes.png")
        summary = {"command": "probe", "rows": rows}
    else:
        from steering.methods.prune import PruneConfig, run_prune

        cfg = PruneConfig(
            layer=a.layer,
            ks=a.ks,
            modes=a.modes,
            mazes=a.mazes,
            std_mazes=a.std_mazes,
            seed=a.seed,
            in_sizes=a.in_sizes,
            off_sizes=a.off_sizes,
            max_steps=a.max_steps,
            random_control=not a.no_random_control,
            random_draws=a.random_draws,
        )
        try:
            res = run_prune(policy, cfg, progress=say)
        except ValueError as e:
            ap.error(str(e))
        rows = res["rows"]
        _plot_prune(rows, res["random_summary"], out / "prune.png")
        summary = {
            "command": "prune",
            "rows": rows,
            "random_summary": res["random_summary"],
            "channel_std": res["std"],
            "channels": res["channels"],
        }
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
