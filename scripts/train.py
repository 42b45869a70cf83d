#!/usr/bin/env python
"""Train the IMPALA maze policy (thin CLI over :func:`agents.train.train`).

Settings: defaults < ``--config FILE.yaml|json`` < command-line flags (one per
:class:`agents.TrainConfig` field; see ``--help``). ``--resume RUN_DIR`` continues a
killed or finished run from its last checkpoint up to ``--total-steps``. ``--teacher AGENT``
trains by distillation from that grid agent instead of PPO (:mod:`agents.train.distill`).

Examples::

    python scripts/train.py --run-dir runs/try --total-steps 200000 --n-envs 32
    python scripts/train.py --config agents/zoo/configs/grid-r5-s1.yaml --run-dir runs/grid-r5-s1
    python scripts/train.py --resume runs/grid-r5-s1
    python scripts/train.py --teacher grid-r5-long-s1 --obs rgb --action-set moves --run-dir runs/d
"""

from __future__ import annotations

import json
import sys

from agents.train.loop import config_from_args, train


def main(argv: list[str] | None = None) -> int:
    try:
        config, resume = config_from_args(argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = train(config, resume=resume)
    if summary.get("stopped"):
        print(
            f"stopped at {summary['steps']} steps; continue with: --resume {summary['run_dir']}",
            file=sys.stderr,
        )
    ev = summary.get("evaluation") or {}
    print(
        json.dumps(
            {k: summary[k] for k in ("run_dir", "steps", "wall_time_s", "card")}
            | {"cheese_rate": ev.get("cheese_rate")}
        )
    )
    print(f"run directory: {summary['run_dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
