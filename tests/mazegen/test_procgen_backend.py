"""The real-procgen backend: lockstep conformance with the native env, level push/read, wrappers."""

from __future__ import annotations

import numpy as np
import pytest

from mazegen.adapters.make import make_vec_env
from mazegen.procgen.backend import (
    ProcgenMazeEnv,
    engine_states,
    load_level,
    make_procgen_vec_env,
    read_level,
)
from mazegen.procgen.engine import make_engine
from mazegen.procgen.generate import generate_level, procgen_level
from mazegen.procgen.state import level_from_state
from mazegen.render.textured import render_rgb
from mazegen.solvers import shortest_path

INFO_KEYS = ("TimeLimit.truncated", "got_cheese", "level_seed", "maze_size")


def _lockstep(n: int, steps: int, **kw) -> int:
    """Step the native env and the engine with the same random actions; compare everything."""
    nat = make_vec_env(n, obs="rgb", rgb_style="textured", **kw)
    eng = make_procgen_vec_env(n, **kw)
    try:
        o1, o2 = nat.reset(), eng.reset()
        assert np.array_equal(o1, o2)
        assert np.array_equal(nat.venv.mouse, eng.mouse)
        rng = np.random.default_rng(0)
        pool = np.array([1, 3, 5, 7] * 4 + list(range(15)))  # mostly moves, every action id too
        ends = 0
        for k in range(steps):
            a = rng.choice(pool, n)
            o1, r1, d1, i1 = nat.step(a)
            o2, r2, d2, i2 = eng.step(a)
            assert np.array_equal(r1, r2) and np.array_equal(d1, d2), (k, kw)
            assert np.array_equal(nat.venv.mouse, eng.mouse), (k, kw)
            assert np.array_equal(o1, o2), (k, kw, (o1 != o2).any(-1).sum((1, 2)))
            for i in np.flatnonzero(d1).tolist():
                ends += 1
                for key in INFO_KEYS:
                    assert i1[i][key] == i2[i][key], (key, kw)
                assert (i1[i]["episode"]["r"], i1[i]["episode"]["l"]) == (
                    i2[i]["episode"]["r"],
                    i2[i]["episode"]["l"],
                )
                assert np.array_equal(i1[i]["terminal_observation"], i2[i]["terminal_observation"])
            assert all(not i2[i] for i in np.flatnonzero(~d2).tolist())
        # the engine's own record of the mouse agrees with the tracked one
        assert [level_from_state(s).mouse for s in engine_states(eng)] == [
            tuple(m) for m in eng.mouse.tolist()
        ]
        return ends
    finally:
        nat.close()
        eng.close()


@pytest.mark.parametrize(
    "kw",
    [
        dict(maze_size=5, cheese="top-right:5"),
        dict(maze_size=(3, 5), cheese="top-right", mouse="bottom-right", num_levels=20, seed=3),
        dict(maze_size=(5, 7), cheese="bottom-left", mouse="top-left", use_backgrounds=False),
        dict(maze_size=5, cheese="cell:10,12", mouse="uniform"),
        dict(maze_size=3, cheese="top-left", mouse="top-right", distribution_mode="easy"),
    ],
    ids=["top-right:5", "top-right", "corners-nobg", "fixed-cell", "easy"],
)
def test_lockstep_with_native_env_controlled_placements(kw):
    assert _lockstep(4, 120, **kw) > 0  # small mazes: episodes end and auto-reset


def test_lockstep_with_native_env_plain_level_seeds():
    _lockstep(3, 40, num_levels=0, start_level=0, seed=11)
    _lockstep(2, 40, num_levels=5, start_level=100, seed=2, use_backgrounds=False)


