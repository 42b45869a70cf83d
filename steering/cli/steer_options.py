"""What the ``scripts/steer.py`` subcommands share: their common options, argparse types and checks.

- :func:`add_common`: the run options of every subcommand (:func:`steering.cli.add_run_options`
  with the steering defaults) and ``--greedy``.
- :func:`finite_float`, :func:`finite_floats`, :func:`maze_sizes`, :func:`nonempty`: argparse
  ``type=`` callables whose errors name the bad value.
- :func:`check_size_and_seed`: ``--size`` / ``--seed`` of the subcommands without a config.
- :func:`check_for_agent`: the default check that needs the agent (the layer exists).

>>> maze_sizes("5,7"), finite_floats("1,-2")
([5, 7], [1.0, -2.0])
>>> finite_float("nan")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected a finite number, got 'nan'
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from mazegen.checks import check_maze_size, is_maze_size
from mazegen.constants import MAX_MAZE_SIZE, MIN_MAZE_SIZE

from . import add_run_options, comma_floats, comma_ints

__all__ = [
    "add_common",
    "check_for_agent",
    "check_size_and_seed",
    "finite_float",
    "finite_floats",
    "maze_sizes",
    "nonempty",
]


def finite_float(text: str) -> float:
    """An argparse type: one finite number."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def maze_sizes(s: str) -> list[int]:
    """An argparse type: ``all`` (every odd size) or comma-separated odd maze sizes."""
    if s.strip() == "all":
        return list(range(MIN_MAZE_SIZE, MAX_MAZE_SIZE + 1, 2))
    sizes = comma_ints(s)
    if not sizes or not all(is_maze_size(v) for v in sizes):
        raise argparse.ArgumentTypeError(
            f"expected 'all' or comma-separated odd maze sizes in [{MIN_MAZE_SIZE}, {MAX_MAZE_SIZE}], got {s!r}"
        )
    return sizes


def nonempty(parse: Callable[[str], list], what: str) -> Callable[[str], list]:
    """An argparse type: ``parse`` (a comma-list type) refusing an empty list."""

    def check(text: str) -> list:
        out = parse(text)
        if not out:
            raise argparse.ArgumentTypeError(f"expected at least one {what}, got {text!r}")
        return out

    return check


def finite_floats(text: str) -> list[float]:
    """An argparse type: at least one comma-separated finite number."""
    vals = comma_floats(text)
    if not vals or not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers, got {text!r}")
    return vals


def add_common(sp: argparse.ArgumentParser) -> None:
    """The options of every subcommand; a subcommand changes their defaults with ``set_defaults``."""
    add_run_options(
        sp,
        "steer-<cmd>",
        mazes=50,
        max_steps=250,
        torch_threads=2,
        mazes_help="mazes per (size, target) cell",
    )
    sp.add_argument("--greedy", action="store_true", help="argmax actions instead of sampling")


def check_size_and_seed(args: argparse.Namespace) -> None:
    """``--size`` (None or an odd maze size) and ``--seed`` (>= 0) of a subcommand without a config."""
    if args.size is not None:
        check_maze_size(args.size, "--size")
    if args.seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {args.seed}")


def check_for_agent(args: argparse.Namespace, cfg: Any, policy: Any) -> tuple[int, ...] | None:
    """The checks that need the agent, before any file is written: the config's own
    ``check_for(policy)`` where it has one (then None), else that ``--layer`` is a hook point of
    the policy (then its activation shape, e.g. ``(C, H, W)``)."""
    from ..activations import layer_shape

    if cfg is not None and hasattr(cfg, "check_for"):
        cfg.check_for(policy)
        return None
    return tuple(layer_shape(policy, args.layer))  # lists the hook points when the name is unknown
