"""Dynamics of the batched env on hand-made levels, against a per-env pure-Python reference."""

from __future__ import annotations

import numpy as np
import pytest

from mazegen.constants import ACTION_DELTAS, CH_CHEESE, CH_MOUSE, CH_WALL, NUM_ACTIONS
from mazegen.env import MazeVecEnv
from mazegen.level import Level
from mazegen.level_source import FixedLevelSource, LevelSource
from mazegen.levels import Levels

# 7x7 world, 5x5 inner maze (margin 1). Mouse at the start (bottom-left inner cell).
ART = """
#######
#...#C#
###.#.#
#.#...#
#.###.#
#M....#
#######
"""


def small_level(**kw) -> Level:
    return Level.from_ascii(ART, **kw)


def random_perfect_maze(rng: np.random.Generator, world: int, maze: int, cheese: bool = True) -> Level:
    """A random perfect maze (random-order DFS spanning tree), mouse at start, random cheese."""
    m = (world - maze) // 2
    walls = np.ones((world, world), bool)
    k = (maze + 1) // 2
    seen = np.zeros((k, k), bool)
    stack = [(0, 0)]
    seen[0, 0] = True
    walls[m, m] = False
    while stack:
        i, j = stack[-1]
        nbrs = [(i + di, j + dj) for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= i + di < k and 0 <= j + dj < k and not seen[i + di, j + dj]]
        if not nbrs:
            stack.pop()
            continue
        ni, nj = nbrs[rng.integers(len(nbrs))]
        seen[ni, nj] = True
        walls[m + 2 * ni, m + 2 * nj] = False
        walls[m + i + ni, m + j + nj] = False
        stack.append((ni, nj))
    mouse = (m + maze - 1, m)
    open_cells = [tuple(int(x) for x in c) for c in np.argwhere(~walls) if tuple(c) != mouse]
    ch = open_cells[rng.integers(len(open_cells))] if cheese else None
    return Level(walls=walls, cheese=ch, mouse=mouse, maze_size=maze, world_size=world).validate()


def make_env(levels, **kw) -> MazeVecEnv:
    lv = levels if isinstance(levels, Levels) else Levels.from_list(levels)
    return MazeVecEnv(FixedLevelSource(lv), len(lv), **kw)


