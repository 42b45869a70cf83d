"""Command-line plumbing of the scripts: argparse value types, run options and run directories.

- :func:`int_at_least`, :func:`comma_ints`, :func:`comma_floats`, :func:`comma_strs`:
  argparse ``type=`` callables whose errors name the bad value and the allowed range.
- :func:`add_run_options`: the options every steering script (``scripts/probe.py``,
  ``scripts/steer.py``) takes: ``--agent --layer --mazes --seed --max-steps --out --json
  --no-progress --torch-threads``.
- :func:`run_dir`: ``--out``, or ``runs/<name>-<YYYYmmdd-HHMMSS>`` in the checkout.
- :func:`finish_run`: how a run ends: ``summary.json`` written atomically, the directory
  printed, then (``--json``) the summary as one JSON object on the last line.
- :func:`jsonable`: numpy scalars, NaN and ``to_dict()`` objects as plain JSON values.
- :func:`config_from_flags`: an experiment's config dataclass from the flags named like its
  fields, so that a subcommand maps no flag onto a field by hand.

This module imports nothing heavy, so scripts that only need the argparse types stay light.

The subcommands of ``scripts/steer.py`` are one module each, imported by that script alone:
:mod:`~steering.cli.retarget`, :mod:`~steering.cli.frontier`, :mod:`~steering.cli.distance`,
:mod:`~steering.cli.vector`, :mod:`~steering.cli.discover`, :mod:`~steering.cli.apply`; each has
``add_parser(sub)`` (its flags), ``config(args)`` (the validated config, before any agent is
loaded) and ``run(args, cfg, policy, out, bar)`` (the run, returning the summary), and may have
``check_for_agent(args, cfg, policy)`` (checks that need the agent, before any file is written;
default :func:`steering.cli.steer_options.check_for_agent`). The options and argparse types
they share are in :mod:`~steering.cli.steer_options`.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> _ = p.add_argument("--n", type=int_at_least(1, "--n"))
>>> p.parse_args(["--n", "3"]).n
3
>>> int_at_least(1, "--n")("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: --n must be an integer >= 1, got 0
>>> comma_ints("1, 2,3"), comma_floats("0.5,2"), comma_strs("a, b,")
([1, 2, 3], [0.5, 2.0], ['a', 'b'])
>>> jsonable({"a": float("nan"), 1: (2, 3)})
{'a': None, '1': [2, 3]}
>>> import dataclasses
>>> @dataclasses.dataclass
... class Cfg:
...     mazes: int = 10
...     deterministic: bool = False
...     channels: list | None = None
...     def validate(self):
...         return self
>>> config_from_flags(Cfg, argparse.Namespace(mazes=3, greedy=True, channels=None, out="x"))
Cfg(mazes=3, deterministic=True, channels=None)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "RUNS_DIR",
    "add_run_options",
    "comma_floats",
    "comma_ints",
    "comma_strs",
    "config_from_flags",
    "finish_run",
    "int_at_least",
    "jsonable",
    "positive_float",
    "run_dir",
]

#: Where runs go by default: ``runs/`` in the checkout.
RUNS_DIR = Path(__file__).resolve().parents[2] / "runs"


def int_at_least(low: int, name: str | None = None) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``; errors name the option (``name``) and the value."""
    what = f"{name} must be" if name else "expected"

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} an integer >= {low}, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"{what} an integer >= {low}, got {v}")
        return v

    return parse


def positive_float(name: str | None = None) -> Callable[[str], float]:
    """An argparse type: a number > 0; errors name the option (``name``) and the value."""
    what = f"{name} must be" if name else "expected"

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} a number > 0, got {text!r}") from None
        if not 0 < v < float("inf"):  # also rejects nan
            raise argparse.ArgumentTypeError(f"{what} a number > 0, got {text!r}")
        return v

    return parse