def test_default_rgb_frames_are_the_real_engines():
    """``obs="rgb"`` with no style given is procgen's own frame (textured, backgrounds on)."""
    from mazegen.adapters.gymnasium import MazeEnv
    from mazegen.env import MazeVecEnv
    from mazegen.level_source import ProcgenLevelSource
    from mazegen.options import EnvOptions

    assert EnvOptions(obs="rgb").rgb_style == "textured"
    for start, size in ((0, None), (7, 9), (42, 25)):
        kw = dict(num_levels=1, start_level=start, maze_size=size, seed=1)
        eng = make_procgen_vec_env(1, **kw)
        want = eng.reset()
        assert want.shape == (1, 64, 64, 3) and len(np.unique(want.reshape(-1, 3), axis=0)) > 8
        nat = make_vec_env(1, obs="rgb", **kw)
        assert np.array_equal(nat.reset(), want), f"level {start}"
        assert np.array_equal(MazeEnv(obs="rgb", **kw).reset(seed=1)[0], want[0])
        for a in (7, 5, 1, 3):
            o1, o2 = nat.step(np.array([a]))[0], eng.step(np.array([a]))[0]
            assert np.array_equal(o1, o2), f"level {start}, action {a}"
        eng.close()
    raw = MazeVecEnv(ProcgenLevelSource(1, num_levels=1, start_level=7, maze_size=9), 1, obs="rgb")
    mono = make_vec_env(1, obs="rgb", rgb_style="mono", num_levels=1, start_level=7, maze_size=9)
    assert raw.rgb_style == "textured" and not np.array_equal(raw.reset(), mono.reset())


def test_lockstep_timeout_truncates_at_500():
    assert _lockstep(2, 505, maze_size=3, cheese="none") == 2


def test_native_specs_leave_the_engines_levels_alone():
    venv = make_procgen_vec_env(2, seed=4)
    venv.reset()
    assert venv.native_levels
    lv = venv.levels
    for i, st in enumerate(engine_states(venv)):
        assert level_from_state(st) == lv[i] == procgen_level(int(lv.seed[i]))
    venv.close()


def test_load_and_read_level_round_trip_on_raw_engine_and_vec_env():
    lvl = generate_level(42, maze_size=9, cheese="top-left", mouse="bottom-right")
    eng = make_engine(2, rand_seed=1)
    obs = load_level(eng, 1, lvl)
    assert read_level(eng, 1) == lvl
    assert np.array_equal(obs, render_rgb(lvl)[0])  # set_state re-renders the frame
    assert read_level(eng, 0) != lvl
    eng.close()

    venv = make_procgen_vec_env(2, use_backgrounds=False)
    venv.reset()
    obs = load_level(venv, 0, lvl.replace(background=3))
    assert np.array_equal(obs, render_rgb(lvl, use_backgrounds=False)[0])
    assert read_level(venv, 0) == lvl.replace(background=3)
    # play it: up from the bottom-right corner of a 9x9 maze is the engine's move too
    o, r, d, info = venv.step(np.array([5, 4]))
    assert tuple(venv.mouse[0]) == read_level(venv, 0).mouse
    with pytest.raises(ValueError, match="env index must be an integer in \\[0, 1\\]"):
        read_level(venv, 2)
    with pytest.raises(ValueError, match="level must be a mazegen.Level"):
        load_level(venv, 0, "maze")
    venv.close()


def test_divergence_from_the_engine_is_detected():
    venv = make_procgen_vec_env(1, maze_size=3, cheese="top-right", mouse="top-left")
    venv.reset()
    venv._cheese[0] = (
        -1,
        -1,
    )  # corrupt the tracked level: the engine will pay out, we won't expect it
    with pytest.raises(RuntimeError, match="diverged"):
        for _ in range(100):
            venv.step(np.array([7]))
    venv.close()