# ------------------------------------------------------------------------------ reference
class RefEnv:
    """One env, plain Python, straight from the env card."""

    def __init__(self, level: Level, max_steps: int = 500):
        self.level, self.max_steps = level, max_steps
        self.reset()

    def reset(self):
        self.mouse = self.level.mouse
        self.t, self.facing, self.ret = 0, False, 0.0

    def obs(self):
        w = self.level.world_size
        g = np.zeros((3, w, w), np.uint8)
        g[CH_WALL] = self.level.walls
        g[CH_MOUSE][self.mouse] = 1
        if self.level.cheese is not None:
            g[CH_CHEESE][self.level.cheese] = 1
        return g

    def step(self, a: int):
        vx, vy = (a // 3 - 1, a % 3 - 1) if a < 9 else (0, 0)
        if vx != 0:
            vy = 0
        if vx > 0:
            self.facing = True
        if vx < 0:
            self.facing = False
        r, c = self.mouse[0] - vy, self.mouse[1] + vx
        if self.level.is_open((r, c)):
            self.mouse = (r, c)
        self.t += 1
        got = self.mouse == self.level.cheese
        rew = 10.0 if got else 0.0
        self.ret += rew
        trunc = (not got) and self.t >= self.max_steps
        final, info = self.obs(), dict(got=got, ret=self.ret, length=self.t, facing=self.facing)
        if got or trunc:
            self.reset()
        return rew, got, trunc, final, info


# ------------------------------------------------------------------------------ basics
def test_protocol_and_shapes():
    env = make_env([small_level()] * 3)
    assert isinstance(env.level_source, LevelSource)
    obs = env.reset()
    assert obs.shape == (3, 3, 7, 7) and obs.dtype == np.uint8
    assert set(np.unique(obs)) <= {0, 1}
    assert np.array_equal(obs[0, CH_WALL], small_level().walls)
    assert obs[0, CH_MOUSE, 5, 1] == 1 and obs[0, CH_MOUSE].sum() == 1
    assert obs[0, CH_CHEESE, 1, 5] == 1 and obs[0, CH_CHEESE].sum() == 1
    assert env.mouse.tolist() == [[5, 1]] * 3
    assert env.t.tolist() == [0, 0, 0]
    assert not env.facing_right.any()


@pytest.mark.parametrize("action", range(NUM_ACTIONS))
def test_every_action(action):
    # mouse in the middle of an open 3x3 patch: every move succeeds
    art = """
#######
#.....#
#.....#
#..M..#
#.....#
#.....#
#######
"""
    lvl = Level.from_ascii(art, validate=False)
    env = make_env([lvl])
    env.reset()
    obs, rew, term, trunc, info = env.step(np.array([action]))
    dr, dc = ACTION_DELTAS[action]
    expected = {0: (0, -1), 1: (0, -1), 2: (0, -1), 3: (1, 0), 5: (-1, 0), 6: (0, 1), 7: (0, 1), 8: (0, 1)}
    assert (dr, dc) == expected.get(action, (0, 0))
    assert env.mouse.tolist() == [[3 + dr, 3 + dc]]
    assert obs[0, CH_MOUSE, 3 + dr, 3 + dc] == 1 and obs[0, CH_MOUSE].sum() == 1
    assert env.facing_right[0] == (dc > 0)
    assert rew[0] == 0 and not term[0] and not trunc[0]


def test_blocked_moves_and_facing():
    env = make_env([small_level()])
    env.reset()
    # left into the border wall, down into the border: blocked
    for a, cell, facing in ((1, (5, 1), False), (3, (5, 1), False), (7, (5, 2), True), (0, (5, 1), False)):
        env.step(np.array([a]))
        assert env.mouse.tolist() == [list(cell)]
        assert env.facing_right[0] == facing
    # right: blocked by nothing; then up from (5,2) into wall (4,2): blocked, facing unchanged
    env.step(np.array([7]))
    env.step(np.array([5]))
    assert env.mouse.tolist() == [[5, 2]] and env.facing_right[0]
    # blocked move to the right still sets facing: go to (5,5), push right into wall
    for _ in range(4):
        env.step(np.array([7]))
    env.step(np.array([1]))
    assert not env.facing_right[0]
    env.step(np.array([8]))  # right from (5,4) to (5,5)
    env.step(np.array([6]))  # blocked by the border
    assert env.mouse.tolist() == [[5, 5]] and env.facing_right[0]
    env.step(np.array([2]))  # left: un-mirrors
    assert not env.facing_right[0]


def test_cheese_reward_termination_and_autoreset():
    env = make_env([small_level()])
    env.reset()
    # the only path: (5,1) -> (5,5) -> (1,5)
    path = [7, 7, 7, 7, 5, 5, 5, 5]
    for k, a in enumerate(path):
        obs, rew, term, trunc, info = env.step(np.array([a]))
        if k < len(path) - 1:
            assert rew[0] == 0 and not term[0]
    assert rew.dtype == np.float32 and rew[0] == 10.0
    assert term[0] and not trunc[0]
    assert info["got_cheese"][0] and info["episode_return"][0] == 10.0
    assert info["episode_length"][0] == len(path)
    # final obs: the mouse on the cheese cell
    fo = info["final_obs"][0]
    assert fo[CH_MOUSE, 1, 5] == 1 and fo[CH_MOUSE].sum() == 1
    # same-step autoreset: returned obs is the new episode's first frame
    assert obs[0, CH_MOUSE, 5, 1] == 1
    assert env.t.tolist() == [0] and env.mouse.tolist() == [[5, 1]]


def test_truncation_at_max_steps():
    env = make_env([small_level()] * 2)
    env.reset()
    for k in range(1, 501):
        obs, rew, term, trunc, info = env.step(np.array([4, 3]))
        if k < 500:
            assert not trunc.any() and not term.any()
    assert trunc.all() and not term.any() and (rew == 0).all()
    assert (info["episode_length"] == 500).all() and not info["got_cheese"].any()
    assert (env.t == 0).all()


def test_small_max_steps_and_cheese_on_last_step():
    env = make_env([small_level()], max_steps=8)
    env.reset()
    for a in [7, 7, 7, 7, 5, 5, 5]:
        _, _, term, trunc, _ = env.step(np.array([a]))
        assert not term[0] and not trunc[0]
    _, rew, term, trunc, _ = env.step(np.array([5]))
    assert rew[0] == 10 and term[0] and not trunc[0]


def test_set_levels_and_levels_property():
    a, b = small_level(), random_perfect_maze(np.random.default_rng(1), 7, 5)
    env = make_env([a, a])
    env.reset()
    env.step(np.array([7, 7]))
    obs = env.set_levels(np.array([1]), Levels.from_list([b]))
    assert env.levels[1] == b and env.levels[0] == a
    assert env.t.tolist() == [1, 0]
    assert np.array_equal(obs[1, CH_WALL], b.walls)
    with pytest.raises(ValueError, match="out of range"):
        env.set_levels(np.array([2]), Levels.from_list([b]))
    with pytest.raises(ValueError, match="got 2 levels for 1 envs"):
        env.set_levels(np.array([0]), Levels.from_list([b, b]))


def test_bad_input_errors():
    with pytest.raises(ValueError, match="obs must be one of"):
        make_env([small_level()], obs="pixels")
    with pytest.raises(ValueError, match="max_steps"):
        make_env([small_level()], max_steps=0)
    with pytest.raises(ValueError, match="rgb_style"):
        make_env([small_level()], obs="rgb", rgb_style="fancy")
    with pytest.raises(ValueError, match="serves 1 envs"):
        MazeVecEnv(FixedLevelSource(Levels.from_list([small_level()])), 2)
    env = make_env([small_level()])
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.array([1]))
    env.reset()
    with pytest.raises(ValueError, match=r"action 15 out of range \[0, 14\]"):
        env.step(np.array([15]))
    with pytest.raises(ValueError, match=r"action -1 out of range"):
        env.step(np.array([-1]))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.array([1, 2]))