def _comma_list(convert: Callable[[str], Any], what: str) -> Callable[[str], list]:
    def parse(text: str) -> list:
        try:
            return [convert(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {what}, got {text!r}"
            ) from None

    parse.__doc__ = f"An argparse type: comma-separated {what}."
    return parse


#: An argparse type: comma-separated integers (``"0,4,8"``).
comma_ints = _comma_list(int, "integers")
#: An argparse type: comma-separated numbers (``"0.5,1,2"``).
comma_floats = _comma_list(float, "numbers")


def comma_strs(text: str) -> list[str]:
    """An argparse type: comma-separated names, stripped, empty ones dropped."""
    return [x.strip() for x in text.split(",") if x.strip()]


def add_run_options(
    p: argparse.ArgumentParser,
    name: str,
    *,
    mazes: int,
    max_steps: int,
    torch_threads: int,
    mazes_help: str = "number of mazes",
) -> None:
    """Add the options shared by the steering scripts to subcommand parser ``p``.

    ``name`` is the default run directory's prefix in the help (``runs/<name>-<timestamp>``);
    the other keywords are the defaults of ``--mazes``, ``--max-steps`` and ``--torch-threads``.
    """
    from ..activations import DEFAULT_LAYER

    p.add_argument(
        "--agent",
        required=True,
        help="checkpoint path (.pt) or zoo name, e.g. grid-r5-s1 (agents.zoo_names())",
    )
    p.add_argument(
        "--layer",
        default=DEFAULT_LAYER,
        help="hook point to work on (default: %(default)s, the layer analysed by Mini et al.)",
    )
    p.add_argument(
        "--mazes",
        type=int_at_least(1, "--mazes"),
        default=mazes,
        help=f"{mazes_help} (default %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of levels, sampling and controls (default 0)"
    )
    p.add_argument(
        "--max-steps",
        type=int_at_least(1, "--max-steps"),
        default=max_steps,
        help="step cap per episode (default %(default)s)",
    )
    p.add_argument("--out", default=None, help=f"run directory (default runs/{name}-<timestamp>)")
    p.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object, the last line"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    p.add_argument(
        "--torch-threads",
        type=int_at_least(1, "--torch-threads"),
        default=torch_threads,
        help="torch CPU threads (default %(default)s)",
    )


#: Flags whose config field, where the config has no field of the flag's own name, has another
#: name: ``--greedy`` reads better on the command line than ``--deterministic``.
FLAG_FIELDS = {"greedy": "deterministic"}


def config_from_flags(cls: type, args: argparse.Namespace, **computed: Any) -> Any:
    """``cls(...)`` with every field that a flag of ``args`` names (``dest`` = the field, or a
    :data:`FLAG_FIELDS` alias), validated (by its ``validate()`` where it has one, else by its
    ``__post_init__``). A flag left at ``None`` keeps the field's default. ``computed`` gives
    the fields that no single flag maps onto (they win over flags). Flags that name no field
    (``--out``, ``--json``, ...) are ignored."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)}
    extra = set(computed) - names
    if extra:
        raise TypeError(f"{cls.__name__} has no fields {sorted(extra)}")
    values = {(k if k in names else FLAG_FIELDS.get(k, k)): v for k, v in vars(args).items() if v is not None}
    values = {k: v for k, v in values.items() if k in names}
    cfg = cls(**{**values, **computed})
    return cfg.validate() if hasattr(cfg, "validate") else cfg


def run_dir(out: str | os.PathLike | None, name: str) -> Path:
    """``out``, or ``RUNS_DIR / "<name>-<YYYYmmdd-HHMMSS>"`` (not created)."""
    return Path(out) if out else RUNS_DIR / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def jsonable(x: Any) -> Any:
    """``x`` with numpy scalars as Python numbers, NaN as None, tuples as lists, keys as str."""
    import numpy as np

    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return None if x != x else float(x)
    if hasattr(x, "to_dict"):
        return jsonable(x.to_dict())
    return x


def finish_run(out: Path, summary: dict, *, as_json: bool) -> dict:
    """Write ``out/summary.json`` (with ``"out"``) atomically, print the run directory and,
    with ``as_json``, the summary as one JSON line; returns the summary as written."""
    from agents.checkpoint import atomic_write_text

    summary = jsonable({**summary, "out": str(out)})
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1))
    print(f"run directory: {out}")
    if as_json:
        print(json.dumps(summary))
    return summary

