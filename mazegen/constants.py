"""The one table of object ids and observation channels.

procgen stores the maze as a flat grid of ints (``docs/procgen-maze.md``, section 1). The mouse is an
entity, not a grid value. Our levels store walls as a boolean array and the cheese and mouse
as ``(row, col)`` cells; these ids are used only at the procgen boundary (state parsing,
the real-procgen backend) and in ASCII art.

>>> PROCGEN_IDS["wall"], PROCGEN_IDS["empty"], PROCGEN_IDS["cheese"]
(51, 100, 2)
>>> GRID_CHANNELS
('wall', 'mouse', 'cheese')
"""

from __future__ import annotations

__all__ = [
    "RGB_STYLES",
    "EMPTY",
    "WALL",
    "CHEESE",
    "PROCGEN_IDS",
    "GRID_CHANNELS",
    "CH_WALL",
    "CH_MOUSE",
    "CH_CHEESE",
    "ASCII",
    "WORLD_SIZE",
    "MIN_MAZE_SIZE",
    "MAX_MAZE_SIZE",
    "MONO_RGB",
    "NUM_ACTIONS",
    "NUM_BACKGROUNDS",
    "MAX_STEPS",
    "MAX_SEED",
    "CHEESE_REWARD",
    "ACTION_LEFT",
    "ACTION_DOWN",
    "ACTION_UP",
    "ACTION_RIGHT",
    "ACTION_NOOP",
    "MOVE_ACTIONS",
    "ACTION_DELTAS",
]

#: procgen grid value of an open cell.
EMPTY = 100
#: procgen grid value of a wall cell.
WALL = 51
#: procgen grid value of the cheese (the GOAL object).
CHEESE = 2
PROCGEN_IDS = {"empty": EMPTY, "wall": WALL, "cheese": CHEESE}

#: Channels of the ``grid`` observation, in order: ``obs[CH_WALL]`` is 1 on walls, etc.
GRID_CHANNELS = ("wall", "mouse", "cheese")
CH_WALL, CH_MOUSE, CH_CHEESE = 0, 1, 2

#: ASCII art characters used by :meth:`mazegen.Level.to_ascii` / ``from_ascii``.
ASCII = {"wall": "#", "empty": ".", "mouse": "M", "cheese": "C"}

#: World side in cells for each distribution mode.
WORLD_SIZE = {"easy": 15, "hard": 25}
#: Smallest inner maze side (procgen draws odd sides from 3 up to the world side).
MIN_MAZE_SIZE = 3
#: Largest inner maze side: the hard-mode world side.
MAX_MAZE_SIZE = WORLD_SIZE["hard"]

#: Side of procgen's rgb observation (and of every rgb frame here) in pixels.
FRAME = 64

#: Colours of procgen's ``use_monochrome_assets=True`` mode.
MONO_RGB = {"mouse": (127, 255, 127), "cheese": (127, 127, 255), "wall": (191, 127, 63)}

#: procgen's action count (the maze uses only 4 of them; see the env card).
NUM_ACTIONS = 15
#: Number of background images procgen's maze draws from.
NUM_BACKGROUNDS = 9
#: procgen's episode timeout: the 500th step ends the episode.
MAX_STEPS = 500
#: Largest procgen seed, for level seeds and ``rand_seed`` alike: procgen seeds its mt19937
#: generators with the seed modulo 2**32, so seeds are uint32.
MAX_SEED = 2**32 - 1
#: Reward for stepping onto the cheese.
CHEESE_REWARD = 10.0

#: Frame styles for ``obs="rgb"``: procgen's own (``"textured"``, the default) and its
#: ``use_monochrome_assets`` frame (``"mono"``).
RGB_STYLES = ("mono", "textured")

#: Canonical action ids for the four moves (procgen maps 0-2 to left, 6-8 to right as well).
ACTION_LEFT, ACTION_DOWN, ACTION_NOOP, ACTION_UP, ACTION_RIGHT = 1, 3, 4, 5, 7
MOVE_ACTIONS = {"left": ACTION_LEFT, "down": ACTION_DOWN, "up": ACTION_UP, "right": ACTION_RIGHT}


def _action_deltas():
    import numpy as np

    d = np.zeros((NUM_ACTIONS, 2), dtype=np.int64)
    for a in range(9):  # 9..14 are procgen's special keys: no-ops in maze
        vx, vy = a // 3 - 1, a % 3 - 1
        if vx != 0:  # maze drops vy whenever vx != 0
            vy = 0
        d[a] = (-vy, vx)  # procgen's y points up: row = -y
    d.setflags(write=False)
    return d


#: ``(15, 2)`` ``(d_row, d_col)`` of each action; e.g. ``ACTION_DELTAS[ACTION_UP] == (-1, 0)``.
ACTION_DELTAS = _action_deltas()
