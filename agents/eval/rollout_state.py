"""The bookkeeping of :func:`agents.eval.rollout.rollout`: :class:`RolloutSlots` (the batch's
per-row episode state: level, walls, mouse, step, visits) and :class:`EpisodeRecords` (the
per-episode result arrays, written as episodes end), plus :func:`level_uniforms` (the
per-level sampling streams).
"""

from __future__ import annotations

import numpy as np

from mazegen.levels import Levels

from .untried_moves import MOVES

__all__ = ["level_uniforms", "EpisodeRecords", "RolloutSlots"]


def level_uniforms(seed: int, level_indices: np.ndarray, max_steps: int) -> np.ndarray:
    """``(len(level_indices), max_steps)`` uniforms in [0, 1); row k from the generator
    ``np.random.default_rng([seed, level_indices[k]])``.

    >>> a = level_uniforms(0, np.array([3, 4]), 5); b = level_uniforms(0, np.array([4]), 5)
    >>> bool((a[1] == b[0]).all()), a.shape
    (True, (2, 5))
    """
    out = np.empty((len(level_indices), max_steps), dtype=np.float64)
    for k, i in enumerate(np.asarray(level_indices, dtype=np.int64)):
        out[k] = np.random.default_rng([int(seed), int(i)]).random(max_steps)
    return out


class EpisodeRecords:
    """Per-episode result arrays, filled as episodes end."""

    def __init__(self, n: int, targets: bool, trajectories: bool) -> None:
        self.got = np.zeros(n, bool)
        self.vis_cell = np.zeros(n, bool)
        self.vis_reg = np.zeros(n, bool)
        self.first = np.full(n, "neither", dtype=object)
        self.steps = np.zeros(n, np.int64)
        self.final = np.zeros((n, 2), np.int64)
        self.reached = np.zeros(n, bool) if targets else None
        self.to_tgt = np.full(n, -1, np.int64) if targets else None
        self.trajs: list | None = [None] * n if trajectories else None


class RolloutSlots:
    """The batch: one row per slot, each playing one level (``lvl[k]``, an index into levels).

    Episode state lives here; results are written to :class:`EpisodeRecords` when an episode ends.
    Rows keep their last level index after their episode ended (``live[k]`` False) so that a
    patch always sees valid level indices.
    """

    def __init__(self, lv: Levels, b: int, *, max_steps: int, region: int, tgt, sampling: bool, seed: int,
                 record: bool, untried: bool = False) -> None:
        w = lv.world_size
        self.lv, self.max_steps, self.region, self.tgt_all, self.seed = lv, max_steps, region, tgt, seed
        self.lvl = np.zeros(b, np.int64)
        self.live = np.zeros(b, bool)
        self.walls = np.ones((b, w, w), bool)
        self.cheese = np.full((b, 2), -1, np.int64)
        self.pos = np.zeros((b, 2), np.int64)
        self.t = np.zeros(b, np.int64)
        self.tr = np.zeros((b, 2), np.int64)
        self.reg_r_hi = np.zeros(b, np.int64)
        self.reg_c_lo = np.zeros(b, np.int64)
        self.tgt = np.full((b, 2), -1, np.int64)
        self.u = np.zeros((b, max_steps)) if sampling else None
        self.traj = np.zeros((b, max_steps + 1, 2), np.int16) if record else None
        # (B, W, W, 5): times each move was taken from each cell this episode (untried_moves_first)
        self.tried = np.zeros((b, w, w, len(MOVES)), np.int32) if untried else None

    def subset(self, keep: np.ndarray) -> None:
        for name in ("lvl", "live", "walls", "cheese", "pos", "t", "tr", "reg_r_hi", "reg_c_lo", "tgt", "u", "traj", "tried"):
            a = getattr(self, name)
            if a is not None:
                setattr(self, name, a[keep])

    def load(self, slots: np.ndarray, idx: np.ndarray) -> Levels:
        lv = self.lv
        sub = lv[idx]
        m = lv.margin[idx].astype(np.int64)
        s = lv.maze_size[idx].astype(np.int64)
        r = np.minimum(self.region, s)
        self.lvl[slots] = idx
        self.live[slots] = True
        self.walls[slots] = sub.walls
        self.cheese[slots] = sub.cheese
        self.pos[slots] = sub.mouse
        self.t[slots] = 0
        self.tr[slots] = np.stack([m, m + s - 1], axis=1)
        self.reg_r_hi[slots] = m + r
        self.reg_c_lo[slots] = m + s - r
        if self.tgt_all is not None:
            self.tgt[slots] = self.tgt_all[idx]
        if self.u is not None:
            self.u[slots] = level_uniforms(self.seed, idx, self.max_steps)
        if self.tried is not None:
            self.tried[slots] = 0
        return sub

    def current_levels(self, rows: np.ndarray) -> Levels:
        """The rows' levels with the mouse where it is now (to continue in a fresh env)."""
        lv, idx = self.lv, self.lvl[rows]
        return Levels(walls=self.walls[rows], cheese=self.cheese[rows], mouse=self.pos[rows],
                      maze_size=lv.maze_size[idx], background=lv.background[idx], seed=lv.seed[idx])

    def mark(self, rows: np.ndarray, out: EpisodeRecords) -> None:
        """Record visits of ``rows`` at their current cell and step."""
        p = self.pos[rows]
        gi = self.lvl[rows]
        at_tr = (p[:, 0] == self.tr[rows, 0]) & (p[:, 1] == self.tr[rows, 1])
        new_tr = at_tr & ~out.vis_cell[gi]
        out.vis_cell[gi] |= at_tr
        out.vis_reg[gi] |= (p[:, 0] < self.reg_r_hi[rows]) & (p[:, 1] >= self.reg_c_lo[rows])
        at_ch = (p[:, 0] == self.cheese[rows, 0]) & (p[:, 1] == self.cheese[rows, 1])
        undecided = out.first[gi] == "neither"
        out.first[gi[undecided & at_ch]] = "cheese"
        out.first[gi[undecided & ~at_ch & new_tr]] = "top_right"
        if out.reached is not None:
            at_t = (p[:, 0] == self.tgt[rows, 0]) & (p[:, 1] == self.tgt[rows, 1]) & ~out.reached[gi]
            out.reached[gi[at_t]] = True
            out.to_tgt[gi[at_t]] = self.t[rows[at_t]]
        if self.traj is not None:
            self.traj[rows, self.t[rows]] = p

    def finish(self, rows: np.ndarray, out: EpisodeRecords) -> None:
        gi = self.lvl[rows]
        out.steps[gi] = self.t[rows]
        out.final[gi] = self.pos[rows]
        if self.traj is not None:
            for k in rows:
                out.trajs[self.lvl[k]] = self.traj[k, : self.t[k] + 1].astype(np.int64)
        self.live[rows] = False