# ------------------------------------------------------------------------------ equivalence
def test_matches_reference_under_random_actions():
    rng = np.random.default_rng(0)
    levels = [random_perfect_maze(rng, 9, int(rng.choice([3, 5, 7, 9]))) for _ in range(12)]
    levels.append(random_perfect_maze(rng, 9, 5, cheese=False))
    env = make_env(levels, max_steps=40)
    refs = [RefEnv(lv, max_steps=40) for lv in levels]
    obs = env.reset()
    assert all(np.array_equal(obs[i], r.obs()) for i, r in enumerate(refs))
    for _ in range(400):
        acts = rng.integers(0, NUM_ACTIONS, len(levels))
        obs, rew, term, trunc, info = env.step(acts)
        for i, r in enumerate(refs):
            rr, rt, rtr, rfinal, rinfo = r.step(int(acts[i]))
            assert rew[i] == rr and term[i] == rt and trunc[i] == rtr
            assert np.array_equal(obs[i], r.obs())
            assert env.mouse[i].tolist() == list(r.mouse) and env.t[i] == r.t
            if rt or rtr:
                assert np.array_equal(info["final_obs"][i], rfinal)
                assert info["episode_return"][i] == rinfo["ret"]
                assert info["episode_length"][i] == rinfo["length"]
                assert info["got_cheese"][i] == rinfo["got"]
            else:
                assert env.facing_right[i] == r.facing


