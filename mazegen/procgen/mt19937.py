"""procgen's random number generator: ``std::mt19937``, in numba and in plain Python.

procgen seeds one ``std::mt19937`` per level with the level seed and draws with
``randn(h) = rng() % h`` (``docs/procgen-maze.md``, section 3). This module gives:

* numba kernels on a ``(625,)`` uint32 state array (624 words plus the position in the last
  slot): :func:`mt_seed` and :func:`mt_next`, used by the level generator;
* :class:`MT19937`, a small Python wrapper with the same stream (``randn``, ``randint``);
* :func:`mt_from_text` / :func:`mt_to_text`: the text form libstdc++ writes for
  ``os << mt19937`` (624 words then the position), which is how procgen stores its RNGs in a
  serialized state (:mod:`mazegen.procgen.state`).

>>> rng = MT19937(5489)           # std::mt19937's default seed
>>> rng.next_u32()                # the first output of a default std::mt19937
3499211612
>>> MT19937(0).randn(9)
8
>>> st = MT19937(7); _ = st.next_u32()
>>> MT19937.from_text(st.to_text()).next_u32() == st.next_u32()
True
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "MT_N",
    "MT_STATE_SIZE",
    "MT19937",
    "mt_seed",
    "mt_next",
    "mt_from_text",
    "mt_to_text",
    "to_u32",
]

MT_N = 624
_MT_M = 397
#: Length of the numba state array: 624 words plus the position.
MT_STATE_SIZE = MT_N + 1


def to_u32(seed: int) -> int:
    """procgen passes an ``int`` to ``mt19937::seed``; C++ converts it modulo 2**32."""
    return int(seed) & 0xFFFFFFFF


@njit(cache=True)
def mt_seed(state: np.ndarray, seed: np.uint32) -> None:
    """Seed ``state`` (uint32, length 625) like ``std::mt19937(seed)``."""
    state[0] = np.uint32(seed)
    for i in range(1, MT_N):
        prev = state[i - 1]
        state[i] = np.uint32(
            (np.uint64(1812433253) * np.uint64(prev ^ (prev >> np.uint32(30))) + np.uint64(i))
            & np.uint64(0xFFFFFFFF)
        )
    state[MT_N] = MT_N


@njit(cache=True)
def _twist(state: np.ndarray) -> None:
    upper = np.uint32(0x80000000)
    lower = np.uint32(0x7FFFFFFF)
    mag = np.uint32(0x9908B0DF)
    for i in range(MT_N):
        y = (state[i] & upper) | (state[(i + 1) % MT_N] & lower)
        v = state[(i + _MT_M) % MT_N] ^ (y >> np.uint32(1))
        if y & np.uint32(1):
            v ^= mag
        state[i] = v
    state[MT_N] = 0


@njit(cache=True)
def mt_next(state: np.ndarray) -> np.uint32:
    """Next raw 32-bit output of ``state`` (advances it)."""
    if state[MT_N] >= MT_N:
        _twist(state)
    i = state[MT_N]
    y = state[i]
    state[MT_N] = i + 1
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    return y


def mt_from_text(text: str | bytes) -> np.ndarray:
    """Parse libstdc++'s text form of an mt19937 (624 words, then the position)."""
    if isinstance(text, bytes):
        text = text.decode("ascii")
    parts = text.split()
    if len(parts) != MT_STATE_SIZE:
        raise ValueError(f"mt19937 text must hold {MT_STATE_SIZE} integers, got {len(parts)}")
    state = np.array([int(p) for p in parts], dtype=np.uint64)
    if state[MT_N] > MT_N or (state[:MT_N] > 0xFFFFFFFF).any():
        raise ValueError("mt19937 text has a word above 2**32-1 or a position above 624")
    return state.astype(np.uint32)


def mt_to_text(state: np.ndarray) -> str:
    """Inverse of :func:`mt_from_text` (space separated, as libstdc++ writes it)."""
    return " ".join(str(int(x)) for x in np.asarray(state, dtype=np.uint32))


class MT19937:
    """``std::mt19937`` with procgen's ``RandGen`` helpers.

    Args:
        seed: any Python int; reduced modulo 2**32 as C++ does.
    """

    def __init__(self, seed: int = 5489) -> None:
        self.state = np.zeros(MT_STATE_SIZE, dtype=np.uint32)
        mt_seed(self.state, np.uint32(to_u32(seed)))

    @classmethod
    def from_text(cls, text: str | bytes) -> MT19937:
        """An MT19937 continuing from a libstdc++ text state (see :func:`mt_from_text`)."""
        obj = cls.__new__(cls)
        obj.state = mt_from_text(text)
        return obj

    def to_text(self) -> str:
        return mt_to_text(self.state)

    def next_u32(self) -> int:
        """The next raw output (procgen's ``stdgen()``)."""
        return int(mt_next(self.state))

    def randn(self, high: int) -> int:
        """procgen's ``randn``: ``rng() % high``."""
        if high < 1:
            raise ValueError(f"randn needs high >= 1, got {high}")
        return self.next_u32() % int(high)

    def randint(self, low: int, high: int) -> int:
        """procgen's ``randint(low, high)``: ``low + rng() % (high - low)`` in uint32."""
        rng_range = (int(high) - int(low)) & 0xFFFFFFFF
        if rng_range == 0:
            raise ValueError(f"randint needs high != low, got low={low}, high={high}")
        return int(low) + self.next_u32() % rng_range

    def raw(self, n: int) -> np.ndarray:
        """``n`` raw outputs as a uint32 array."""
        return np.array([self.next_u32() for _ in range(int(n))], dtype=np.uint32)
