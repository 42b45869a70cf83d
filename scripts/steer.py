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
when done and skipped on a re-run with the same arguments (other arguments: an error).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _floats(s: str) -> list[float]:
    try:
        return [float(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {s!r}") from None


def _ints(s: str) -> list[int]:
    try:
        return [int(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {s!r}") from None


def _sizes(s: str) -> list[int]:
    if s == "all":
        return list(range(3, 26, 2))
    return _ints(s)


def _strs(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="steer.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--agent", required=True, help="checkpoint path (.pt) or zoo name (agents.zoo_names())")
        sp.add_argument("--layer", default="embedder.block2.res1.resadd_out",
                        help="hook point to patch (default: the layer analysed by Mini et al.)")
        sp.add_argument("--mazes", type=int, default=50, help="mazes per (size, target) cell (default 50)")
        sp.add_argument("--seed", type=int, default=0, help="seed of levels, sampling and controls (default 0)")
        sp.add_argument("--max-steps", type=int, default=250, help="step cap per episode (default 250)")
        sp.add_argument("--greedy", action="store_true", help="argmax actions instead of sampling")
        sp.add_argument("--out", default=None, help="run directory (default runs/steer-<cmd>-<timestamp>)")
        sp.add_argument("--json", action="store_true", help="print the summary as one JSON object last")
        sp.add_argument("--no-progress", action="store_true", help="no progress bar")
        sp.add_argument("--torch-threads", type=int, default=2, help="torch CPU threads (default 2)")

    r = sub.add_parser("retarget", help="retargeting success vs magnitude, per method, with controls")
    common(r)
    r.add_argument("--targets", type=_strs, default=["top-left", "bottom-right"],
                   help="comma list of top-left,top-right,bottom-left,bottom-right or grid:K (KxK node cells)")
    r.add_argument("--sizes", type=_sizes, default=[25], help="comma list of odd maze sizes, or 'all' (default 25)")
    r.add_argument("--methods", type=_strs, default=["single", "channels", "discovered"],
                   help="comma list of single (one activation), channels (a channel set), discovered")
    r.add_argument("--magnitudes", type=_floats, default=None,
                   help="comma list of clamp values (default: single 5.5, channel sets 2.3)")
    r.add_argument("--channels", type=_ints, default=None,
                   help="channel(s) for single/channels (default: from discovery)")
    r.add_argument("--n-channels", type=int, default=4, help="channel-set size taken from discovery (default 4)")
    r.add_argument("--discover-mazes", type=int, default=200, help="mazes for channel discovery (default 200)")
    r.add_argument("--no-controls", action="store_true", help="skip the control rows")
    r.add_argument("--no-cheese-variant", action="store_true", help="skip the with-cheese success")

    v = sub.add_parser("vector", help="cheese / top-right steering vectors")
    common(v)
    v.add_argument("--kind", choices=["cheese", "top-right"], default="cheese", help="which vector (default cheese)")
    v.add_argument("--coeffs", type=_floats, default=[1.0], help="comma list of coefficients (default 1)")
    v.add_argument("--sizes", type=_sizes, default=[15], help="comma list of odd maze sizes (default 15)")
    v.add_argument("--source", choices=["own", "transfer"], default="own",
                   help="own: each maze's own vector; transfer: maze 0's vector on the others")

    d = sub.add_parser("discover", help="rank channels by cheese tracking and validate causally")
    common(d)
    d.add_argument("--size", type=int, default=None, help="maze size (default: procgen's size draw)")
    d.add_argument("--validate-top", type=int, default=6, help="channels validated by retargeting (default 6)")
    d.add_argument("--validate-mazes", type=int, default=12, help="mazes per validated channel (default 12)")
    d.add_argument("--magnitude", type=float, default=None, help="clamp value for validation (default 5.5)")
    return p


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_csv(path: Path, rows: list[dict]) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
    _atomic_write(path, buf.getvalue())


def _jsonable(x):
    import numpy as np

    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return None if x != x else float(x)
    if hasattr(x, "to_dict"):
        return _jsonable(x.to_dict())
    return x


def _config(args):
    """The validated experiment config of a subcommand (before any agent is loaded)."""
    from steering.experiments import RetargetConfig, VectorConfig

    if args.cmd == "retarget":
        return RetargetConfig(
            layer=args.layer, targets=args.targets, sizes=args.sizes, methods=args.methods,
            magnitudes=args.magnitudes, mazes=args.mazes, seed=args.seed, max_steps=args.max_steps,
            channels=args.channels, n_channels=args.n_channels, discover_mazes=args.discover_mazes,
            controls=not args.no_controls, with_cheese=not args.no_cheese_variant, deterministic=args.greedy,
        ).validate()
    if args.cmd == "vector":
        return VectorConfig(kind=args.kind, coeffs=args.coeffs, layer=args.layer, sizes=args.sizes,
                            mazes=args.mazes, seed=args.seed, max_steps=args.max_steps, source=args.source,
                            deterministic=args.greedy).validate()
    if args.size is not None and (args.size % 2 == 0 or not 3 <= args.size <= 25):
        raise ValueError(f"--size must be odd in [3, 25], got {args.size}")
    return None


def _retarget(args, cfg, policy, out: Path, bar) -> dict:
    from steering.experiments import RetargetConfig, parse_targets, run_retarget
    from steering.plots import plot_success_vs_magnitude, plot_target_heatmap
    from steering.retarget import ChannelRanking, discover_cheese_channels

    cfg_path = out / "config.json"
    meta = {"agent": args.agent, "config": cfg.to_dict()}
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text())
        if old != json.loads(json.dumps(meta)):
            raise ValueError(f"{out} holds a run with other arguments ({cfg_path}); use another --out")
    else:
        _atomic_write(cfg_path, json.dumps(meta, indent=1))
    rank_path = out / "ranking.json"
    ranking = None
    needs = "discovered" in cfg.methods or not cfg.channels
    if rank_path.exists():
        ranking = ChannelRanking.from_json(json.loads(rank_path.read_text()))
    elif needs:
        bar.set_description("discovering cheese channels")
        ranking = discover_cheese_channels(policy, cfg.layer, n_mazes=cfg.discover_mazes, seed=cfg.seed,
                                           validate_top=cfg.discover_validate, validate_mazes=max(4, cfg.mazes // 4),
                                           max_steps=min(cfg.max_steps, 100))
        _atomic_write(rank_path, json.dumps(ranking.to_json(), indent=1))
    units = [(s, t) for s in cfg.sizes for t in parse_targets(cfg.targets)]
    bar.reset(total=len(units))
    (out / "units").mkdir(exist_ok=True)
    rows: list[dict] = []
    for s, t in units:
        upath = out / "units" / f"{s}_{t.replace(':', '-').replace(',', '-')}.json"
        if upath.exists():
            rows += json.loads(upath.read_text())
        else:
            bar.set_description(f"size {s} target {t}")
            sub = RetargetConfig(**{**cfg.to_dict(), "sizes": [s], "targets": [t]})
            res = run_retarget(policy, sub, ranking=ranking)
            _atomic_write(upath, json.dumps(_jsonable(res["rows"])))
            rows += json.loads(upath.read_text())
        bar.update(1)
    _write_csv(out / "rows.csv", rows)
    figs = []
    figs.append(str(plot_success_vs_magnitude(rows, out / "success_vs_magnitude.png")))
    for m in cfg.methods:
        figs.append(str(plot_target_heatmap(rows, out / f"target_heatmap_{m}.png", method=m)))
    main = [r for r in rows if r["control"] == ""]
    best = max(main, key=lambda r: r["success"]) if main else None
    return {"command": "retarget", "agent": args.agent, "layer": cfg.layer, "rows": len(rows),
            "best": best, "ranking_selected": None if ranking is None else ranking.selected, "figures": figs}


def _vector(args, cfg, policy, out: Path, bar) -> dict:
    from steering.experiments import run_vector
    from steering.plots import plot_vector_effect

    bar.reset(total=1)
    res = run_vector(policy, cfg, progress=bar.set_description)
    bar.update(1)
    _write_csv(out / "rows.csv", res["rows"])
    _atomic_write(out / "decision_square.json", json.dumps(_jsonable(res["decision_square"]), indent=1))
    fig = plot_vector_effect(res["rows"], out / f"{args.kind}_vector.png")
    ds = {k: {v: res["decision_square"][k].get(v, {}).get("median") for v in ("original", "subtracted",
                                                                            "random_same_norm")}
          for k in res["decision_square"]}
    return {"command": "vector", "agent": args.agent, "kind": args.kind, "rows": res["rows"],
            "decision_square_median_p": ds, "figures": [str(fig)]}


def _discover(args, cfg, policy, out: Path, bar) -> dict:
    from steering.plots import plot_channel_scores
    from steering.retarget import discover_cheese_channels

    bar.reset(total=1)
    bar.set_description("discovering cheese channels")
    ranking = discover_cheese_channels(policy, args.layer, n_mazes=args.mazes, seed=args.seed, maze_size=args.size,
                                       validate_top=args.validate_top, validate_mazes=args.validate_mazes,
                                       magnitude=args.magnitude, max_steps=args.max_steps)
    bar.update(1)
    rj = ranking.to_json()
    _atomic_write(out / "ranking.json", json.dumps(rj, indent=1))
    _write_csv(out / "rows.csv", [{"rank": i, "channel": c, "score": s, "hit_rate": h,
                                   "causal_success": (rj["causal"].get(str(c)) or {}).get("rate")}
                                  for i, (c, s, h) in enumerate(zip(rj["channels"], rj["scores"], rj["hit_rate"]))])
    fig = plot_channel_scores(rj, out / "channel_scores.png")
    return {"command": "discover", "agent": args.agent, "layer": args.layer, "top": rj["channels"][:10],
            "selected": rj["selected"], "baseline": rj["baseline"], "figures": [str(fig)]}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("mazes", "max_steps", "torch_threads"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}", file=sys.stderr)
            return 2
    import torch
    from tqdm import tqdm

    import agents

    torch.set_num_threads(args.torch_threads)
    out = Path(args.out) if args.out else ROOT / "runs" / f"steer-{args.cmd}-{time.strftime('%Y%m%d-%H%M%S')}"
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
    summary = _jsonable({**summary, "out": str(out)})
    _atomic_write(out / "summary.json", json.dumps(summary, indent=1))
    print(f"run directory: {out}")
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