def test_gymnasium_env_wrapper():
    env = ProcgenMazeEnv(maze_size=3, cheese="top-right", mouse="top-left", use_backgrounds=False)
    obs, info = env.reset(seed=3)
    assert (
        obs.shape == (64, 64, 3) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    )
    seed0 = info["level_seed"]
    lvl = env.venv.levels[0]
    path = shortest_path(lvl.walls, lvl.mouse, lvl.cheese)
    moves = {(-1, 0): 5, (1, 0): 3, (0, -1): 1, (0, 1): 7}
    for k in range(1, len(path)):
        a = moves[(path[k][0] - path[k - 1][0], path[k][1] - path[k - 1][1])]
        obs, rew, term, trunc, info = env.step(a)
        if k < len(path) - 1:
            assert (rew, term, trunc) == (0.0, False, False)
    assert (rew, term, trunc, info["got_cheese"]) == (10.0, True, False, True)
    facing = False
    for k in range(1, len(path)):
        dc = path[k][1] - path[k - 1][1]
        facing = True if dc > 0 else False if dc < 0 else facing
    # the terminal frame: the mouse drawn on the cheese, facing its last horizontal move
    want = render_rgb(lvl, mouse=[lvl.cheese], facing_right=[facing], use_backgrounds=False)[0]
    assert np.array_equal(obs, want)
    assert np.array_equal(obs, env.render())
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(4)
    obs2, info2 = env.reset()
    assert np.array_equal(obs2, render_rgb(env.venv.levels, use_backgrounds=False)[0])
    # reset(seed) is reproducible
    a, _ = env.reset(seed=3)
    b, info3 = env.reset(seed=3)
    assert np.array_equal(a, b) and info3["level_seed"] == seed0
    env.close()


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
        make_procgen_vec_env(0)
    with pytest.raises(ValueError, match="distribution_mode must be one of"):
        make_procgen_vec_env(1, distribution_mode="memory")
    with pytest.raises(ValueError, match="maze_size for distribution_mode='easy' must be an odd integer in \\[3, 15\\]"):
        make_procgen_vec_env(1, distribution_mode="easy", maze_size=17)
    with pytest.raises(ValueError, match="seed must be an integer in"):
        make_procgen_vec_env(1, seed=-1)
    with pytest.raises(ValueError, match="unknown cheese placement"):
        make_procgen_vec_env(1, cheese="middle")
    venv = make_procgen_vec_env(2)
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(np.array([1, 1]))
    venv.reset()
    with pytest.raises(ValueError, match="action 15 out of range \\[0, 14\\]"):
        venv.step(np.array([1, 15]))
    venv.close()


@pytest.mark.parametrize(
    "kw",
    [
        dict(seed=5),  # procgen's own levels: nothing written into the engine
        dict(maze_size=(5, 7), cheese="top-right:3", mouse="uniform", num_levels=20, seed=3),
        dict(maze_size=3, cheese="top-left", mouse="top-right", distribution_mode="easy"),
    ],
    ids=["native-levels", "controlled", "easy"],
)
def test_grid_obs_from_the_engine_equal_the_native_envs(kw):
    """obs="grid" on the real engine: (3, W, W) planes read from the engine's own state, equal
    to the native env's for the same levels, step for step (auto-resets included)."""
    n, steps = 4, 300
    nat = make_vec_env(n, obs="grid", **kw)
    eng = make_procgen_vec_env(n, obs="grid", **kw)
    try:
        assert eng.observation_space == nat.observation_space
        o1, o2 = nat.reset(), eng.reset()
        assert o2.dtype == np.uint8 and np.array_equal(o1, o2)
        rng = np.random.default_rng(1)
        ends = 0
        for k in range(steps):
            a = rng.integers(0, 15, n)
            o1, r1, d1, i1 = nat.step(a)
            o2, r2, d2, i2 = eng.step(a)
            assert np.array_equal(r1, r2) and np.array_equal(d1, d2), k
            assert np.array_equal(o1, o2), (k, np.argwhere(o1 != o2)[:4].tolist())
            for i in np.flatnonzero(d1).tolist():
                ends += 1
                assert np.array_equal(i1[i]["terminal_observation"], i2[i]["terminal_observation"])
        assert ends > 0 or kw.get("maze_size") is None
        # an agent for grid observations runs on the engine unchanged
        from agents.model import ImpalaModel
        from agents.policy import Policy

        w = eng.world_size
        policy = Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=w), obs="grid")
        assert policy.act(o2).shape == (n,)
        assert eng.get_images()[0].shape == (64, 64, 3)  # frames stay available
    finally:
        nat.close()
        eng.close()
