"""Placement sweeps: how often does the agent get the cheese, by maze size and cheese placement?

A sweep is a grid of *units* ``(maze size, placement)``. Each unit plays ``mazes`` fresh mazes
of that size once each (one :func:`agents.eval.rollout.rollout`) and records outcome rates with
Wilson 95% intervals. The placement ``every-cell`` instead puts the cheese on every open cell
of every maze (except the mouse's start), giving a P(cheese) heatmap per size.

Level seeds. Training levels come from procgen-style seeds in ``[0, 1e9)`` (the zoo's cards
evaluate on ``1e9, 1e9+1, ...``). Sweep mazes use ``SWEEP_SEED_BASE + seed * 100_000 + i``
for ``i < mazes`` with ``SWEEP_SEED_BASE = 3_000_000_000``: disjoint from both. Within a size
every placement uses the *same* mazes (paired comparisons); sizes differ because the forced
maze size changes the generator's draws.

Outputs in the run directory (every file written atomically):

- ``config.json``: the sweep's arguments plus the agent's fingerprint. Re-running into the
  same directory with different arguments (or a different agent) is an error.
- ``units/<size>_<placement>.csv`` / ``.json``: per-episode rows and the unit's summary. A
  unit whose JSON exists is finished and is skipped on re-runs (resumable).
- ``episodes.csv``, ``summary.csv``, ``summary.json``, ``every_cell.csv``.
- ``phase_transition.png``, ``every_cell_<size>.png``, ``examples.png``.

>>> SweepConfig(agent="x", sizes=(25,), placements=("top-left",), mazes=4).unit_names()
['25_top-left']

What a sweep spans (sizes, placements, level seeds) is parsed in :mod:`~agents.eval.sweep_axes`.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mazegen.checks import check_int, check_optional_int, is_int
from mazegen.constants import WORLD_SIZE
from mazegen.levels import Levels
from mazegen.placement import AtCell, parse_placement

from ..checkpoint import atomic_write_text
from ..rundir import open_run, read_csv, unit_stem, write_csv
from .rollout import rollout
from .stats import Rate
from .sweep_axes import (
    DEFAULT_PLACEMENTS,
    SIZES_ALL,
    SWEEP_SEED_BASE,
    in_training_region,
    level_seeds,
    parse_placements,
    parse_sizes,
)

__all__ = [
    "SweepConfig",
    "run_sweep",
    "unit_name",
    "prepare_sweep",
    "agent_train_region",
    "run_units",
    "SweepJob",
]

#: Config fields that do not change results (allowed to differ between runs into one dir).
_NON_RESULT_FIELDS = ("progress", "threads")


@dataclass
class SweepConfig:
    """A placement sweep (see the module docstring).

    Attributes:
        agent: checkpoint path or zoo name (informational when a policy object is passed).
        sizes: odd maze sizes in [3, 25].
        placements: cheese placements (``every-cell`` or any cheese spec string).
        mazes: mazes per (size, placement) unit; for ``every-cell`` mazes per size, each
            played with the cheese on every open cell.
        seed: selects the level seeds and the sampling streams.
        greedy: argmax actions instead of sampling.
        max_steps: episode cap (procgen: 500).
        batch_size: rollout batch size.
        region: side of the top-right region counted as ``visited_top_right_region``.
        train_region: the agent's training region (for marking placements); None = from the
            agent's metadata, else 5.
        fast: fast forward passes (channels_last, bf16 where the CPU does it in hardware:
            :func:`agents.model.fast_inference`; outcome rates are unaffected in expectation).
        examples: trajectories kept per unit for the example figure.
        threads: torch threads for the sweep (default 1: on 2 cores, one thread was ~3x faster
            than two on an idle machine and 30x faster on a loaded one; None = leave torch's
            setting).
        progress: tqdm progress bar.
    """

    agent: str
    sizes: tuple[int, ...] = SIZES_ALL
    placements: tuple[str, ...] = DEFAULT_PLACEMENTS
    mazes: int = 100
    seed: int = 0
    greedy: bool = False
    max_steps: int = 500
    batch_size: int = 256
    region: int = 5
    train_region: int | None = None
    fast: bool = True
    examples: int = 2
    threads: int | None = 1
    progress: bool = False

    def __post_init__(self) -> None:
        self.sizes = parse_sizes(self.sizes)
        self.placements = parse_placements(self.placements)
        level_seeds(self.seed, self.mazes)  # validates seed and mazes
        for name, lo in (("max_steps", 1), ("batch_size", 1), ("region", 1), ("examples", 0)):
            setattr(self, name, check_int(name, getattr(self, name), lo))
        self.train_region = check_optional_int("train_region", self.train_region, 1)
        self.threads = check_optional_int("threads", self.threads, 1)
        self._check_unit_levels()

    def _check_unit_levels(self) -> None:
        """Build the mazes of every unit whose placement can fail on some maze (``cell:R,C``),
        so that a cell on a wall is refused before any unit runs or any file is written."""
        from mazegen.procgen.generate import generate_levels

        seeds = level_seeds(self.seed, self.mazes)
        for placement in self.placements:
            if placement == "every-cell" or not isinstance(parse_placement(placement), AtCell):
                continue
            for size in self.sizes:
                try:
                    generate_levels(seeds, maze_size=size, cheese=placement)
                except ValueError as e:
                    raise ValueError(f"sweep unit {unit_name(size, placement)}: {e}") from None

    def unit_names(self) -> list[str]:
        return [unit_name(s, p) for s in self.sizes for p in self.placements]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        d["placements"] = list(self.placements)
        return d


def unit_name(size: int, placement: str) -> str:
    """File stem of a unit: ``"25_region-5"``."""
    return unit_stem(size, placement)


def _unit_seed(seed: int, size: int, placement: str) -> int:
    return zlib.crc32(f"{seed}|{size}|{placement}".encode()) & 0x7FFFFFFF


def _every_cell_levels(base: Levels) -> tuple[Levels, np.ndarray]:
    """Every maze of ``base`` once per open inner cell (not the mouse's): levels + maze index."""
    walls, cheese, mouse, size, bg, seeds, owner = [], [], [], [], [], [], []
    for i in range(len(base)):
        lvl = base[i]
        cells = np.argwhere(~lvl.walls)
        cells = cells[~((cells[:, 0] == lvl.mouse[0]) & (cells[:, 1] == lvl.mouse[1]))]
        k = len(cells)
        walls.append(np.broadcast_to(base.walls[i], (k, *base.walls.shape[1:])))
        cheese.append(cells)
        mouse.append(np.broadcast_to(base.mouse[i], (k, 2)))
        size.append(np.full(k, base.maze_size[i]))
        bg.append(np.full(k, base.background[i]))
        seeds.append(np.full(k, base.seed[i]))
        owner.append(np.full(k, i))
    lv = Levels(walls=np.concatenate(walls), cheese=np.concatenate(cheese), mouse=np.concatenate(mouse),
                maze_size=np.concatenate(size), background=np.concatenate(bg), seed=np.concatenate(seeds))
    return lv, np.concatenate(owner)


def _rate_cols(prefix: str, hits: np.ndarray) -> dict:
    """A unit row's columns of one outcome: ``prefix_k, prefix_rate, prefix_lo, prefix_hi`` (n is shared)."""
    return Rate.of_hits(hits).columns(prefix, rate_col=f"{prefix}_rate", n_col=None)


def _run_unit(policy, cfg: SweepConfig, size: int, placement: str, train_region: int) -> tuple[list[dict], dict]:
    from mazegen.procgen.generate import generate_levels

    seeds = level_seeds(cfg.seed, cfg.mazes)
    every = placement == "every-cell"
    base = generate_levels(seeds, maze_size=size, cheese="uniform" if every else placement)
    if every:
        levels, owner = _every_cell_levels(base)
    else:
        levels, owner = base, np.arange(len(base))
    n_keep = 0 if every else min(cfg.examples, len(levels))
    res = rollout(policy, levels, deterministic=cfg.greedy, seed=_unit_seed(cfg.seed, size, placement),
                  max_steps=cfg.max_steps, batch_size=cfg.batch_size, region=cfg.region,
                  record_trajectory=n_keep > 0, progress=cfg.progress and len(levels) > cfg.batch_size)
    rows = res.to_rows()
    for r, o in zip(rows, owner):
        r.update(size=size, placement=placement, maze=int(o))
        del r["level"]
    summary = {
        "size": size,
        "placement": placement,
        "in_training_region": in_training_region(placement, size, train_region),
        "n": len(res),
        "mazes": int(len(base)),
        **_rate_cols("cheese", res.got_cheese),
        **_rate_cols("top_right", res.outcome == "top_right"),
        **_rate_cols("neither", res.outcome == "neither"),
        **_rate_cols("visited_top_right_cell", res.visited_top_right_cell),
        **_rate_cols("visited_top_right_region", res.visited_top_right_region),
        "mean_steps": float(np.mean(res.steps)),
    }
    examples = []
    for i in range(n_keep):
        examples.append({"level": levels[i].to_dict(), "cheese": list(map(int, levels.cheese[i])),
                         "trajectory": res.trajectories[i].tolist(), "outcome": str(res.outcome[i])})
    summary["examples"] = examples
    return rows, summary


def _train_region(policy: Any, cfg: SweepConfig) -> int:
    if cfg.train_region is not None:
        return cfg.train_region
    return agent_train_region(policy)


def agent_train_region(policy: Any) -> int:
    """The side of the top-right cheese region ``policy`` was trained on, from its metadata or
    card (``cheese_region`` / ``train_region`` / ``rand_region``), else 5."""
    meta = getattr(policy, "metadata", None) or {}
    card = meta.get("card") or {}
    sources = (meta, card, card.get("config") if isinstance(card, dict) else None, meta.get("config"),
               meta.get("train_config"))
    for src in sources:
        if isinstance(src, dict):
            for key in ("cheese_region", "train_region", "rand_region"):
                v = src.get(key)
                if is_int(v) and v >= 1:
                    return int(v)
    return 5


def run_sweep(cfg: SweepConfig, out_dir: str | Path, *, policy: Any = None, ray: str | None = None) -> dict:
    """Run (or resume) the sweep into ``out_dir``; returns the summary dict (also in
    ``summary.json``): ``{"config", "out_dir", "units": [summary rows], "files": [...]}``.

    ``policy``: a policy object to use instead of loading ``cfg.agent``. ``ray``: run the
    units as Ray tasks (an address for :func:`agents.cluster.init_ray`; None = here). The
    files are byte-identical either way.
    """
    job = prepare_sweep(cfg, out_dir, policy=policy)
    run_units([job], ray=ray, progress=cfg.progress)
    return _aggregate(cfg, job.out, job.config)


@dataclass
class SweepJob:
    """One agent's sweep, ready to run: its config, policy, run directory, the config dict
    stored there and its unfinished units ``[(size, placement)]``."""

    cfg: SweepConfig
    policy: Any
    out: Path
    config: dict
    todo: list
    train_region: int


def prepare_sweep(cfg: SweepConfig, out_dir: str | Path, *, policy: Any = None) -> SweepJob:
    """Load the agent, create ``out_dir`` (or check that the sweep there has the same
    arguments) and list the units still to run."""
    if not isinstance(cfg, SweepConfig):
        raise ValueError(f"cfg must be a SweepConfig, got {type(cfg).__name__}")
    if policy is None:
        from ..checkpoint import load

        policy = load(cfg.agent, fast=cfg.fast)
    if cfg.threads is not None:
        import torch

        torch.set_num_threads(cfg.threads)
    train_region = _train_region(policy, cfg)
    want = {**cfg.to_dict(), "train_region_used": train_region, "level_seed_base": SWEEP_SEED_BASE}
    out = open_run(out_dir, want, policy=policy, ignore=_NON_RESULT_FIELDS)
    want = json.loads((out / "config.json").read_text())
    units_dir = out / "units"
    units_dir.mkdir(exist_ok=True)
    todo = [(s, p) for s in cfg.sizes for p in cfg.placements
            if not (units_dir / f"{unit_name(s, p)}.json").exists()]
    return SweepJob(cfg, policy, out, want, todo, train_region)


def _unit_task(policy, cfg: SweepConfig, size: int, placement: str, train_region: int) -> tuple[list[dict], dict]:
    """One unit, wherever it runs (here or in a Ray worker): sets torch's threads first."""
    if cfg.threads is not None:
        import torch

        torch.set_num_threads(cfg.threads)
    return _run_unit(policy, cfg, size, placement, train_region)


def run_units(jobs: Sequence[SweepJob], *, ray: str | None = None, progress: bool = False) -> None:
    """Run every unfinished unit of ``jobs`` (here, or as Ray tasks); the driver writes each
    unit's CSV and JSON as its result arrives."""
    from ..cluster import map_units

    units, where = [], []
    for job in jobs:
        for size, placement in job.todo:
            units.append((job.policy, job.cfg, size, placement, job.train_region))
            where.append(job.out / "units" / unit_name(size, placement))
    total = sum(len(j.cfg.sizes) * len(j.cfg.placements) for j in jobs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=total - len(units), desc="sweep units", unit="unit")

    def write(i: int, result: tuple[list[dict], dict]) -> None:
        rows, summary = result
        write_csv(where[i].with_suffix(".csv"), rows)
        atomic_write_text(where[i].with_suffix(".json"), json.dumps(summary, indent=1))
        if bar is not None:
            bar.update(1)

    try:
        map_units(_unit_task, units, ray=ray, on_result=write)
    finally:
        if bar is not None:
            bar.close()


def _aggregate(cfg: SweepConfig, out: Path, config: dict) -> dict:
    from . import plots

    summaries, episodes = [], []
    for size in cfg.sizes:
        for placement in cfg.placements:
            stem = out / "units" / unit_name(size, placement)
            summaries.append(json.loads(stem.with_suffix(".json").read_text()))
            episodes.extend(read_csv(stem.with_suffix(".csv")))
    write_csv(out / "episodes.csv", episodes)
    table = [{k: v for k, v in s.items() if k != "examples"} for s in summaries]
    write_csv(out / "summary.csv", table)
    files = ["config.json", "episodes.csv", "summary.csv", "summary.json"]

    heat = {}
    if "every-cell" in cfg.placements:
        cells = []
        for size in cfg.sizes:
            rows = [e for e in episodes if e["placement"] == "every-cell" and int(e["size"]) == size]
            grid_n = np.zeros((WORLD_SIZE["hard"],) * 2, np.int64)
            grid_k = np.zeros((WORLD_SIZE["hard"],) * 2, np.int64)
            for e in rows:
                r, c = int(e["cheese_row"]), int(e["cheese_col"])
                grid_n[r, c] += 1
                grid_k[r, c] += e["got_cheese"] == "True"
            heat[size] = (grid_k, grid_n)
            for r, c in np.argwhere(grid_n > 0):
                cells.append({"size": size, "row": int(r), "col": int(c),
                              **Rate.of(int(grid_k[r, c]), int(grid_n[r, c])).to_dict()})
        write_csv(out / "every_cell.csv", cells, ["size", "row", "col", "n", "k", "rate", "lo", "hi"])
        files.append("every_cell.csv")
        for size, (k, n) in heat.items():
            name = f"every_cell_{size}.png"
            plots.every_cell_heatmap(k, n, size, out / name, title=f"P(cheese) by cheese cell, {size}x{size} mazes")
            files.append(name)
    plots.phase_transition(table, out / "phase_transition.png", train_region=config["train_region_used"])
    files.append("phase_transition.png")
    examples = [(s["size"], s["placement"], ex) for s in summaries for ex in s.get("examples", [])]
    if examples:
        biggest = max(cfg.sizes)
        chosen = [e for e in examples if e[0] == biggest][:8] or examples[:8]
        plots.example_mazes(chosen, out / "examples.png")
        files.append("examples.png")
    result = {"config": config, "out_dir": str(out), "units": table, "files": files}
    atomic_write_text(out / "summary.json", json.dumps(result, indent=1))
    return result
