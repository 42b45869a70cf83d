"""The SB3, gymnasium and gymnasium.vector adapters, and make_vec_env."""

from __future__ import annotations

import numpy as np
import pytest

from mazegen.adapters.sb3 import MazeSB3VecEnv
from mazegen.env import MazeVecEnv
from mazegen.level import Level
from mazegen.level_source import FixedLevelSource
from mazegen.levels import Levels

ART = """
#######
#...#C#
###.#.#
#.#...#
#.###.#
#M....#
#######
"""
LEVEL = Level.from_ascii(ART)


def sb3_env(n=4, **kw) -> MazeSB3VecEnv:
    return MazeSB3VecEnv(MazeVecEnv(FixedLevelSource(Levels.from_list([LEVEL] * n)), n, **kw))


def need_generator():
    pytest.importorskip("mazegen.procgen.generate")
    pytest.importorskip("mazegen.procgen.seeds")


# ------------------------------------------------------------------------------ SB3
def test_sb3_infos_on_episode_end():
    venv = sb3_env(2, max_steps=6)
    obs = venv.reset()
    assert obs.shape == (2, 3, 7, 7)
    for k, a in enumerate([7, 7, 7, 7, 5, 5]):
        obs, rew, done, infos = venv.step(np.array([a, 4]))
        if k < 5:
            assert not done.any() and infos == [{}, {}]
    assert done.tolist() == [True, True]
    i0, i1 = infos
    assert i0["TimeLimit.truncated"] and i1["TimeLimit.truncated"]
    assert i0["episode"]["l"] == 6 and i0["episode"]["r"] == 0.0 and "t" in i0["episode"]
    assert i0["terminal_observation"][1, 3, 5] == 1  # the mouse at (3,5) in the final frame
    assert obs[0, 1, 5, 1] == 1  # already reset
    assert not i0["got_cheese"] and i0["level_seed"] == -1 and i0["maze_size"] == 5


def test_sb3_got_cheese_is_not_truncation():
    venv = sb3_env(1)
    venv.reset()
    for a in [7, 7, 7, 7, 5, 5, 5, 5]:
        _, rew, done, infos = venv.step(np.array([a]))
    assert done[0] and rew[0] == 10.0
    assert infos[0]["got_cheese"] and not infos[0]["TimeLimit.truncated"] and infos[0]["episode"]["r"] == 10.0


def test_sb3_spaces_and_helpers():
    from stable_baselines3.common.preprocessing import is_image_space

    venv = sb3_env(3)
    assert venv.observation_space.shape == (3, 7, 7) and venv.observation_space.high.max() == 1
    assert not is_image_space(venv.observation_space)
    assert venv.action_space.n == 15
    venv.reset()
    assert venv.env_is_wrapped(object) == [False] * 3
    assert [m.tolist() for m in venv.get_attr("mouse")] == [[5, 1]] * 3
    assert venv.get_attr("max_steps", indices=[1]) == [500]
    venv.set_attr("max_steps", 9)
    assert venv.venv.max_steps == 9
    with pytest.raises(ValueError):
        venv.set_attr("max_steps", 9, indices=[0])
    with pytest.raises(ValueError, match="max_steps"):
        venv.set_attr("max_steps", 0)
    obs = venv.env_method("set_levels", np.array([0]), Levels.from_list([LEVEL]), indices=[0])[0]
    assert obs.shape == (3, 3, 7, 7)
    assert venv.seed(3) == [3, 3, 3]
    with pytest.raises(AttributeError):
        venv.get_attr("no_such_thing")
    rgb = sb3_env(2, obs="rgb", use_backgrounds=False)
    assert is_image_space(rgb.observation_space) and rgb.observation_space.shape == (64, 64, 3)


