"""mazegen: the world. procgen's maze as data plus fast, faithful dynamics.

Levels are numpy data (:class:`Level`, :class:`Levels`), generated exactly as procgen does
(:func:`procgen_level`) or under user control of maze size and cheese/mouse placement
(:func:`generate_levels`). A batched numpy env plays them with procgen's dynamics, behind
gymnasium, gymnasium.vector and stable-baselines3 adapters (:func:`make_vec_env`).

Coordinates are ``(row, col)`` in world cells, row 0 at the top of the rendered image.

The world knows no policy: nothing in this package imports ``agents`` or ``steering``.
"""

from __future__ import annotations

from .constants import GRID_CHANNELS, MAX_STEPS, NUM_ACTIONS, WORLD_SIZE
from .lazy import lazy_exports
from .level import CORNERS, Level
from .levels import Levels
from .placement import (
    AtCell,
    Corner,
    Mask,
    NoCheese,
    Placement,
    Region,
    Start,
    Uniform,
    parse_placement,
)

# Public names provided by submodules, imported on first use (keeps `import mazegen` light).
_LAZY = {
    # generation (procgen-faithful RNG, Kruskal, placement)
    "procgen_level": "procgen.generate",
    "procgen_levels": "procgen.generate",
    "generate_level": "procgen.generate",
    "generate_levels": "procgen.generate",
    # procgen's num_levels / start_level / rand_seed protocol
    "LevelSeeds": "procgen.seeds",
    # solvers
    "bfs_distances": "solvers",
    "shortest_path": "solvers",
    "decision_square": "solvers",
    # batched env
    "MazeVecEnv": "env",
    # level sources
    "LevelSource": "level_source",
    "ProcgenLevelSource": "level_source",
    "FixedLevelSource": "level_source",
    # adapters
    "make_vec_env": "adapters.make",
    "MazeEnv": "adapters.gymnasium",
    "MazeVectorEnv": "adapters.vector",
    "MazeSB3VecEnv": "adapters.sb3",
    # renderers
    "render_mono": "render.mono",
    "render_rgb": "render.textured",
    # the real engine
    "make_procgen_vec_env": "procgen.backend",
}

__all__ = [
    "Level",
    "Levels",
    "CORNERS",
    "Placement",
    "Uniform",
    "Region",
    "AtCell",
    "Corner",
    "Mask",
    "NoCheese",
    "Start",
    "parse_placement",
    "GRID_CHANNELS",
    "MAX_STEPS",
    "NUM_ACTIONS",
    "WORLD_SIZE",
    *_LAZY,
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


def _register_gymnasium() -> None:
    try:
        import gymnasium
    except ImportError:  # pragma: no cover
        return
    if "mazegen/Maze-v0" not in gymnasium.registry:
        gymnasium.register(id="mazegen/Maze-v0", entry_point="mazegen.adapters.gymnasium:MazeEnv")


_register_gymnasium()
