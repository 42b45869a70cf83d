#!/usr/bin/env python
"""Compare training runs: overlaid learning curves and when each reached 50/80/90% cheese.

Each argument is a run directory (holding ``train_log.csv``), a ``train_log.csv`` itself or
a zoo agent's directory, optionally as ``LABEL=PATH``. Writes ``curves.png`` (cheese rate vs
env steps, overall and by maze size), ``curves_hours.png`` (vs logged wall time) and
``summary.json`` (per run: steps, wall time, mean steps/s, milestones) under a run directory
that is printed at the end. ``--sps`` adds each milestone's time at that throughput (from
``scripts/bench_train.py`` on a quiet machine), which does not depend on what else ran
beside the training.

Example::

    python scripts/curves.py a=agents/zoo/grid-r5-1ep-s1 b=agents/zoo/grid-r5-1ep-s2 --sps 7181
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from steering.cli import finish_run, positive_float, run_dir  # noqa: E402


def _log_path(text: str) -> tuple[str, Path]:
    label, sep, path = text.partition("=")
    p = Path(path if sep else text)
    if not sep:
        label = p.stem if p.suffix == ".csv" else p.name
    log = p if p.suffix == ".csv" else p / "train_log.csv"
    if not log.is_file():
        raise argparse.ArgumentTypeError(f"no train_log.csv at {str(log)!r} (from {text!r})")
    return label, log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=_log_path, help="[LABEL=]run dir or train_log.csv")
    parser.add_argument(
        "--sps",
        type=positive_float("--sps"),
        default=None,
        help="Env steps/s to convert milestones to minutes.",
    )
    parser.add_argument(
        "--out", default=None, help="Output directory (default runs/curves-<timestamp>)."
    )
    parser.add_argument("--title", default="", help="Figure title.")
    parser.add_argument("--json", action="store_true", help="Print the summary as one JSON line.")
    a = parser.parse_args(argv)
    labels = [label for label, _ in a.runs]
    if len(set(labels)) != len(labels):
        parser.error(f"run labels must be distinct (use LABEL=PATH), got {labels}")

    from agents.eval.plots import learning_curves
    from agents.train.log import compare_runs, read_log

    logs = {label: read_log(path) for label, path in a.runs}
    out = run_dir(a.out, "curves")
    out.mkdir(parents=True, exist_ok=True)
    learning_curves(logs, out / "curves.png", title=a.title)
    learning_curves(logs, out / "curves_hours.png", title=a.title, x="hours")
    runs = compare_runs(logs, sps=a.sps)
    for label, r in runs.items():
        m90 = next((m for m in r.get("milestones", []) if m["threshold"] == 0.9), None)
        at = (
            "not reached" if not m90 or m90["steps"] is None else f"{m90['steps'] / 1e6:.2f}M steps"
        )
        print(f"{label}: {r.get('steps', 0) / 1e6:.2f}M steps logged, 90% {at}", file=sys.stderr)
    summary = {"sps": a.sps, "logs": {label: str(path) for label, path in a.runs}, "runs": runs}
    finish_run(out, summary, as_json=a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
