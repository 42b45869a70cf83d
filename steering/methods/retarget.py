"""Retargeting: clamp cheese-tracking activations at a target cell so the mouse goes there.

``docs/published-agent.md``, section 5: in the published agent, clamping one activation of cheese channel 55
of ``embedder.block2.res1.resadd_out`` at the target's channel cell to +5.5 sends the mouse
to the target; variants clamp a set of channels at a smaller value. Here:

- :func:`retarget_patch` builds the :class:`~steering.patches.Clamp` for a target cell
  (one per level allowed), with ``method`` ``"single"`` (one channel, one activation),
  ``"channels"`` (a given channel set) or ``"discovered"`` (the channels that
  :func:`discover_cheese_channels` finds).
- :func:`discover_cheese_channels` ranks a layer's channels by how well they track the cheese
  (activation at the cheese's activation cell vs elsewhere, over mazes with random cheese
  positions) and validates the top ones causally: per-channel retargeting success on a few
  mazes against the unpatched baseline. No channel list is hard-coded anywhere.

Target cells are world cells ``(row, col)``; the activation cell comes from
:func:`steering.cells.maze_cell_to_act_cell` for the policy's observation kind.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mazegen import Level, Levels
from mazegen.checks import check_int, is_int
from mazegen.levels import as_levels

from ..activations import layer_activations, layer_shape
from ..cells import maze_cell_to_act_cell
from ..patches.edits import Clamp

__all__ = [
    "DEFAULT_MAGNITUDE",
    "EVAL_SEED_OFFSET",
    "METHODS",
    "ChannelRanking",
    "discover_cheese_channels",
    "eval_levels",
    "random_targets",
    "retarget_patch",
]

METHODS = ("single", "channels", "discovered")
#: Published clamp values (``docs/published-agent.md``, section 5): one activation at +5.5, a channel set at +2.3.
DEFAULT_MAGNITUDE = {"single": 5.5, "channels": 2.3, "discovered": 2.3}
#: Level seeds used for steering evaluations start here (training draws seeds uniformly from
#: [0, 2^31 - 1), so any fixed range overlaps with probability ~N / 2^31; we use a high one).
EVAL_SEED_OFFSET = 1_700_000_000


def eval_levels(n: int, *, seed: int, maze_size=None, cheese: str = "uniform", salt: int = 0) -> Levels:
    """``n`` seeded evaluation levels (procgen generator, seeds from :data:`EVAL_SEED_OFFSET`)."""
    from mazegen import generate_levels

    n = check_int("number of mazes", n, 1)
    base = EVAL_SEED_OFFSET + 1_000_003 * int(salt) + 10_007 * int(seed)
    return generate_levels(np.arange(base, base + n, dtype=np.int64), maze_size=maze_size, cheese=cheese)


def random_targets(levels: Levels | Sequence[Level], seed: int, *, min_dist: int = 2) -> np.ndarray:
    """``(N, 2)`` one random open inner cell per level, at least ``min_dist`` steps (BFS) from
    the mouse and not the cheese (seeded)."""
    from mazegen.solvers import bfs_distances

    lv = as_levels(levels)
    rng = np.random.default_rng(seed)
    out = np.zeros((len(lv), 2), np.int64)
    for i, x in enumerate(lv):
        d = np.asarray(bfs_distances(x.walls, x.mouse))
        ok = np.zeros_like(d, dtype=bool)
        ok[x.inner] = True
        ok &= d >= min_dist
        if x.cheese is not None:
            ok[x.cheese] = False
        cells = np.argwhere(ok)
        if len(cells) == 0:
            cells = np.argwhere(d > 0)
        out[i] = cells[rng.integers(len(cells))]
    return out


def _obs_kind(policy: Any) -> str:
    kind = getattr(policy, "obs", None)
    if kind not in ("grid", "rgb"):
        raise ValueError(f"policy.obs must be 'grid' or 'rgb', got {kind!r}")
    return kind


def retarget_patch(
    policy: Any,
    layer: str,
    target_cell,
    *,
    method: str = "single",
    channels: Sequence[int] | None = None,
    magnitude: float | None = None,
    ranking: ChannelRanking | None = None,
    world_size: int | None = None,
) -> Clamp:
    """The Clamp that retargets ``policy`` to ``target_cell``.

    Args:
        target_cell: one world cell ``(row, col)`` or ``(N, 2)`` cells, one per level (the
            patch is then per-level: row b of a forward pass uses its level's target).
        method: ``"single"``: clamp one activation (one channel at the target's activation
            cell); the channel is ``channels[0]`` or else ``ranking.best_single()``.
            ``"channels"``: clamp every channel in ``channels`` there.
            ``"discovered"``: clamp ``ranking.selected`` (run :func:`discover_cheese_channels`
            first and pass its result; ValueError otherwise).
        magnitude: clamp value (default :data:`DEFAULT_MAGNITUDE` of the method).
        world_size: world side in cells (default: the model's input side for grid agents,
            25 for rgb agents).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    shape = layer_shape(policy, layer)
    if len(shape) != 3:
        raise ValueError(f"retargeting needs a conv layer (C, H, W); {layer!r} has shape {shape}")
    if method == "single":
        if channels:
            chans = [channels[0]]
        elif ranking is not None:
            chans = [ranking.best_single()]
        else:
            raise ValueError("method='single' needs channels=[c] or a ranking from discover_cheese_channels")
    elif method == "channels":
        if not channels:
            raise ValueError("method='channels' needs a non-empty channels list")
        chans = list(channels)
    else:
        if ranking is None:
            raise ValueError("method='discovered' needs ranking=discover_cheese_channels(policy, layer, ...)")
        if ranking.layer != layer:
            raise ValueError(f"ranking is for layer {ranking.layer!r}, not {layer!r}")
        chans = list(ranking.selected)
    bad = [c for c in chans if not is_int(c) or not 0 <= c < shape[0]]
    if bad:
        raise ValueError(f"channels {bad} out of range [0, {shape[0] - 1}] for layer {layer!r}")
    chans = [int(c) for c in chans]
    mag = DEFAULT_MAGNITUDE[method] if magnitude is None else float(magnitude)
    t = np.asarray(target_cell, dtype=np.int64)
    kind = _obs_kind(policy)
    if world_size is None:
        world_size = int(policy.model.obs_size) if kind == "grid" else 25
    if t.shape == (2,):
        cell = maze_cell_to_act_cell(t, layer_shape=shape, obs_kind=kind, world_size=world_size)
        return Clamp(layer, chans, [cell], mag)
    if t.ndim != 2 or t.shape[1] != 2:
        raise ValueError(f"target_cell must be (row, col) or (N, 2), got shape {t.shape}")
    cells = [maze_cell_to_act_cell(c, layer_shape=shape, obs_kind=kind, world_size=world_size) for c in t]
    return Clamp(layer, chans, cells, mag, per_level=True)


@dataclass
class ChannelRanking:
    """Channels of ``layer`` ranked by cheese tracking (best first).

    ``scores[k]`` is the effect size of channel ``channels[k]``: (mean activation at the
    cheese's activation cell - mean activation at the other cells of the inner maze) divided
    by the channel's activation standard deviation, over ``n_mazes`` mazes. ``hit_rate[k]``:
    fraction of mazes where the channel's argmax over the inner maze is the cheese's cell.
    ``causal`` maps each validated channel to its retargeting success rate (Rate dict) at
    ``magnitude``; ``baseline`` is the unpatched rate on the same mazes and targets.
    ``selected``: validated channels whose success beats the baseline's Wilson upper bound
    (else the single best-scoring channel).
    """

    layer: str
    channels: list[int]
    scores: list[float]
    hit_rate: list[float]
    n_mazes: int
    causal: dict[int, dict] = field(default_factory=dict)
    baseline: dict | None = None
    magnitude: float | None = None
    selected: list[int] = field(default_factory=list)
    #: mean activation at the cheese's cell and the 99th percentile of all activations, per
    #: ranked channel: a scale for choosing clamp magnitudes (published values assume the
    #: published agent's scale)
    cheese_act: list[float] = field(default_factory=list)
    act_p99: list[float] = field(default_factory=list)

    def top(self, k: int) -> list[int]:
        return list(self.channels[:k])

    def best_single(self) -> int:
        """The channel with the highest validated retargeting success (ties: better score);
        the best-scoring channel when nothing was validated."""
        if not self.causal:
            return int(self.channels[0])
        return int(max(self.causal, key=lambda c: (self.causal[c]["rate"], -self.channels.index(c))))

    def to_json(self) -> dict:
        return {
            "layer": self.layer,
            "channels": [int(c) for c in self.channels],
            "scores": [float(s) for s in self.scores],
            "hit_rate": [float(h) for h in self.hit_rate],
            "n_mazes": self.n_mazes,
            "causal": {str(k): v for k, v in self.causal.items()},
            "baseline": self.baseline,
            "magnitude": self.magnitude,
            "selected": [int(c) for c in self.selected],
            "cheese_act": [float(v) for v in self.cheese_act],
            "act_p99": [float(v) for v in self.act_p99],
        }

    @classmethod
    def from_json(cls, d: dict) -> ChannelRanking:
        return cls(
            layer=d["layer"], channels=list(d["channels"]), scores=list(d["scores"]),
            hit_rate=list(d["hit_rate"]), n_mazes=int(d["n_mazes"]),
            causal={int(k): v for k, v in d.get("causal", {}).items()}, baseline=d.get("baseline"),
            magnitude=d.get("magnitude"), selected=list(d.get("selected", [])),
            cheese_act=list(d.get("cheese_act", [])), act_p99=list(d.get("act_p99", [])),
        )

    @classmethod
    def cached(cls, path: str | os.PathLike, compute: Callable[[], ChannelRanking | None]) -> ChannelRanking | None:
        """The ranking saved at ``path`` (a run directory's ``ranking.json``), or ``compute()``
        saved there atomically; a ``compute()`` of None (no method needs a ranking) saves nothing."""
        from agents.rundir import write_json

        path = Path(path)
        if path.exists():
            return cls.from_json(json.loads(path.read_text()))
        ranking = compute()
        if ranking is not None:
            write_json(path, ranking.to_json(), indent=1)
        return ranking


def _tracking_scores(acts: np.ndarray, lv: Levels, shape, kind: str) -> tuple[np.ndarray, ...]:
    """Per-channel effect size, argmax hit rate and mean activation at the cheese's cell."""
    n, c, h, w = acts.shape
    ws = lv.world_size
    at = np.zeros((n, c))
    rest = np.zeros((n, c))
    hits = np.zeros(c)
    for i in range(n):
        x = lv[i]
        ci, cj = maze_cell_to_act_cell(x.cheese, layer_shape=shape, obs_kind=kind, world_size=ws)
        # activation cells that the inner maze maps to
        m, s = x.margin, x.maze_size
        r0, c0 = maze_cell_to_act_cell((m, m), layer_shape=shape, obs_kind=kind, world_size=ws)
        r1, c1 = maze_cell_to_act_cell((m + s - 1, m + s - 1), layer_shape=shape, obs_kind=kind, world_size=ws)
        region = np.zeros((h, w), bool)
        region[r0 : r1 + 1, c0 : c1 + 1] = True
        region[ci, cj] = False
        a = acts[i]
        at[i] = a[:, ci, cj]
        rest[i] = a[:, region].mean(1) if region.any() else a[:, ci, cj]
        region[ci, cj] = True
        flat = np.where(region[None], a, -np.inf).reshape(c, -1)
        hits += flat.argmax(1) == ci * w + cj
    sd = acts.transpose(1, 0, 2, 3).reshape(c, -1).std(1)
    sd = np.maximum(sd, 1e-3 * float(acts.std()) + 1e-6)  # floor: constant channels score ~0
    return (at - rest).mean(0) / sd, hits / n, at.mean(0)


def discover_cheese_channels(
    policy: Any,
    layer: str,
    *,
    n_mazes: int = 200,
    seed: int = 0,
    maze_size: int | None = None,
    validate_top: int = 6,
    validate_mazes: int = 12,
    magnitude: float | None = None,
    max_steps: int = 100,
) -> ChannelRanking:
    """Rank ``layer``'s channels by cheese tracking, then validate the best causally.

    1. ``n_mazes`` levels (seeded) with the cheese uniform over the maze and the mouse at the
       start; score each channel (see :class:`ChannelRanking`).
    2. For the ``validate_top`` best channels: clamp that one channel at a random target's
       activation cell (cheese removed) on ``validate_mazes`` mazes and measure how often the
       mouse reaches the target within ``max_steps``, against the unpatched baseline.
    """
    from ..metrics import retarget_success_batch

    n_mazes = check_int("n_mazes", n_mazes, 2)
    shape = layer_shape(policy, layer)
    if len(shape) != 3:
        raise ValueError(f"discovery needs a conv layer (C, H, W); {layer!r} has shape {shape}")
    kind = _obs_kind(policy)
    lv = eval_levels(n_mazes, seed=seed, maze_size=maze_size, cheese="uniform", salt=1)
    keep = [x.replace(mouse=x.start_cell) for x in lv if x.cheese is not None and x.cheese != x.start_cell]
    lv = Levels.from_list(keep)
    acts = layer_activations(policy, lv, layer).numpy()
    scores, hits, at_cheese = _tracking_scores(acts, lv, shape, kind)
    p99 = np.percentile(acts.transpose(1, 0, 2, 3).reshape(acts.shape[1], -1), 99, axis=1)
    order = np.argsort(-scores, kind="stable")
    ranking = ChannelRanking(
        layer=layer, channels=[int(c) for c in order], scores=[float(scores[c]) for c in order],
        hit_rate=[float(hits[c]) for c in order], n_mazes=len(lv),
        cheese_act=[float(at_cheese[c]) for c in order], act_p99=[float(p99[c]) for c in order],
    )
    if validate_top <= 0 or validate_mazes <= 0:
        ranking.selected = ranking.top(1)
        return ranking
    vl = eval_levels(validate_mazes, seed=seed, maze_size=maze_size, cheese="none", salt=2)
    targets = random_targets(vl, seed)
    mag = DEFAULT_MAGNITUDE["single"] if magnitude is None else float(magnitude)
    ranking.magnitude = mag
    top = ranking.top(validate_top)
    variants = [(vl, targets, None, False)] + [
        (vl, targets, retarget_patch(policy, layer, targets, method="single", channels=[c], magnitude=mag,
                                     world_size=vl.world_size), False)
        for c in top
    ]
    rates = retarget_success_batch(policy, variants, max_steps=max_steps, seed=seed)
    base = rates[0]
    ranking.baseline = base.to_dict()
    for c, r in zip(top, rates[1:]):
        ranking.causal[c] = r.to_dict()
    ub = base.hi if not math.isnan(base.hi) else 0.0
    ranking.selected = [c for c in ranking.top(validate_top) if ranking.causal[c]["rate"] > ub]
    if not ranking.selected:
        ranking.selected = ranking.top(1)
    return ranking
