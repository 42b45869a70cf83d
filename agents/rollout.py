"""Batched rollouts: one episode per level, played by a policy in :class:`mazegen.MazeVecEnv`.

:func:`rollout` plays ``levels[i]`` once for every ``i`` (chunks of ``batch_size`` levels, each
chunk in a ``MazeVecEnv`` over a ``FixedLevelSource``) and records per episode whether the
mouse got the cheese, whether it visited the inner maze's top-right cell and top-right
``region x region`` corner, which of cheese / top-right cell came first, the episode length,
an outcome label, optionally whether it reached a given target cell, and optionally the
trajectory.

Determinism. Sampled actions use one uniform per (level, step) drawn from a generator seeded
with ``(seed, level index)``, so a level's episode does not depend on the batch it ran in
(only on the policy's probabilities, which can differ at the 1e-7 level between batch sizes).
Policies without ``action_probs`` (plain ``.act(obs, deterministic, rng)`` objects) get one
generator per chunk instead: deterministic for the same ``batch_size``.

Speed. Each forward pass covers the chunk's unfinished episodes. While the env's frames
carry no hidden state (grid observations and mono frames), the batch is compacted when half
of its rows have finished: the unfinished episodes continue in a fresh env with the mouse where
it was. ``patch(level_indices)`` is a context manager entered around each such segment, with
``level_indices[i]`` the index into ``levels`` of row ``i`` of every forward pass inside it.

>>> import numpy as np
>>> from mazegen import Level, Levels
>>> lvl = Level.from_ascii('''
... #####
... #..C#
... #.###
... #M..#
... #####
... ''')
>>> class UpThenRight:
...     obs = "grid"
...     def act(self, obs, deterministic=False, rng=None):
...         mouse_row = obs[:, 1].max(axis=2).argmax(axis=1)
...         return np.where(mouse_row > 1, 5, 7)
>>> res = rollout(UpThenRight(), Levels.from_list([lvl, lvl]), max_steps=10)
>>> res.got_cheese.tolist(), res.steps.tolist(), res.outcome.tolist()
([True, True], [4, 4], ['cheese', 'cheese'])
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Sequence

import numpy as np

from mazegen.ids import ACTION_DELTAS, MAX_STEPS
from mazegen.level import Level, Levels

__all__ = ["rollout", "RolloutResult", "OUTCOMES", "FIRSTS", "level_uniforms"]

#: Outcome labels: got the cheese / reached the top-right cell without the cheese / neither.
OUTCOMES = ("cheese", "top_right", "neither")
#: Which of cheese / top-right cell the mouse reached first ("cheese" when they coincide).
FIRSTS = ("cheese", "top_right", "neither")


@dataclass
class RolloutResult:
    """Per-episode records of :func:`rollout`; every array has one row per level.

    Attributes:
        got_cheese: ``(N,)`` bool.
        visited_top_right_cell: ``(N,)`` bool, the inner maze's top-right cell was visited.
        visited_top_right_region: ``(N,)`` bool, a cell of the top-right ``region x region``
            corner of the inner maze (``region`` clipped to the maze size) was visited.
        first: ``(N,)`` str, one of :data:`FIRSTS`.
        steps: ``(N,)`` int, the episode's length in steps.
        outcome: ``(N,)`` str, one of :data:`OUTCOMES`.
        final_cell: ``(N, 2)`` int, the mouse's cell when the episode ended.
        reached_target, steps_to_target: ``(N,)`` bool / int (-1 when not reached), only when
            ``targets`` was given (else None).
        trajectories: list of ``(T+1, 2)`` int arrays of visited cells, when recorded.
        levels: the levels played.
    """

    got_cheese: np.ndarray
    visited_top_right_cell: np.ndarray
    visited_top_right_region: np.ndarray
    first: np.ndarray
    steps: np.ndarray
    outcome: np.ndarray
    final_cell: np.ndarray
    levels: Levels
    region: int = 5
    reached_target: np.ndarray | None = None
    steps_to_target: np.ndarray | None = None
    targets: np.ndarray | None = None
    trajectories: list[np.ndarray] | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.got_cheese.shape[0])

    def rates(self) -> dict[str, dict]:
        """Outcome rates with Wilson 95% intervals: ``{name: {"k","n","rate","lo","hi"}}``."""
        from .stats import rate

        out = {
            "got_cheese": rate(self.got_cheese),
            "visited_top_right_cell": rate(self.visited_top_right_cell),
            "visited_top_right_region": rate(self.visited_top_right_region),
            "outcome_top_right": rate(self.outcome == "top_right"),
            "outcome_neither": rate(self.outcome == "neither"),
        }
        if self.reached_target is not None:
            out["reached_target"] = rate(self.reached_target)
        return out

    def to_rows(self) -> list[dict]:
        """One JSON/CSV-friendly dict per episode."""
        lv = self.levels
        tr = lv.top_right_cell
        rows = []
        for i in range(len(self)):
            row = {
                "level": i,
                "level_seed": int(lv.seed[i]),
                "maze_size": int(lv.maze_size[i]),
                "cheese_row": int(lv.cheese[i, 0]),
                "cheese_col": int(lv.cheese[i, 1]),
                "mouse_row": int(lv.mouse[i, 0]),
                "mouse_col": int(lv.mouse[i, 1]),
                "top_right_row": int(tr[i, 0]),
                "top_right_col": int(tr[i, 1]),
                "got_cheese": bool(self.got_cheese[i]),
                "visited_top_right_cell": bool(self.visited_top_right_cell[i]),
                "visited_top_right_region": bool(self.visited_top_right_region[i]),
                "first": str(self.first[i]),
                "outcome": str(self.outcome[i]),
                "steps": int(self.steps[i]),
                "final_row": int(self.final_cell[i, 0]),
                "final_col": int(self.final_cell[i, 1]),
            }
            if self.reached_target is not None:
                row.update(
                    target_row=int(self.targets[i, 0]),
                    target_col=int(self.targets[i, 1]),
                    reached_target=bool(self.reached_target[i]),
                    steps_to_target=int(self.steps_to_target[i]),
                )
            rows.append(row)
        return rows


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


def _as_levels(levels: Levels | Level | Sequence[Level]) -> Levels:
    if isinstance(levels, Levels):
        return levels
    if isinstance(levels, Level):
        return Levels.from_list([levels])
    try:
        return Levels.from_list(list(levels))
    except (TypeError, AttributeError):
        raise ValueError(f"levels must be a mazegen.Levels or a list of Level, got {type(levels).__name__}") from None


def _rgb_style(policy: Any, rgb_style: str | None) -> str:
    if rgb_style is not None:
        return rgb_style
    meta = getattr(policy, "metadata", None) or {}
    if meta.get("rgb_style"):
        return str(meta["rgb_style"])
    return "textured" if meta.get("format") == "procgen-tools" else "mono"


def _check_int(name: str, value: Any, lo: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def rollout(
    policy: Any,
    levels: Levels | Sequence[Level],
    *,
    deterministic: bool = False,
    seed: int = 0,
    max_steps: int = MAX_STEPS,
    batch_size: int = 256,
    region: int = 5,
    targets: np.ndarray | Sequence[Sequence[int]] | None = None,
    stop_on_target: bool = False,
    record_trajectory: bool = False,
    patch: Callable[[np.ndarray], ContextManager] | None = None,
    progress: bool = False,
    rgb_style: str | None = None,
) -> RolloutResult:
    """Play one episode of every level with ``policy``; see the module docstring.

    Args:
        policy: an object with ``.obs`` (``"grid"``/``"rgb"``) and either ``.action_probs(obs)``
            (``(B, 15)``; then sampling uses per-level streams) or
            ``.act(obs, deterministic=..., rng=np.random.Generator)``.
        levels: the levels (``Levels`` or a list of ``Level``).
        deterministic: argmax actions instead of sampling.
        seed: sampling seed.
        max_steps: step cap per episode (procgen: 500).
        batch_size: levels per chunk (rows of a forward pass).
        region: side of the top-right corner region (clipped to each maze's size).
        targets: optional ``(N, 2)`` target cells; records ``reached_target`` and
            ``steps_to_target`` (0 if the mouse starts there).
        stop_on_target: end an episode when the mouse reaches its target.
        record_trajectory: keep each episode's ``(T+1, 2)`` visited cells.
        patch: optional ``patch(level_indices) -> context manager`` entered around every batch
            segment (see the module docstring).
        progress: show a tqdm bar over episodes.
        rgb_style: frame style for rgb policies (default: the policy's metadata, else mono).
    """
    lv = _as_levels(levels)
    n = len(lv)
    if n == 0:
        raise ValueError("rollout needs at least one level")
    max_steps = _check_int("max_steps", max_steps, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    region = _check_int("region", region, 1)
    seed = _check_int("seed", seed, 0)
    obs_kind = getattr(policy, "obs", None)
    if obs_kind not in ("grid", "rgb"):
        raise ValueError(f"policy.obs must be 'grid' or 'rgb', got {obs_kind!r}")
    if patch is not None and not callable(patch):
        raise ValueError(f"patch must be None or a callable level_indices -> context manager, got {patch!r}")
    style = _rgb_style(policy, rgb_style) if obs_kind == "rgb" else "mono"
    w = lv.world_size
    tgt = None
    if targets is not None:
        tgt = np.asarray(targets, dtype=np.int64)
        if tgt.shape != (n, 2):
            raise ValueError(f"targets must have shape ({n}, 2), got {tgt.shape}")
        if tgt.min() < 0 or tgt.max() >= w:
            raise ValueError(f"target cells must lie in [0, {w - 1}], got {tgt[(tgt < 0).any(1) | (tgt >= w).any(1)][0].tolist()}")
    elif stop_on_target:
        raise ValueError("stop_on_target=True needs targets")

    # per-episode results
    got = np.zeros(n, bool)
    vis_cell = np.zeros(n, bool)
    vis_reg = np.zeros(n, bool)
    first = np.full(n, "neither", dtype=object)
    steps = np.zeros(n, np.int64)
    final = np.zeros((n, 2), np.int64)
    reached = np.zeros(n, bool) if tgt is not None else None
    to_tgt = np.full(n, -1, np.int64) if tgt is not None else None
    trajs: list[np.ndarray] | None = [None] * n if record_trajectory else None  # type: ignore[list-item]

    use_probs = hasattr(policy, "action_probs")
    compactable = obs_kind == "grid" or style == "mono"
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="rollout", unit="ep", leave=False)
    deltas = np.asarray(ACTION_DELTAS, dtype=np.int64)
    margin = lv.margin.astype(np.int64)
    size = lv.maze_size.astype(np.int64)
    reg = np.minimum(region, size)
    try:
        for start in range(0, n, batch_size):
            idx = np.arange(start, min(start + batch_size, n))
            _run_chunk(
                policy, lv, idx, w=w, obs_kind=obs_kind, style=style, deterministic=deterministic,
                seed=seed, max_steps=max_steps, tgt=tgt, stop_on_target=stop_on_target,
                patch=patch, use_probs=use_probs, compactable=compactable, deltas=deltas,
                margin=margin, size=size, reg=reg, got=got, vis_cell=vis_cell, vis_reg=vis_reg,
                first=first, steps=steps, final=final, reached=reached, to_tgt=to_tgt, trajs=trajs,
                bar=bar,
            )
    finally:
        if bar is not None:
            bar.close()
    outcome = np.where(got, "cheese", np.where(vis_cell, "top_right", "neither")).astype(object)
    return RolloutResult(
        got_cheese=got,
        visited_top_right_cell=vis_cell,
        visited_top_right_region=vis_reg,
        first=first,
        steps=steps,
        outcome=outcome,
        final_cell=final,
        levels=lv,
        region=region,
        reached_target=reached,
        steps_to_target=to_tgt,
        targets=tgt,
        trajectories=trajs,
        meta={"seed": seed, "deterministic": bool(deterministic), "max_steps": max_steps},
    )


def _run_chunk(policy, lv: Levels, idx: np.ndarray, *, w, obs_kind, style, deterministic, seed, max_steps,
               tgt, stop_on_target, patch, use_probs, compactable, deltas, margin, size, reg, got, vis_cell,
               vis_reg, first, steps, final, reached, to_tgt, trajs, bar) -> None:
    from mazegen.env import FixedLevelSource, MazeVecEnv

    b = len(idx)
    walls = lv.walls[idx]
    cheese = lv.cheese[idx].astype(np.int64)
    pos = lv.mouse[idx].astype(np.int64)
    m = margin[idx]
    tr_cell = np.stack([m, m + size[idx] - 1], axis=1)
    reg_r_hi = m + reg[idx]  # rows in [m, m + reg)
    reg_c_lo = m + size[idx] - reg[idx]  # cols in [m + s - reg, m + s)
    t_chunk = tgt[idx] if tgt is not None else None
    u = None if deterministic or not use_probs else level_uniforms(seed, idx, max_steps)
    chunk_rng = np.random.default_rng([seed, int(idx[0]), 1])
    traj = np.zeros((b, max_steps + 1, 2), np.int16) if trajs is not None else None
    rows = np.arange(b)

    def mark(sel: np.ndarray, t: int) -> None:
        """Update visit flags for rows ``sel`` (chunk-local) whose mouse is at ``pos[sel]`` at step t."""
        p = pos[sel]
        at_tr = (p[:, 0] == tr_cell[sel, 0]) & (p[:, 1] == tr_cell[sel, 1])
        gi = idx[sel]
        new_tr = at_tr & ~vis_cell[gi]
        vis_cell[gi] |= at_tr
        vis_reg[gi] |= (p[:, 0] < reg_r_hi[sel]) & (p[:, 1] >= reg_c_lo[sel])
        at_ch = (p[:, 0] == cheese[sel, 0]) & (p[:, 1] == cheese[sel, 1])
        undecided = first[gi] == "neither"
        first[gi[undecided & at_ch]] = "cheese"
        first[gi[undecided & ~at_ch & new_tr]] = "top_right"
        if t_chunk is not None:
            at_t = (p[:, 0] == t_chunk[sel, 0]) & (p[:, 1] == t_chunk[sel, 1]) & ~reached[gi]
            reached[gi[at_t]] = True
            to_tgt[gi[at_t]] = t
        if traj is not None:
            traj[sel, t] = p

    active = rows.copy()  # chunk-local rows still playing
    mark(active, 0)
    if t_chunk is not None and stop_on_target:
        done0 = reached[idx]
    else:
        done0 = np.zeros(b, bool)
    ended = done0.copy()
    t = 0
    active = rows[~ended]
    while active.size and t < max_steps:
        # a segment: a fresh env over the active rows, mouse where it is now
        seg_levels = Levels(walls=walls[active], cheese=cheese[active], mouse=pos[active],
                            maze_size=lv.maze_size[idx[active]], background=lv.background[idx[active]],
                            seed=lv.seed[idx[active]])
        env = MazeVecEnv(FixedLevelSource(seg_levels), len(active), obs=obs_kind, max_steps=max_steps - t,
                         rgb_style=style)
        obs = env.reset()
        seg_rows = active  # row k of this env is chunk row seg_rows[k]
        live = np.ones(len(seg_rows), bool)
        ctx = patch(idx[seg_rows]) if patch is not None else contextlib.nullcontext()
        with ctx:
            while t < max_steps:
                if use_probs:
                    probs = np.asarray(policy.action_probs(obs), dtype=np.float64)
                    if deterministic:
                        act = probs.argmax(axis=1)
                    else:
                        cdf = np.cumsum(probs, axis=1)
                        uu = u[seg_rows, t] * cdf[:, -1]
                        act = np.minimum((cdf <= uu[:, None]).sum(axis=1), probs.shape[1] - 1)
                else:
                    act = np.asarray(policy.act(obs, deterministic=deterministic, rng=chunk_rng))
                act = act.astype(np.int64).reshape(-1)
                if act.shape != (len(seg_rows),):
                    raise ValueError(f"policy returned {act.shape} actions for a batch of {len(seg_rows)}")
                obs, _rew, term, _trunc, _info = env.step(act)
                t += 1
                sel = seg_rows[live]
                # our own copy of the dynamics (the env auto-resets finished rows)
                p = pos[sel]
                d = deltas[act[live]]
                nr, nc = p[:, 0] + d[:, 0], p[:, 1] + d[:, 1]
                ok = (nr >= 0) & (nr < w) & (nc >= 0) & (nc < w)
                ok[ok] &= ~walls[sel[ok], nr[ok], nc[ok]]
                pos[sel[ok], 0] = nr[ok]
                pos[sel[ok], 1] = nc[ok]
                mark(sel, t)
                gi = idx[sel]
                ate = term[live]
                got[gi[ate]] = True
                stop = ate.copy()
                if t_chunk is not None and stop_on_target:
                    stop |= reached[gi]
                if t >= max_steps:
                    stop[:] = True
                if stop.any():
                    fin = sel[stop]
                    ended[fin] = True
                    steps[idx[fin]] = t
                    final[idx[fin]] = pos[fin]
                    if traj is not None:
                        for r in fin:
                            trajs[idx[r]] = traj[r, : t + 1].astype(np.int64)
                    if bar is not None:
                        bar.update(int(stop.sum()))
                    live[np.flatnonzero(live)[stop]] = False
                n_live = int(live.sum())
                if n_live == 0 or (compactable and n_live <= len(seg_rows) // 2 and n_live >= 1):
                    break
        active = rows[~ended]
    # rows that ended at step 0 (started on their target with stop_on_target)
    for r in rows[done0]:
        steps[idx[r]] = 0
        final[idx[r]] = pos[r]
        if traj is not None:
            trajs[idx[r]] = traj[r, :1].astype(np.int64)
        if bar is not None:
            bar.update(1)
