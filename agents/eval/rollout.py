"""Batched rollouts: one episode per level, played by a policy in :class:`mazegen.MazeVecEnv`.

:func:`rollout` plays ``levels[i]`` once for every ``i`` and records per episode whether the
mouse got the cheese, whether it visited the inner maze's top-right cell and top-right
``region x region`` corner, which of cheese / top-right cell came first, the episode length,
an outcome label, optionally whether it reached a given target cell, and optionally the
trajectory.

Batching. A pool of ``batch_size`` rows plays in one ``MazeVecEnv``; a row whose episode ends
is refilled with the next unplayed level (``set_levels``), so forward passes stay full. When no
level is left, rows that finished are ignored, and (for frames without hidden state: grid and
mono rgb) the pool shrinks to the unfinished episodes whenever half of it has finished: they
continue in a fresh env with the mouse where it was.

Patches. ``patch(level_indices) -> context manager`` is entered around every stretch of forward
passes during which the rows' levels do not change; ``level_indices[i]`` is the index into
``levels`` of row ``i`` of every forward pass inside (rows whose episode ended keep their last
level's index). Agents never import ``steering``: it passes its hook contexts through this.

Greedy, untried move first (an evaluation option, not a change to the agent). A greedy
(argmax) policy whose observation depends only on the mouse's cell loops forever once it
revisits a cell. With ``untried_moves_first=True`` (needs ``deterministic=True`` and a policy
with ``action_probs``) each step groups the 15 actions by the move they make (up, down, left,
right; staying and moves into a wall, both visible in the observation, are never chosen) and
takes, among the open moves **taken least often from this cell so far in this episode**, the
most probable one (as that move's most probable action). On a first visit this is the plain
argmax (unless that bumps a wall); on later visits it skips what was already tried, in the
policy's order, so a loop is left instead of repeated (a rotor walk ordered by the policy,
which reaches every reachable cell eventually).

Determinism. Sampled actions use one uniform per (level, step) drawn from a generator seeded
with ``(seed, level index)``, so a level's episode does not depend on the batch it ran in
(only on the policy's probabilities, which can differ at the 1e-7 level between batch
compositions). Policies without ``action_probs`` (plain ``.act(obs, deterministic, rng)``
objects) get one generator for the whole rollout instead: deterministic for the same
``batch_size``.

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
from typing import Any, Callable, ContextManager, Sequence

import numpy as np

from mazegen.checks import check_int
from mazegen.constants import ACTION_DELTAS, MAX_STEPS
from mazegen.level import Level
from mazegen.levels import Levels, as_levels

from ..policy import rgb_style as rgb_style_of
from .rollout_result import FIRSTS, OUTCOMES, RolloutResult
from .rollout_state import EpisodeRecords, RolloutSlots, level_uniforms
from .untried_moves import untried_argmax

__all__ = ["rollout", "RolloutResult", "OUTCOMES", "FIRSTS", "level_uniforms"]


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
    untried_moves_first: bool = False,
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
        batch_size: rows of a forward pass (levels played at once).
        region: side of the top-right corner region (clipped to each maze's size).
        targets: optional ``(N, 2)`` target cells; records ``reached_target`` and
            ``steps_to_target`` (0 if the mouse starts there).
        stop_on_target: end an episode when the mouse reaches its target.
        record_trajectory: keep each episode's ``(T+1, 2)`` visited cells.
        patch: optional ``patch(level_indices) -> context manager`` (see the module docstring).
        progress: show a tqdm bar over episodes.
        rgb_style: frame style for rgb policies (default: :func:`agents.policy.rgb_style`, the
            checkpoint's recorded style, else procgen's textured frame).
        untried_moves_first: with ``deterministic=True``, the greedy evaluation option of the
            module docstring (skip moves already taken from the current cell).
    """
    lv = as_levels(levels)
    n = len(lv)
    if n == 0:
        raise ValueError("rollout needs at least one level")
    max_steps = check_int("max_steps", max_steps, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    region = check_int("region", region, 1)
    seed = check_int("seed", seed, 0)
    obs_kind = getattr(policy, "obs", None)
    if obs_kind not in ("grid", "rgb"):
        raise ValueError(f"policy.obs must be 'grid' or 'rgb', got {obs_kind!r}")
    if patch is not None and not callable(patch):
        raise ValueError(f"patch must be None or a callable level_indices -> context manager, got {patch!r}")
    if untried_moves_first and not (deterministic and hasattr(policy, "action_probs")):
        raise ValueError(
            "untried_moves_first=True needs deterministic=True and a policy with action_probs"
        )
    style = rgb_style_of(policy, rgb_style) if obs_kind == "rgb" else "mono"
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

    out = EpisodeRecords(n, tgt is not None, record_trajectory)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="rollout", unit="ep", leave=False)
    try:
        _play(policy, lv, out, w=w, obs_kind=obs_kind, style=style, deterministic=deterministic, seed=seed,
              max_steps=max_steps, batch_size=batch_size, region=region, tgt=tgt, stop_on_target=stop_on_target,
              patch=patch, bar=bar, untried=bool(untried_moves_first))
    finally:
        if bar is not None:
            bar.close()
    outcome = np.where(out.got, "cheese", np.where(out.vis_cell, "top_right", "neither")).astype(object)
    return RolloutResult(
        got_cheese=out.got,
        visited_top_right_cell=out.vis_cell,
        visited_top_right_region=out.vis_reg,
        first=out.first,
        steps=out.steps,
        outcome=outcome,
        final_cell=out.final,
        levels=lv,
        region=region,
        reached_target=out.reached,
        steps_to_target=out.to_tgt,
        targets=tgt,
        trajectories=out.trajs,
        meta={"seed": seed, "deterministic": bool(deterministic), "max_steps": max_steps,
              "untried_moves_first": bool(untried_moves_first)},
    )


