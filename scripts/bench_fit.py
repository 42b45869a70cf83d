#!/usr/bin/env python
"""Benchmark: the fp32 forward pass and the optimised-edit fit, the two costs of the Q2 frontier.

1. **Forward**: ``model(x)`` in fp32 on grid observations at batch sizes ``--batches``, with the
   network's channels_last max-pool (:class:`agents.model.MaxPool`, the default) against
   ``torch.nn.MaxPool2d`` swapped in (the outputs are checked to be bit-identical).
2. **Fit**: :func:`steering.methods.optimise.fit_sparse_edit` (per maze, k = ``--k``, ``--steps``
   Adam steps) on ``--mazes`` mazes of size 25 with the cheese at its spawn and the top-left
   target, with ``EditConfig.fast`` on (channels_last, bf16 where the CPU has it) and off; the
   final training P(shortest-path move) of each is reported so that the speed-up is not bought
   with a worse fit.

Wall times are medians of ``--repeats``; say what else ran on the machine beside them. Without
``--agent`` it uses ``agents.default_zoo_agent()``. ``--json`` prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from agents.timing import median_ms


def _parser() -> argparse.ArgumentParser:
    from steering.cli import comma_ints, int_at_least

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", default=None, help="checkpoint path or zoo name (default: agents.default_zoo_agent())")
    p.add_argument("--batches", type=comma_ints, default=[20, 128, 1024],
                   help="comma list of forward batch sizes (default 20,128,1024)")
    p.add_argument("--mazes", type=int_at_least(1, "--mazes"), default=20, help="mazes of the timed fit (default 20)")
    p.add_argument("--k", type=int_at_least(1, "--k"), default=64, help="activations of the fitted edit (default 64)")
    p.add_argument("--steps", type=int_at_least(1, "--steps"), default=100, help="Adam steps of the fit (default 100)")
    p.add_argument("--repeats", type=int_at_least(1, "--repeats"), default=5,
                   help="forward repeats, median reported (default 5)")
    p.add_argument("--threads", type=int_at_least(1, "--threads"), default=1, help="torch threads (default 1)")
    p.add_argument("--no-fit", action="store_true", help="time the forward passes only")
    p.add_argument("--json", action="store_true", help="print one JSON object last")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    batches = args.batches
    if not batches or min(batches) < 1:
        print(f"error: --batches must be integers >= 1, got {batches}", file=sys.stderr)
        return 2
    import torch
    from torch import nn

    import agents

    torch.set_num_threads(args.threads)
    name = args.agent or agents.default_zoo_agent()
    policy = agents.load(name)
    model = policy.model.eval()
    blocks = [getattr(model.embedder, f"block{b}") for b in (1, 2, 3)]
    chans = model.embedder.block1.conv.in_channels
    out: dict = {"agent": name, "threads": args.threads, "forward": [], "fit": []}
    for b in batches:
        x = torch.randn(b, chans, 25, 25)
        with torch.no_grad():
            ours = model(x)[0]
            t_ours = median_ms(lambda x=x: model(x), args.repeats).wall_ms
            kept = [blk.maxpool for blk in blocks]
            try:
                for blk in blocks:
                    blk.maxpool = nn.MaxPool2d(3, 2, 1)
                theirs = model(x)[0]
                t_torch = median_ms(lambda x=x: model(x), args.repeats).wall_ms
            finally:
                for blk, m in zip(blocks, kept):
                    blk.maxpool = m
        out["forward"].append({"batch": b, "ms_channels_last_pool": t_ours, "ms_torch_pool": t_torch,
                               "speedup": t_torch / t_ours, "identical": bool(torch.equal(ours, theirs))})
    if not args.no_fit:
        from steering.experiments.targets import target_cells
        from steering.methods.optimise import EditConfig, fit_sparse_edit
        from steering.methods.retarget import eval_levels

        lv = eval_levels(args.mazes, seed=0, maze_size=25, cheese="top-right:5", salt=3)
        t = target_cells(lv, "top-left")
        for fast in (True, False):
            t0 = time.perf_counter()
            _, info = fit_sparse_edit(policy, lv, t, EditConfig(k=args.k, steps=args.steps, fast=fast))
            out["fit"].append({"fast": fast, "mazes": args.mazes, "k": args.k, "steps": args.steps,
                               "states": info["states"][-1], "seconds": time.perf_counter() - t0,
                               "train_p_move": info["train_p_move"]})
        out["fit_speedup"] = out["fit"][1]["seconds"] / out["fit"][0]["seconds"]
    for r in out["forward"]:
        print(f"forward batch {r['batch']}: {r['ms_channels_last_pool']:.1f} ms (torch max-pool "
              f"{r['ms_torch_pool']:.1f} ms, x{r['speedup']:.2f}, identical {r['identical']})", file=sys.stderr)
    for r in out["fit"]:
        print(f"fit fast={r['fast']}: {r['seconds']:.1f} s, train P(move) {r['train_p_move']:.3f}", file=sys.stderr)
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
