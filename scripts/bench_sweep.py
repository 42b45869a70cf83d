#!/usr/bin/env python
"""Benchmark: sweep rollout throughput vs the policy's pure batched forward throughput.

Plays ``--mazes`` fresh mazes of one size and placement with :func:`agents.eval.rollout.rollout`
(env steps per second over all episodes) and times ``policy.action_probs`` on a full batch of
real observations (observations per second), alternating the two so that both see the same
machine load. The target is a sweep at >= 80% of the pure forward throughput. Under a loaded
machine wall-clock rates are noisy; the output also has CPU-time rates (``ratio_cpu_time``)
and the share of the rollout's wall time spent inside the forward passes.

Without ``--agent`` it uses the default zoo agent (``agents.default_zoo_agent()``), or (if
the zoo is empty) an untrained scale-1 grid model, which it says in the output. ``--json``
prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


class _Timed:
    """Wraps a policy and adds up the wall time spent in ``action_probs``."""

    def __init__(self, policy) -> None:
        self._policy = policy
        self.obs = policy.obs
        self.metadata = getattr(policy, "metadata", {})
        self.wall = 0.0

    def action_probs(self, obs):
        t0 = time.perf_counter()
        out = self._policy.action_probs(obs)
        self.wall += time.perf_counter() - t0
        return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", default=None, help="checkpoint path or zoo name (default: agents.default_zoo_agent(), "
                   "else an untrained scale-1 grid model)")
    p.add_argument("--size", type=int, default=25, help="maze size (odd, 3..25; default 25)")
    p.add_argument("--placement", default="uniform", help="cheese placement (default uniform)")
    p.add_argument("--mazes", type=int, default=256, help="episodes in the timed sweep (default 256)")
    p.add_argument("--batch-size", type=int, default=256, help="rollout batch size (default 256)")
    p.add_argument("--max-steps", type=int, default=500, help="episode cap (default 500)")
    p.add_argument("--repeats", type=int, default=1, help="alternating sweep/forward repeats (default 1)")
    p.add_argument("--fp32", action="store_true", help="fp32 forward passes (default: channels_last + bf16 where the CPU has it)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1; 0 = torch's choice)")
    p.add_argument("--seed", type=int, default=0, help="sweep seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object last")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    import agents
    from agents.eval.rollout import rollout
    from agents.eval.sweep_axes import level_seeds, parse_sizes
    from agents.model import ImpalaModel, fast_precision
    from agents.policy import Policy, rgb_style
    from mazegen.env import MazeVecEnv
    from mazegen.level_source import FixedLevelSource
    from mazegen.procgen.generate import generate_levels

    if args.mazes < 1 or args.batch_size < 1 or args.repeats < 1:
        raise SystemExit("error: --mazes, --batch-size and --repeats must be >= 1")
    (size,) = parse_sizes([args.size])
    if args.threads:
        torch.set_num_threads(args.threads)
    name = args.agent or agents.default_zoo_agent()
    if name is None:
        torch.manual_seed(0)
        policy, name = Policy(ImpalaModel(obs_size=25), obs="grid", fast=not args.fp32), "untrained-scale1-grid"
    else:
        policy = agents.load(name, fast=not args.fp32)
    levels = generate_levels(level_seeds(args.seed, args.mazes), maze_size=size, cheese=args.placement)
    b = min(args.batch_size, len(levels))
    env = MazeVecEnv(FixedLevelSource(levels[:b]), b, obs=policy.obs, rgb_style=rgb_style(policy))
    obs = env.reset()
    policy.action_probs(obs)  # warm-up

    timed = _Timed(policy)
    sweep_rates, fwd_rates, sweep_cpu, fwd_cpu, shares, steps_total, res = [], [], [], [], [], 0, None
    for _ in range(args.repeats):
        timed.wall = 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        res = rollout(timed, levels, seed=args.seed, max_steps=args.max_steps, batch_size=b)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        steps_total = int(res.steps.sum())
        sweep_rates.append(steps_total / dt)
        sweep_cpu.append(steps_total / dc)
        shares.append(timed.wall / dt)
        k, t0, c0 = 0, time.perf_counter(), time.process_time()
        while k < 5 or time.perf_counter() - t0 < min(dt / 2, 10.0):
            policy.action_probs(obs)
            k += 1
        fwd_rates.append(k * b / (time.perf_counter() - t0))
        fwd_cpu.append(k * b / (time.process_time() - c0))
    sweep = float(np.median(sweep_rates))
    fwd = float(np.median(fwd_rates))
    out = {
        "agent": name,
        "obs": policy.obs,
        "fast": not args.fp32,
        "fast_precision": fast_precision(enabled=not args.fp32),
        "torch_threads": torch.get_num_threads(),
        "size": size,
        "placement": args.placement,
        "mazes": len(levels),
        "batch_size": b,
        "episode_steps": steps_total,
        "mean_episode_steps": steps_total / len(levels),
        "got_cheese_rate": float(res.got_cheese.mean()),
        "sweep_steps_per_s": sweep,
        "forward_obs_per_s": fwd,
        "ratio": sweep / fwd,
        "sweep_steps_per_cpu_s": float(np.median(sweep_cpu)),
        "forward_obs_per_cpu_s": float(np.median(fwd_cpu)),
        "ratio_cpu_time": float(np.median(sweep_cpu) / np.median(fwd_cpu)),
        "forward_share_of_rollout_wall": float(np.median(shares)),
        "target_ratio": 0.8,
    }
    print(f"agent {name}: sweep {sweep:.0f} steps/s, pure forward {fwd:.0f} obs/s, ratio {sweep / fwd:.2f} "
          f"(mean episode {out['mean_episode_steps']:.0f} steps, P(cheese) {out['got_cheese_rate']:.2f})",
          file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
