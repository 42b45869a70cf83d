"""The training env: the one factory both loops (PPO and distillation) play."""

from __future__ import annotations

from .config import TrainConfig

__all__ = ["make_train_env"]


def make_train_env(config: TrainConfig, seed: int):
    """The training env of ``config`` (an SB3 VecEnv over a :class:`~mazegen.env.MazeVecEnv`,
    ``seed`` its level-seed generator's seed).

    >>> env = make_train_env(TrainConfig(n_envs=2, n_steps=8, batch_size=16), seed=0)
    >>> env.num_envs, env.observation_space.shape
    (2, (3, 25, 25))
    >>> env.close()
    """
    import mazegen

    return mazegen.make_vec_env(
        config.n_envs,
        obs=config.obs,
        rgb_style=config.rgb_style,
        distribution_mode=config.distribution_mode,
        maze_size=config.maze_sizes(),
        cheese=config.cheese,
        mouse="start",
        num_levels=config.num_levels,
        start_level=config.start_level,
        seed=seed,
        max_steps=config.max_steps,
    )
