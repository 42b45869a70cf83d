"""procgen's level-seed protocol: ``num_levels``, ``start_level`` and ``rand_seed``.

procgen's ``VecGame`` seeds one ``std::mt19937`` with ``rand_seed``; env ``i`` gets its own
``level_seed_rand_gen`` seeded with the i-th output of it. Every time env ``i`` starts a
level (its first level, then after each episode end) it draws
``start_level + gen() % num_levels``, or ``gen() % INT32_MAX`` when ``num_levels == 0``
(``docs/procgen-maze.md``, section 6). :class:`LevelSeeds` reproduces that stream, so a batched env
fed by it plays the same levels in the same order as the real engine.

>>> ls = LevelSeeds(3, rand_seed=0)
>>> ls.next(np.arange(3)).tolist()          # the first level of each env
[1263407424, 566770259, 1116137690]
>>> LevelSeeds(2, num_levels=1, start_level=42).next(np.array([0, 1, 1])).tolist()
[42, 42, 42]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..checks import check_int
from ..constants import MAX_SEED
from .mt19937 import MT19937, MT_STATE_SIZE, mt_next, mt_seed

__all__ = ["LevelSeeds", "INT32_MAX"]

INT32_MAX = 2**31 - 1


@njit(cache=True)
def _next_seeds(states, env_ids, low, span, out) -> None:
    for k in range(env_ids.shape[0]):
        x = mt_next(states[env_ids[k]])
        out[k] = low + np.int64(x % np.uint32(span))


@njit(cache=True)
def _seed_all(states, first_outputs) -> None:
    for i in range(states.shape[0]):
        mt_seed(states[i], first_outputs[i])


class LevelSeeds:
    """Per-env level-seed streams, as procgen's vectorized env draws them.

    Args:
        num_envs: number of envs (>= 1).
        num_levels: size of the level pool; 0 means unlimited (seeds in ``[0, 2**31-2]``).
        start_level: first seed of the pool (>= 0).
        rand_seed: procgen's ``rand_seed`` (any int in ``[0, 2**32-1]``; C++ takes it mod 2**32).

    Each env's stream advances only when :meth:`next` asks for that env. The first call for an
    env gives the seed of its first level, as the engine's ``info["level_seed"]`` right after
    construction; each later call gives the level after an episode end.
    """

    def __init__(
        self, num_envs: int, *, num_levels: int = 0, start_level: int = 0, rand_seed: int = 0
    ) -> None:
        self.num_envs = check_int("num_envs", num_envs, 1, 10**8)
        self.num_levels = check_int("num_levels", num_levels, 0, INT32_MAX)
        self.start_level = check_int("start_level", start_level, 0, INT32_MAX)
        self.rand_seed = check_int("rand_seed", rand_seed, 0, MAX_SEED)
        if self.num_levels > 0 and self.start_level + self.num_levels > INT32_MAX:
            raise ValueError(
                f"start_level + num_levels must be <= {INT32_MAX} (procgen's int32 seeds), "
                f"got {self.start_level} + {self.num_levels}"
            )
        if self.num_levels == 0:
            self._low, self._span = 0, INT32_MAX
        else:
            self._low, self._span = self.start_level, self.num_levels
        master = MT19937(self.rand_seed)
        firsts = master.raw(self.num_envs)
        self._states = np.empty((self.num_envs, MT_STATE_SIZE), dtype=np.uint32)
        _seed_all(self._states, firsts)

    def next(self, env_ids) -> np.ndarray:
        """Next level seed of each listed env (int64), advancing those envs only.

        An env listed twice advances twice, in order.
        """
        ids = np.asarray(env_ids)
        if ids.ndim == 0:
            ids = ids[None]
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise ValueError(
                f"env_ids must be a 1-D integer array, got shape {ids.shape} dtype {ids.dtype}"
            )
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_envs):
            bad = int(ids[(ids < 0) | (ids >= self.num_envs)][0])
            raise ValueError(f"env id {bad} out of range [0, {self.num_envs - 1}]")
        out = np.empty(len(ids), dtype=np.int64)
        _next_seeds(self._states, ids, self._low, self._span, out)
        return out

    def __repr__(self) -> str:
        return (
            f"LevelSeeds(num_envs={self.num_envs}, num_levels={self.num_levels}, "
            f"start_level={self.start_level}, rand_seed={self.rand_seed})"
        )