def test_deterministic():
    rng = np.random.default_rng(5)
    levels = [random_perfect_maze(rng, 9, 9) for _ in range(4)]

    def run():
        env = make_env(levels, max_steps=30)
        out = [env.reset()]
        acts = np.random.default_rng(9).integers(0, NUM_ACTIONS, (200, 4))
        for a in acts:
            o, r, te, tr, _ = env.step(a)
            out += [o, r, te, tr]
        return out

    a, b = run(), run()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_procgen_source_deterministic():
    pytest.importorskip("mazegen.procgen.generate")
    pytest.importorskip("mazegen.procgen.seeds")
    from mazegen.level_source import ProcgenLevelSource

    def run(seed):
        env = MazeVecEnv(ProcgenLevelSource(8, rand_seed=seed), 8, max_steps=20)
        out = [env.reset()]
        for a in np.random.default_rng(0).integers(0, NUM_ACTIONS, (60, 8)):
            o, r, te, tr, info = env.step(a)
            out += [o, r, te | tr, info["level_seed"]]
        return out

    a, b, c = run(3), run(3), run(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_procgen_source_single_level_replays():
    pytest.importorskip("mazegen.procgen.generate")
    pytest.importorskip("mazegen.procgen.seeds")
    import mazegen
    from mazegen.level_source import ProcgenLevelSource

    env = MazeVecEnv(ProcgenLevelSource(2, num_levels=1, start_level=17), 2, max_steps=5)
    env.reset()
    want = mazegen.procgen_level(17)
    for _ in range(3):
        assert env.levels[0] == want and env.levels[1] == want
        for _ in range(5):
            env.step(np.array([4, 4]))


def test_facing_and_special_actions_match_engine():
    """Textured frames show the facing: lockstep with procgen under all 15 actions."""
    pytest.importorskip("mazegen.procgen.generate")
    pytest.importorskip("mazegen.render.textured")
    procgen = pytest.importorskip("procgen")
    from mazegen.level_source import ProcgenLevelSource

    rng = np.random.default_rng(3)
    for seed in (3, 8):
        real = procgen.ProcgenGym3Env(num=1, env_name="maze", distribution_mode="hard", num_levels=1,
                                      start_level=seed)
        ours = MazeVecEnv(ProcgenLevelSource(1, num_levels=1, start_level=seed), 1, obs="rgb",
                          rgb_style="textured")
        assert np.array_equal(ours.reset(), real.observe()[1]["rgb"])
        # bias towards right/left and the special keys 9..14
        for a in rng.choice([0, 1, 2, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3, 5], size=120):
            real.act(np.array([a]))
            obs, *_ = ours.step(np.array([a]))
            assert np.array_equal(obs, real.observe()[1]["rgb"]), f"seed {seed}, action {a}"


def test_returned_obs_are_fresh_arrays():
    env = make_env([small_level()] * 2, obs="grid")
    with pytest.raises(RuntimeError, match="reset"):
        env.set_levels(np.array([0]), Levels.from_list([small_level()]))
    o0 = env.reset()
    keep = o0.copy()
    o1, *_ = env.step(np.array([7, 7]))
    assert np.array_equal(o0, keep) and not np.array_equal(o1, o0)  # no aliasing between steps
    o1[:] = 0
    o2, *_ = env.step(np.array([4, 4]))
    assert o2[0, CH_MOUSE, 5, 2] == 1  # editing a returned array does not touch the env


def test_level_options_and_reseeded_source_keep_every_option():
    import dataclasses

    from mazegen.level_source import SOURCE_OPTIONS, ProcgenLevelSource
    from mazegen.options import LevelOptions
    from mazegen.placement import Region

    opts = LevelOptions(
        distribution_mode="hard", maze_size=(9, 11), cheese=Region(3), num_levels=7, start_level=5, seed=3
    )
    src = opts.level_source(2)
    assert isinstance(src, ProcgenLevelSource) and src.rand_seed == 3
    assert src.options() == {name: getattr(opts, name) for name in SOURCE_OPTIONS}
    again = src.reseeded(11)
    assert again.rand_seed == 11 and again.num_envs == 2 and again.options() == src.options()
    ids = np.arange(2)
    a, b = again.next_levels(ids), dataclasses.replace(opts, seed=11).level_source(2).next_levels(ids)
    for field in ("walls", "cheese", "mouse", "maze_size", "seed"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


@pytest.mark.parametrize("style", ["textured", "mono"])
def test_grid_obs_of_an_rgb_env_is_what_a_grid_env_shows(style):
    from mazegen.adapters.make import make_maze_env

    kw = dict(cheese="top-right:5", seed=11, maze_size=(5, 9, 25))
    grid_env = make_maze_env(6, obs="grid", **kw)
    rgb_env = make_maze_env(6, obs="rgb", rgb_style=style, **kw)
    g = grid_env.reset()
    rgb_env.reset()
    assert np.array_equal(rgb_env.grid_obs(), g) and np.array_equal(grid_env.grid_obs(), g)
    rng = np.random.default_rng(0)
    for _ in range(300):  # through auto-resets (max_steps 500 not reached; cheese is)
        a = rng.integers(0, 15, 6)
        g, *_ = grid_env.step(a)
        rgb_env.step(a)
        assert np.array_equal(rgb_env.grid_obs(), g)
