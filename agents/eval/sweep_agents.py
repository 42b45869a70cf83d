"""Placement sweeps over several agents: one table and one set of plots, the agent as a column.

:func:`resolve_agents` turns ``"grid-r5-s1,grid-r5-s2"``, paths or globs (``"grid-r5-*"``, matched
against zoo names and the file system) into ``(label, agent)`` pairs; :func:`run_agent_sweeps`
runs the same :class:`~agents.sweep.SweepConfig` for each agent, every (agent, size,
placement) unit at once (here, or as Ray tasks with ``ray=``), into::

    OUT/agents/<label>/       each agent's own sweep directory (as agents.sweep writes it;
                              resumable unit by unit)
    OUT/summary.csv           every agent's unit rows, with the column ``agent`` first
    OUT/summary.json          {"agents": {label: agent}, "units": [...], "files": [...]}
    OUT/phase_transition_agents.png   P(cheese) vs maze size, a panel per placement, a line
                              per agent
    OUT/by_training_region.csv/.png   when the agents were trained on at least two region
                              sizes n: at the largest swept maze size, P(cheese) and P(top-right
                              cell instead) per placement against n (misgeneralisation vs n)

>>> [label for label, _ in resolve_agents("grid-r5-s1,grid-r5-s2")]
['grid-r5-s1', 'grid-r5-s2']
"""

from __future__ import annotations

import fnmatch
import glob
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from ..checkpoint import atomic_write_text, zoo_names
from ..rundir import write_csv
from .sweep import SweepConfig, _aggregate, prepare_sweep, run_units

__all__ = ["by_training_region", "resolve_agents", "run_agent_sweeps"]

#: columns of ``by_training_region.csv``
_BY_N = ("agent", "train_region", "size", "placement", "n")
_BY_N_RATES = ("cheese", "top_right", "neither")

_GLOB = re.compile(r"[*?\[]")


def _label(agent: str) -> str:
    p = Path(agent)
    if agent in zoo_names():
        return agent
    name = p.parent.name if p.name == "model.pt" else p.stem if p.suffix else p.name
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "agent"


def resolve_agents(spec: str | Sequence[str]) -> list[tuple[str, str]]:
    """``(label, agent)`` pairs for comma-separated zoo names, checkpoint paths or globs.

    A glob matches zoo names and paths (``agents/zoo/grid-*/model.pt``); it must match
    something. Labels (the zoo name, or the checkpoint's directory / file stem) must be unique.
    """
    items = [x.strip() for x in spec.split(",")] if isinstance(spec, str) else [str(x).strip() for x in spec]
    items = [x for x in items if x]
    if not items:
        raise ValueError("--agents must name at least one agent (zoo names, paths or globs)")
    agents: list[str] = []
    for it in items:
        if _GLOB.search(it):
            hits = sorted(fnmatch.filter(zoo_names(), it)) + sorted(glob.glob(it))
            if not hits:
                raise ValueError(f"agent glob {it!r} matches no zoo agent and no file; zoo: {zoo_names()}")
            agents.extend(hits)
        else:
            if it not in zoo_names() and not Path(it).exists():
                raise ValueError(f"agent {it!r} is neither a zoo agent {zoo_names()} nor an existing path")
            agents.append(it)
    agents = list(dict.fromkeys(agents))
    labels = [_label(a) for a in agents]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f"agents {agents} give the same label(s) {dup}; name them by distinct paths or zoo names")
    return list(zip(labels, agents))


def by_training_region(rows: Sequence[dict]) -> list[dict]:
    """The rows at the largest swept maze size, sorted by training region side, keeping the
    agent, ``train_region``, placement and the cheese / top-right / neither rates with their
    Wilson intervals; ``[]`` unless the agents span at least two region sizes.

    >>> r = {"size": 25, "placement": "top-left", "n": 4, **{f"{k}_{c}": 0.5 for k in _BY_N_RATES
    ...      for c in ("k", "rate", "lo", "hi")}}
    >>> [x["agent"] for x in by_training_region([{**r, "agent": "a", "train_region": 5},
    ...                                           {**r, "agent": "b", "train_region": 1}])]
    ['b', 'a']
    """
    if len({int(r["train_region"]) for r in rows}) < 2:
        return []
    size = max(int(r["size"]) for r in rows)
    keep = [r for r in rows if int(r["size"]) == size]
    cols = list(_BY_N) + [f"{k}_{c}" for k in _BY_N_RATES for c in ("k", "rate", "lo", "hi")]
    keep.sort(key=lambda r: (int(r["train_region"]), str(r["placement"]), str(r["agent"])))
    return [{c: r[c] for c in cols} for r in keep]


def run_agent_sweeps(
    cfg: SweepConfig,
    agents: Sequence[tuple[str, str]],
    out_dir: str | Path,
    *,
    ray: str | None = None,
    policies: dict | None = None,
) -> dict:
    """Run (or resume) ``cfg``'s sweep for every ``(label, agent)`` into ``out_dir`` (see the
    module docstring); returns the combined summary. ``policies``: ``{label: policy}`` objects
    to use instead of loading the agents (tests). ``ray``: as :func:`agents.sweep.run_sweep`."""
    from . import plots

    if not agents:
        raise ValueError("run_agent_sweeps needs at least one agent")
    out = Path(out_dir)
    jobs = [
        prepare_sweep(replace(cfg, agent=agent), out / "agents" / label,
                      policy=(policies or {}).get(label))
        for label, agent in agents
    ]
    run_units(jobs, ray=ray, progress=cfg.progress)
    rows = []
    for (label, _), job in zip(agents, jobs):
        res = _aggregate(job.cfg, job.out, job.config)
        rows.extend({"agent": label, "train_region": job.train_region, **u} for u in res["units"])
    write_csv(out / "summary.csv", rows)
    plots.phase_transition_agents(rows, out / "phase_transition_agents.png")
    files = ["summary.csv", "summary.json", "phase_transition_agents.png"]
    by_n = by_training_region(rows)
    if by_n:
        write_csv(out / "by_training_region.csv", by_n)
        plots.by_training_region(by_n, out / "by_training_region.png")
        files += ["by_training_region.csv", "by_training_region.png"]
    result = {"agents": dict(agents), "out_dir": str(out), "units": rows, "files": files}
    atomic_write_text(out / "summary.json", json.dumps(result, indent=1))
    return result
