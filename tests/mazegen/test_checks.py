from __future__ import annotations

import numpy as np
import pytest

from mazegen import options as env_options
from mazegen.checks import check_int, check_maze_size, check_optional_int, is_int, is_maze_size
from mazegen.constants import MAX_MAZE_SIZE, MIN_MAZE_SIZE
from mazegen.env import MazeVecEnv
from mazegen.level import Level
from mazegen.level_source import FixedLevelSource, ProcgenLevelSource
from mazegen.levels import Levels
from mazegen.placement import Region

LEVEL = Level.from_ascii("#####\n#..C#\n#.###\n#M..#\n#####")


def test_is_int():
    assert is_int(3) and is_int(-2) and is_int(np.int64(3)) and is_int(np.uint8(0))
    for x in (True, False, np.bool_(True), 3.0, np.float32(3), "3", None, [3]):
        assert not is_int(x), x


def test_maze_size_rule():
    """One rule everywhere: an odd integer (not a bool) in [3, world side]."""
    assert (MIN_MAZE_SIZE, MAX_MAZE_SIZE) == (3, 25)
    assert [s for s in range(-1, 30) if is_maze_size(s)] == list(range(3, 26, 2))
    assert [s for s in range(30) if is_maze_size(s, world_size=15)] == list(range(3, 16, 2))
    for x in (True, np.bool_(True), 5.0, np.float32(5), "5", None, [5]):
        assert not is_maze_size(x), x
    assert check_maze_size(np.int64(7)) == 7 and type(check_maze_size(np.int64(7))) is int
    for bad in (1, 4, 27, 5.0, True):
        with pytest.raises(ValueError, match=rf"^--size must be an odd integer in \[3, 25\], got {bad!r}$"):
            check_maze_size(bad, "--size")
    with pytest.raises(ValueError, match=r"^maze_size must be an odd integer in \[3, 15\], got 17$"):
        check_maze_size(17, "maze_size", world_size=15)


def test_check_int_wording():
    with pytest.raises(ValueError, match=r"^num_envs must be an integer >= 1, got 0$"):
        check_int("num_envs", 0, 1)
    with pytest.raises(ValueError, match=r"^seed must be an integer in \[0, 9\], got 10$"):
        check_int("seed", 10, 0, 9)
    with pytest.raises(ValueError, match=r"^seed must be an integer in \[0, 9\], got -1$"):
        check_int("seed", -1, 0, 9)


@pytest.mark.parametrize("high", [None, 5])
def test_check_int_rejects_bools_and_floats(high):
    for bad in (True, False, np.bool_(True), 1.0, np.float64(2.0), "2"):
        with pytest.raises(ValueError, match=f"got {bad!r}"):
            check_int("x", bad, 0, high)


def test_check_int_returns_plain_int():
    for v in (np.int64(4), np.uint16(4), 4):
        out = check_int("x", v, 1, 4)
        assert out == 4 and type(out) is int
    assert check_int("x", 2**40, 0) == 2**40


def test_check_optional_int():
    assert check_optional_int("threads", None, 1) is None
    out = check_optional_int("threads", np.int32(3), 1, 8)
    assert out == 3 and type(out) is int
    with pytest.raises(ValueError, match=r"^threads must be None or an integer >= 1, got True$"):
        check_optional_int("threads", True, 1)
    with pytest.raises(ValueError, match=r"^region must be None or an integer in \[1, 8\], got 9$"):
        check_optional_int("region", 9, 1, 8)


def test_env_options_reexports():
    assert env_options.check_int is check_int and env_options.is_int is is_int
    assert {"check_int", "is_int"} <= set(env_options.__all__)


def test_mazegen_rejects_bool_counts():
    # these sites used to take True as 1
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1, got True"):
        ProcgenLevelSource(True)
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1, got True"):
        MazeVecEnv(FixedLevelSource(Levels.from_list([LEVEL])), True)
    with pytest.raises(ValueError, match="region size n must be an integer >= 1, got True"):
        Region(True)


def test_sb3_set_attr_rejects_bool_max_steps():
    from mazegen.adapters.sb3 import MazeSB3VecEnv

    venv = MazeSB3VecEnv(MazeVecEnv(FixedLevelSource(Levels.from_list([LEVEL] * 2)), 2))
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1, got True"):
        venv.set_attr("max_steps", True)
    venv.set_attr("max_steps", np.int64(7))
    assert venv.venv.max_steps == 7 and type(venv.venv.max_steps) is int