def _play(policy, lv: Levels, out: EpisodeRecords, *, w, obs_kind, style, deterministic, seed, max_steps, batch_size,
          region, tgt, stop_on_target, patch, bar, untried=False) -> None:
    """Play every level once with a pool of ``batch_size`` rows, refilling finished rows with
    the next unplayed level; when none are left, shrink the pool as it empties (if the frames
    carry no hidden state)."""
    from mazegen.env import MazeVecEnv
    from mazegen.level_source import FixedLevelSource

    n = len(lv)
    use_probs = hasattr(policy, "action_probs")
    sampling = use_probs and not deterministic
    compactable = obs_kind == "grid" or style == "mono"
    deltas = np.asarray(ACTION_DELTAS, dtype=np.int64)
    act_rng = np.random.default_rng([seed, 1])
    b = min(batch_size, n)
    sl = RolloutSlots(lv, b, max_steps=max_steps, region=region, tgt=tgt, sampling=sampling, seed=seed,
                record=out.trajs is not None, untried=untried)
    nxt = 0

    def start(slots: np.ndarray) -> np.ndarray:
        """Load the next levels into ``slots``; returns the slots that actually got one.
        Episodes that end at step 0 (start on the target with stop_on_target) are finished
        right away and their slots refilled."""
        nonlocal nxt
        filled = []
        while slots.size and nxt < n:
            k = min(slots.size, n - nxt)
            use, slots = slots[:k], slots[k:]
            sl.load(use, np.arange(nxt, nxt + k))
            nxt += k
            sl.mark(use, out)
            if stop_on_target and out.reached is not None:
                done0 = use[out.reached[sl.lvl[use]]]
                if done0.size:
                    sl.finish(done0, out)
                    if bar is not None:
                        bar.update(int(done0.size))
                    slots = np.concatenate([slots, done0])
                    use = use[~np.isin(use, done0)]
            filled.append(use)
        return np.concatenate(filled) if filled else np.zeros(0, np.int64)

    start(np.arange(b))
    env = MazeVecEnv(FixedLevelSource(sl.current_levels(np.arange(b))), b, obs=obs_kind, max_steps=max_steps,
                     rgb_style=style)
    obs = env.reset()
    with contextlib.ExitStack() as stack:
        ctx_key = None
        while sl.live.any():
            if patch is not None and ctx_key != sl.lvl.tobytes():
                stack.close()
                stack.enter_context(patch(sl.lvl.copy()))
                ctx_key = sl.lvl.tobytes()
            rows = np.flatnonzero(sl.live)
            if use_probs:
                probs = np.asarray(policy.action_probs(obs), dtype=np.float64)
                if untried:
                    act = untried_argmax(probs, sl.pos, sl.walls, sl.tried)
                elif deterministic:
                    act = probs.argmax(axis=1)
                else:
                    cdf = np.cumsum(probs, axis=1)
                    tt = np.minimum(sl.t, max_steps - 1)
                    uu = sl.u[np.arange(len(tt)), tt] * cdf[:, -1]
                    act = np.minimum((cdf <= uu[:, None]).sum(axis=1), probs.shape[1] - 1)
            else:
                act = np.asarray(policy.act(obs, deterministic=deterministic, rng=act_rng))
            act = act.astype(np.int64).reshape(-1)
            if act.shape != (len(sl.lvl),):
                raise ValueError(f"policy returned {act.shape} actions for a batch of {len(sl.lvl)}")
            if act.min() < 0 or act.max() >= len(deltas):
                raise ValueError(f"policy returned an action outside [0, {len(deltas) - 1}]")
            obs, _rew, term, _trunc, _info = env.step(act)
            # our own copy of the dynamics for the live rows (the env auto-resets ended rows)
            p = sl.pos[rows]
            d = deltas[act[rows]]
            nr, nc = p[:, 0] + d[:, 0], p[:, 1] + d[:, 1]
            ok = (nr >= 0) & (nr < w) & (nc >= 0) & (nc < w)
            ok[ok] &= ~sl.walls[rows[ok], nr[ok], nc[ok]]
            sl.pos[rows[ok], 0] = nr[ok]
            sl.pos[rows[ok], 1] = nc[ok]
            sl.t[rows] += 1
            sl.mark(rows, out)
            ate = term[rows]
            out.got[sl.lvl[rows[ate]]] = True
            stop = ate | (sl.t[rows] >= max_steps)
            if stop_on_target and out.reached is not None:
                stop |= out.reached[sl.lvl[rows]]
            if not stop.any():
                continue
            ended = rows[stop]
            sl.finish(ended, out)
            if bar is not None:
                bar.update(int(ended.size))
            if nxt < n:
                got = start(ended)
                if got.size:
                    obs = env.set_levels(got, sl.current_levels(got))
            else:
                n_live = int(sl.live.sum())
                if compactable and 0 < n_live <= len(sl.lvl) // 2:
                    keep = np.flatnonzero(sl.live)
                    sl.subset(keep)
                    env = MazeVecEnv(FixedLevelSource(sl.current_levels(np.arange(len(keep)))), len(keep),
                                     obs=obs_kind, max_steps=max_steps, rgb_style=style)
                    obs = env.reset()
