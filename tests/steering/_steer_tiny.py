"""Tiny hand-built networks (test helper, imported via sys.path by the steering tests) whose right answers are known, for the steering tests.

``CheeseNet`` is named like ImpalaModel (``embedder.block1.conv``,
``embedder.block2.res1.resadd_out``, ``fc_policy``, ``fc_value``). Its layer
``embedder.block2.res1.resadd_out`` is ``(4, W, W)`` at world resolution with channels
``[wall, cheese, mouse, 0.1]``; the policy head reads that layer: it goes (BFS) to the argmax
of the cheese channel if its max is > 0.5, else to the inner maze's top-right open cell (the
"proxy goal"). So clamping channel 1 at a cell retargets it exactly, and the cheese vector is
the cheese indicator.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch
from torch import nn

from agents.policy import Policy
from mazegen import Level, Levels

LAYER = "embedder.block2.res1.resadd_out"
CHEESE_CH = 1
LOGIT = 6.0
# canonical moves: LEFT=1 DOWN=3 UP=5 RIGHT=7
MOVES = {(0, -1): 1, (1, 0): 3, (-1, 0): 5, (0, 1): 7}


def bfs(open_: np.ndarray, src) -> np.ndarray:
    h, w = open_.shape
    d = np.full((h, w), -1, np.int64)
    d[src] = 0
    q = deque([src])
    while q:
        r, c = q.popleft()
        for dr, dc in MOVES:
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and open_[rr, cc] and d[rr, cc] < 0:
                d[rr, cc] = d[r, c] + 1
                q.append((rr, cc))
    return d


class Planner(nn.Module):
    """(B, 4, W, W) -> (B, 15) logits: LOGIT on the BFS move towards the goal."""

    def forward(self, act: torch.Tensor) -> torch.Tensor:
        b, _, h, w = act.shape
        out = torch.zeros(b, 15)
        a = act.detach().numpy()
        for i in range(b):
            open_ = a[i, 0] < 0.5
            if not open_.any():  # wall channel ablated to a wall everywhere: stand still
                out[i, 4] = LOGIT
                continue
            mouse = np.unravel_index(a[i, 2].argmax(), (h, w))
            ch = a[i, CHEESE_CH].copy()
            ch[~open_] = -np.inf
            if ch.max() > 0.5:
                goal = np.unravel_index(ch.argmax(), (h, w))
            else:
                cells = np.argwhere(open_)
                top = cells[:, 0].min()
                goal = (top, cells[cells[:, 0] == top, 1].max())
            d = bfs(open_, tuple(int(v) for v in goal))
            best = None
            for (dr, dc), act_id in MOVES.items():
                r, c = mouse[0] + dr, mouse[1] + dc
                if 0 <= r < h and 0 <= c < w and d[r, c] >= 0 and d[r, c] < d[mouse]:
                    best = act_id
            out[i, 4 if best is None else best] = LOGIT
        return out


class Zeros(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x.shape[0])


class Identity(nn.Module):
    def forward(self, x):
        return x


class CheeseNet(nn.Module):
    def __init__(self, obs_size: int) -> None:
        super().__init__()
        self.obs_size = obs_size
        self.in_channels = 3
        self.channels = (3, 4, 4)
        self.embedder = nn.Module()
        self.embedder.block1 = nn.Module()
        self.embedder.block1.conv = nn.Conv2d(3, 3, 1)
        with torch.no_grad():
            self.embedder.block1.conv.weight.copy_(torch.eye(3).reshape(3, 3, 1, 1))
            self.embedder.block1.conv.bias.zero_()
        self.embedder.block2 = nn.Module()
        self.embedder.block2.res1 = nn.Module()
        self.embedder.block2.res1.resadd_out = Identity()
        self.fc_policy = Planner()
        self.fc_value = Zeros()

    def forward(self, x):
        h = self.embedder.block1.conv(x)  # (B, 3, W, W): wall, mouse, cheese
        z = torch.cat([h[:, 0:1], h[:, 2:3], h[:, 1:2], torch.full_like(h[:, :1], 0.1)], 1)
        z = self.embedder.block2.res1.resadd_out(z)  # (B, 4, W, W): wall, cheese, mouse, 0.1
        return self.fc_policy(z), self.fc_value(z)


class TinyPolicy(Policy):
    """A Policy around CheeseNet (Policy insists on ImpalaModel, so set the fields directly)."""

    def __init__(self, obs_size: int) -> None:
        self.obs = "grid"
        self.device = torch.device("cpu")
        self.model = CheeseNet(obs_size).eval()
        self.fast = False
        self.rng = np.random.default_rng(0)
        self.metadata = {}


# a 9x9 world, inner 7x7 perfect maze; mouse at the start (bottom-left inner cell)
MAZE_A = """
#########
#.......#
#.#####.#
#.#...#.#
#.#.#.###
#...#.#.#
###.#.#.#
#M..#...#
#########
"""
MAZE_B = """
#########
#.#.....#
#.#.###.#
#.#.#...#
#.###.###
#.....#.#
#.#####.#
#M......#
#########
"""


def levels_ab(cheese=((1, 7), (3, 5))) -> Levels:
    a = Level.from_ascii(MAZE_A)
    b = Level.from_ascii(MAZE_B)
    return Levels.from_list([a.with_cheese(cheese[0]), b.with_cheese(cheese[1])])
