"""The batched env behind the usual interfaces.

- :mod:`~mazegen.adapters.gymnasium`: one env (:class:`MazeEnv`, ``mazegen/Maze-v0``).
- :mod:`~mazegen.adapters.vector`: ``gymnasium.vector`` (:class:`MazeVectorEnv`).
- :mod:`~mazegen.adapters.sb3`: stable-baselines3's ``VecEnv`` (:class:`MazeSB3VecEnv`).
- :mod:`~mazegen.adapters.make`: :func:`make_vec_env`, the usual entry point.
"""
