"""Everything that mirrors or drives real procgen.

- :mod:`~mazegen.procgen.mt19937`: procgen's RNG (MT19937 and its ``randn`` / ``randbool``).
- :mod:`~mazegen.procgen.generate` (+ :mod:`~mazegen.procgen.kernel`, the numba kernel):
  procgen-faithful maze generation and user-controlled size / placement.
- :mod:`~mazegen.procgen.seeds`: procgen's ``num_levels`` / ``start_level`` / ``rand_seed``.
- :mod:`~mazegen.procgen.state`: the engine's serialized game state, parsed and rewritten.
- :mod:`~mazegen.procgen.engine`: driving the real engine (set levels, read frames).
- :mod:`~mazegen.procgen.backend`: :func:`make_procgen_vec_env`, the real engine behind the
  same env interface as :class:`mazegen.MazeVecEnv`, and level push / read on any engine env;
  the env classes are :mod:`~mazegen.procgen.vec_env` (the SB3 ``VecEnv``) and
  :mod:`~mazegen.procgen.gym_env` (a gymnasium ``Env`` over one engine env).
"""