def test_sb3_ppo_learns_without_error():
    from stable_baselines3 import PPO

    venv = sb3_env(4, max_steps=20)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu",
                policy_kwargs=dict(net_arch=[16]))
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    assert len(model.ep_info_buffer) > 0  # our "episode" infos reached SB3's logger
    # rgb frames are an image space: CnnPolicy transposes them itself
    rgb = sb3_env(2, obs="rgb", max_steps=10)
    cnn = PPO("CnnPolicy", rgb, n_steps=8, batch_size=16, n_epochs=1, seed=0, device="cpu",
              policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=16), net_arch=[]))
    cnn.learn(total_timesteps=16)
    assert cnn.num_timesteps >= 16


def test_make_vec_env_validation():
    from mazegen.adapters.make import make_vec_env

    bad = [
        (dict(num_envs=0), "num_envs"),
        (dict(obs="pix"), "obs must be one of"),
        (dict(distribution_mode="medium"), "distribution_mode"),
        (dict(maze_size=4), r"maze_size for distribution_mode='hard' must be an odd integer in \[3, 25\]"),
        (dict(maze_size=(3, 27)), "maze_size"),
        (dict(cheese="middle"), "unknown cheese placement"),
        (dict(mouse="none"), "mouse placement"),
        (dict(num_levels=-1), "num_levels"),
        (dict(start_level=-2), "start_level"),
        (dict(seed=-1), "seed"),
        (dict(max_steps=0), "max_steps"),
        (dict(rgb_style="x"), "rgb_style"),
        (dict(use_backgrounds="yes"), "use_backgrounds"),
    ]
    for kw, msg in bad:
        args = dict(num_envs=2)
        args.update(kw)
        n = args.pop("num_envs")
        with pytest.raises(ValueError, match=msg):
            make_vec_env(n, **args)


def test_make_vec_env_grid_runs_and_is_deterministic():
    need_generator()
    from mazegen.adapters.make import make_vec_env

    def run(seed):
        venv = make_vec_env(8, seed=seed, max_steps=30)
        out = [venv.reset()]
        for a in np.random.default_rng(1).integers(0, 15, (80, 8)):
            o, r, d, infos = venv.step(a)
            out += [o, r, d]
        return out

    a, b = run(0), run(0)
    assert a[0].shape == (8, 3, 25, 25)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_make_vec_env_ppo_smoke():
    need_generator()
    from stable_baselines3 import PPO

    from mazegen.adapters.make import make_vec_env

    venv = make_vec_env(4, cheese="top-right:5", maze_size=(3, 5), max_steps=30, seed=1)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu",
                policy_kwargs=dict(net_arch=[16]))
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256


# ------------------------------------------------------------------------------ gymnasium
# check_env warns that an env built without gymnasium.make has no spec to test render modes with
_NO_SPEC = pytest.mark.filterwarnings("ignore:.*Not able to test alternative render modes")


@_NO_SPEC
def test_gymnasium_check_env_fixed_level():
    import gymnasium
    from gymnasium.utils.env_checker import check_env

    from mazegen.adapters.gymnasium import MazeEnv

    env = MazeEnv(level=LEVEL, render_mode="rgb_array")
    check_env(env, skip_render_check=False)
    made = gymnasium.make("mazegen/Maze-v0", level=LEVEL)
    assert made.unwrapped.__class__ is MazeEnv


def test_gymnasium_episode_and_reset_semantics():
    from mazegen.adapters.gymnasium import MazeEnv

    env = MazeEnv(level=LEVEL, max_steps=3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)
    obs, info = env.reset()
    assert obs[1, 5, 1] == 1
    for _k in range(3):
        obs, r, term, trunc, info = env.step(7)
    assert trunc and not term and obs[1, 5, 4] == 1  # the last frame of the episode
    assert info["episode"] == {"r": 0.0, "l": 3}
    with pytest.raises(RuntimeError, match="reset"):
        env.step(7)
    obs, _ = env.reset()
    assert obs[1, 5, 1] == 1
    with pytest.raises(ValueError, match="action"):
        env.step([1, 2])


