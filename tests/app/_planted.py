"""The planted agent and helpers shared by the app tests (imported via sys.path).

The planted agent is the steering tests' known-answer network (``tests/steering/_steer_tiny.py``)
at world size 25: its layer ``embedder.block2.res1.resadd_out`` has channels
``[wall, cheese, mouse, 0.1]`` at world resolution and its head walks (BFS) to the argmax of
the cheese channel when that exceeds 0.5, else to the inner maze's top-right cell. Clamping
channel 1 at a cell to 2.0 therefore sends it there, on any maze.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "steering"))
from _steer_tiny import CHEESE_CH, LAYER, TinyPolicy  # noqa: E402

__all__ = ["LAYER", "MAZE", "PLANTED_RETARGET", "TinyPolicy", "far_target", "planted_store"]

#: A retarget request that works on the planted agent.
PLANTED_RETARGET = {"layer": LAYER, "channels": [CHEESE_CH], "magnitude": 2.0}
#: The maze the tests use: small, no cheese (the published retargeting setting).
MAZE = {"seed": 7, "size": 7, "no_cheese": True}


def planted_store():
    from steering.app import AgentStore

    return AgentStore(zoo=False, policies={"planted": TinyPolicy(25)})


def far_target(store, maze=MAZE):
    """An open cell the unpatched planted agent does not reach (it goes top-right)."""
    from steering.app import Session

    s = Session(store, {"agent": "planted", "maze": maze})
    lv = s.level
    m, n = lv.margin, lv.maze_size
    for r in range(m + n - 1, m - 1, -1):
        for c in range(m, m + n):
            if lv.walls[r, c] or (r, c) == lv.mouse or abs(r - lv.mouse[0]) + abs(c - lv.mouse[1]) < 4:
                continue
            s.set_state({"agent": "planted", "maze": maze, "target": (r, c)})
            if s.rollout({"max_steps": 60})["outcome"] == "neither":
                return (r, c)
    raise AssertionError("no far target on the test maze")


#: A zoo-agent case where the app's default retarget (the 8 best cheese-tracking channels of
#: ``embedder.block2.res1.resadd_out`` clamped to 2.3) sends the greedy mouse to the target and
#: the unpatched agent does not get there (found by a search over seeds and corners).
ZOO_AGENT = "grid-r5-long-s1"
ZOO_MAZE = {"seed": 20, "size": 7, "cheese": "none"}
ZOO_TARGET = (9, 9)
