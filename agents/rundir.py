"""Run directories: resumable runs keyed on the agent's weights, and their CSV / JSON files.

A resumable run (a placement sweep, a steering experiment) is a directory holding
``config.json`` and finished *units* (one file per unit of work). :func:`open_run` is the one
way to start or resume one:

- ``config.json`` holds the run's arguments plus ``agent_fingerprint``, the sha256 of the
  agent's weights (:func:`agent_fingerprint`: every state-dict tensor's bytes, in key order),
  so a retrained agent that kept its name is a *different* agent.
- Re-running into a directory whose ``config.json`` differs (other arguments, other weights)
  is refused with a ``ValueError`` naming every differing key, before any work: finished
  units of another agent or other arguments are never reused. A directory holding units but
  no ``config.json`` is refused too.
- :func:`load_or_run_unit` reuses a finished unit's JSON or computes it and writes it
  atomically, so a killed run resumes where it stopped.

Every file is written atomically (temp file + rename): :func:`write_csv`, :func:`write_json`.

>>> import tempfile, pathlib
>>> class Fake:
...     obs = "grid"
>>> d = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> _ = open_run(d, {"mazes": 4}, policy=Fake())
>>> _ = open_run(d, {"mazes": 4}, policy=Fake())  # the same arguments and agent: resumes
>>> open_run(d, {"mazes": 8}, policy=Fake())
Traceback (most recent call last):
...
ValueError: ... holds a run with other arguments (mazes: 4 in the directory vs 8 now); use a fresh directory
>>> load_or_run_unit(d / "units" / unit_stem(25, "cell:1,2"), lambda: [1, 2])
[1, 2]
>>> load_or_run_unit(d / "units" / "25_cell-1-2", lambda: 1 / 0)  # finished: not recomputed
[1, 2]
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .checkpoint import atomic_write_text

__all__ = [
    "agent_fingerprint",
    "open_run",
    "load_or_run_unit",
    "unit_stem",
    "unit_runner",
    "write_csv",
    "read_csv",
    "write_json",
]

#: The file holding a run's arguments and agent fingerprint.
CONFIG = "config.json"
#: The folder of finished units.
UNITS = "units"


def agent_fingerprint(policy: Any) -> str:
    """16 hex digits of the sha256 of the policy's weights (and observation kind; for an rgb
    policy also the frame style it sees, :func:`agents.policy.rgb_style`).

    Every tensor of ``policy.model.state_dict()`` in key order, name and bytes; a policy
    without a model (a test fake) hashes its class name instead.
    """
    h = hashlib.sha256()
    model = getattr(policy, "model", None)
    if model is not None and hasattr(model, "state_dict"):
        for k, v in sorted(model.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().contiguous().numpy().tobytes())
    else:
        h.update(type(policy).__qualname__.encode())
    h.update(str(getattr(policy, "obs", "")).encode())
    if getattr(policy, "obs", None) == "rgb":  # the frames it sees decide its results too
        from .policy import rgb_style

        h.update(f"rgb_style={rgb_style(policy)}".encode())
    return h.hexdigest()[:16]


def _plain(x: Any) -> Any:
    """``x`` as JSON would give it back (tuples as lists, numpy scalars as numbers)."""
    return json.loads(json.dumps(x, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def open_run(
    out: str | os.PathLike,
    config: dict,
    *,
    policy: Any,
    ignore: Sequence[str] = (),
) -> Path:
    """Start or resume the run in ``out``: ``config`` plus the agent's fingerprint must match
    the directory's ``config.json`` (keys in ``ignore`` may differ: they do not change
    results). Writes ``config.json`` on a fresh directory; returns ``out`` as a Path."""
    out = Path(out)
    want = _plain({**config, "agent_fingerprint": agent_fingerprint(policy)})
    path = out / CONFIG
    if not path.exists():
        units = out / UNITS
        if units.is_dir() and any(units.iterdir()):
            raise ValueError(f"{out} holds finished units but no {CONFIG}; use a fresh directory")
        out.mkdir(parents=True, exist_ok=True)
        write_json(path, want, indent=2)
        return out
    have = json.loads(path.read_text())
    diff = sorted(k for k in set(have) | set(want) if k not in ignore and have.get(k) != want.get(k))
    if diff:
        what = ", ".join(f"{k}: {have.get(k)!r} in the directory vs {want.get(k)!r} now" for k in diff)
        raise ValueError(f"{out} holds a run with other arguments ({what}); use a fresh directory")
    return out


def unit_stem(*parts: Any) -> str:
    """A unit's file stem from its coordinates: ``unit_stem(25, "cell:1,2") == "25_cell-1-2"``."""
    return "_".join(str(p).replace(":", "-").replace(",", "-") for p in parts)


def load_or_run_unit(stem: str | os.PathLike, compute: Callable[[], Any]) -> Any:
    """The JSON of finished unit ``stem.json``, or ``compute()`` written there atomically
    (``stem`` may hold dots: ``units/bound_embedder.block2.conv`` is ``....conv.json``).

    Call it only inside a run opened with :func:`open_run`, so that a unit on disk belongs to
    the same agent and arguments."""
    path = Path(stem)
    if path.suffix != ".json":  # a dotted stem (a layer name) keeps its dots
        path = path.with_name(path.name + ".json")
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    value = _plain(compute())
    write_json(path, value)
    return value


@contextmanager
def unit_runner(
    out: str | os.PathLike | None,
    config: dict,
    *,
    policy: Any,
    total: int,
    desc: str = "units",
    bar: bool = False,
) -> Iterator[Callable[[str, Callable[[], Any]], Any]]:
    """A run of ``total`` named units in ``out`` (:func:`open_run` with ``config``, units under
    ``out/units``), with a tqdm bar over the units when ``bar``.

    Yields ``unit(stem, compute)``: :func:`load_or_run_unit` of ``out/units/stem`` (the JSON
    value, reused or computed) that advances the bar. With ``out=None`` the units live in a
    temporary directory removed at the end, so a value always comes back as JSON gives it (a
    resumed run and a fresh one then compute from the same numbers).
    """
    tmp = tempfile.TemporaryDirectory() if out is None else None
    try:
        root = open_run(tmp.name if tmp else out, config, policy=policy)
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=desc, unit="unit", disable=not bar) as pbar:

            def unit(stem: str, compute: Callable[[], Any]) -> Any:
                pbar.set_postfix_str(stem)
                value = load_or_run_unit(root / UNITS / stem, compute)
                pbar.update(1)
                return value

            yield unit
    finally:
        if tmp is not None:
            tmp.cleanup()


def write_json(path: str | os.PathLike, value: Any, indent: int | None = 1) -> Path:
    """``value`` as JSON at ``path``, atomically."""
    return atomic_write_text(path, json.dumps(value, indent=indent))


def write_csv(path: str | os.PathLike, rows: Sequence[dict], columns: Sequence[str] | None = None) -> Path:
    """Write dict rows as CSV atomically (columns: given, else the union in first-seen order)."""
    if columns is None:
        columns = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
    buf = io.StringIO()
    wr = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    wr.writeheader()
    for r in rows:
        wr.writerow({k: r.get(k, "") for k in columns})
    return atomic_write_text(path, buf.getvalue())


def read_csv(path: str | os.PathLike) -> list[dict]:
    """The rows of a CSV file as dicts of strings."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