@_NO_SPEC
def test_gymnasium_procgen_stream():
    need_generator()
    from gymnasium.utils.env_checker import check_env

    import mazegen
    from mazegen.adapters.gymnasium import MazeEnv
    from mazegen.procgen.seeds import LevelSeeds

    env = MazeEnv(seed=5, max_steps=4)
    check_env(env)
    # plain resets after episode ends walk procgen's level stream, like the engine
    obs, info = env.reset(seed=9)
    seeds = [info["level_seed"]]
    for _ in range(2):
        for _ in range(4):
            *_, info = env.step(4)
        obs, info = env.reset()
        seeds.append(info["level_seed"])
    ls = LevelSeeds(1, rand_seed=9)
    expect = [int(ls.next(np.array([0]))[0]) for _ in range(3)]
    assert seeds == expect
    assert np.array_equal(obs[0], mazegen.procgen_level(seeds[-1]).walls)


def test_vector_env_same_step_autoreset():
    from gymnasium.vector import AutoresetMode

    from mazegen.adapters.vector import MazeVectorEnv

    inner = MazeVecEnv(FixedLevelSource(Levels.from_list([LEVEL] * 3)), 3, max_steps=4)
    venv = MazeVectorEnv(env=inner, render_mode="rgb_array")
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert venv.observation_space.shape == (3, 3, 7, 7) and venv.single_action_space.n == 15
    obs, infos = venv.reset(seed=1)
    assert obs.shape == (3, 3, 7, 7) and obs in venv.observation_space
    for k in range(4):
        obs, rew, term, trunc, infos = venv.step(np.array([7, 7, 4]))
        if k < 3:
            assert infos == {}
    assert trunc.all() and infos["_final_obs"].all()
    assert infos["final_obs"][0][1, 5, 5] == 1 and obs[0, 1, 5, 1] == 1
    assert infos["final_info"]["episode_length"].tolist() == [4, 4, 4]
    assert infos["episode"]["l"].tolist() == [4, 4, 4]
    assert venv.render().shape == (3, 64, 64, 3)
    venv.close()


def test_vector_env_procgen():
    need_generator()
    from mazegen.adapters.vector import MazeVectorEnv

    a = MazeVectorEnv(4, seed=2, max_steps=10)
    b = MazeVectorEnv(4, seed=0, max_steps=10)
    oa, _ = a.reset()
    ob, _ = b.reset(seed=2)
    assert np.array_equal(oa, ob)
    for act in np.random.default_rng(0).integers(0, 15, (25, 4)):
        ra = a.step(act)
        rb = b.step(act)
        assert np.array_equal(ra[0], rb[0]) and np.array_equal(ra[1], rb[1])


@pytest.mark.parametrize("kind", ["native", "procgen"])
def test_batched_vec_env_methods(kind):
    """The VecEnv methods both batched envs share (``BatchedVecEnvMethods``): attributes split
    per env, one method call repeated per index, no wrappers, index and name errors, seeds."""
    if kind == "native":
        venv = sb3_env(3)
        owner, name = venv.venv, "MazeVecEnv"
    else:
        from mazegen.procgen.backend import make_procgen_vec_env

        venv = make_procgen_vec_env(3, maze_size=5, use_backgrounds=False)
        owner, name = venv, "ProcgenMazeVecEnv"
    try:
        venv.reset()
        assert venv.get_attr("num_envs") == [3, 3, 3]
        owner._t[:] = [4, 5, 6]  # a per-env array is split by env
        assert [int(x) for x in venv.get_attr("_t", [2, 0])] == [6, 4]
        assert venv.env_method("__repr__", indices=[0, 1]) == [repr(owner)] * 2
        assert venv.env_is_wrapped(object) == [False] * 3
        assert venv.seed(None) == [None] * 3 and venv.seed(7) == [7] * 3
        with pytest.raises(AttributeError, match=f"^{name} has no attribute 'nope'$"):
            venv.get_attr("nope")
        with pytest.raises(AttributeError, match=f"^{name} has no method 'nope'$"):
            venv.env_method("nope")
        with pytest.raises(ValueError, match=r"env index 3 out of range \[0, 2\]"):
            venv.get_attr("num_envs", [3])
        with pytest.raises(ValueError, match="seed"):
            venv.seed(-1)
    finally:
        venv.close()
