"""The one table of object ids and observation channels.

procgen stores the maze as a flat grid of ints (RESEARCH.md section 1). The mouse is an
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
    "MONO_RGB",
    "NUM_ACTIONS",
    "NUM_BACKGROUNDS",
    "MAX_STEPS",
    "CHEESE_REWARD",
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

#: Colours of procgen's ``use_monochrome_assets=True`` mode.
MONO_RGB = {"mouse": (127, 255, 127), "cheese": (127, 127, 255), "wall": (191, 127, 63)}

#: procgen's action count (the maze uses only 4 of them; see the env card).
NUM_ACTIONS = 15
#: Number of background images procgen's maze draws from.
NUM_BACKGROUNDS = 9
#: procgen's episode timeout: the 500th step ends the episode.
MAX_STEPS = 500
#: Reward for stepping onto the cheese.
CHEESE_REWARD = 10.0
