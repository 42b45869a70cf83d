"""LevelSeeds reproduces the real engine's num_levels / start_level / rand_seed protocol."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _procgen_ref import make_engine  # noqa: E402

from mazegen.procgen.seeds import INT32_MAX, LevelSeeds  # noqa: E402


@pytest.mark.parametrize(
    "num_levels,start_level,rand_seed",
    [(0, 0, 0), (0, 0, 987654), (10, 5, 123), (1, 42, 7), (500, 1000, 2**31 - 1)],
)
def test_matches_engine_first_and_later_levels(num_levels, start_level, rand_seed):
    n = 5
    env = make_engine(
        n, "easy", num_levels=num_levels, start_level=start_level, rand_seed=rand_seed
    )
    ls = LevelSeeds(n, num_levels=num_levels, start_level=start_level, rand_seed=rand_seed)
    first = ls.next(np.arange(n))
    assert first.dtype == np.int64
    assert first.tolist() == [info["level_seed"] for info in env.get_info()]
    # action -1 forces an episode end in procgen; end episodes of some envs only
    rng = np.random.default_rng(rand_seed % 1000)
    expected = first.copy()
    for _ in range(4):
        ending = rng.random(n) < 0.5
        env.act(np.where(ending, -1, 4).astype(np.int32))
        _, _, is_first = env.observe()
        assert is_first.tolist() == ending.tolist()
        expected[ending] = ls.next(np.flatnonzero(ending))
        assert [info["level_seed"] for info in env.get_info()] == expected.tolist()


def test_ranges_and_single_level():
    ls = LevelSeeds(3, num_levels=7, start_level=100, rand_seed=1)
    s = ls.next(np.repeat(np.arange(3), 200))
    assert s.min() >= 100 and s.max() < 107 and len(set(s.tolist())) == 7
    one = LevelSeeds(4, num_levels=1, start_level=9)
    assert (one.next(np.arange(4).repeat(5)) == 9).all()
    free = LevelSeeds(2, rand_seed=5).next(np.zeros(500, dtype=int))
    assert free.min() >= 0 and free.max() < INT32_MAX


def test_streams_are_independent_and_deterministic():
    a = LevelSeeds(3, rand_seed=2)
    b = LevelSeeds(3, rand_seed=2)
    a.next(np.array([0, 0, 0]))  # advancing env 0 does not touch env 1
    assert a.next(np.array([1])).tolist() == b.next(np.array([1])).tolist()
    # repeated ids advance in order
    c = LevelSeeds(1, rand_seed=9)
    d = LevelSeeds(1, rand_seed=9)
    assert c.next(np.array([0, 0])).tolist() == [d.next(np.array([0]))[0], d.next(np.array([0]))[0]]
    assert LevelSeeds(2, rand_seed=3).next(np.array([], dtype=int)).shape == (0,)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"num_envs must be an integer in \[1, .*got 0"):
        LevelSeeds(0)
    with pytest.raises(ValueError, match=r"num_levels must be an integer in \[0, .*got -1"):
        LevelSeeds(1, num_levels=-1)
    with pytest.raises(ValueError, match=r"start_level must be an integer in \[0, .*got -3"):
        LevelSeeds(1, start_level=-3)
    with pytest.raises(ValueError, match=r"env id 4 out of range \[0, 3\]"):
        LevelSeeds(4).next(np.array([0, 4]))
    with pytest.raises(ValueError, match="1-D integer"):
        LevelSeeds(4).next(np.array([0.5]))
