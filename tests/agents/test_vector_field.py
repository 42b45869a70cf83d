"""Tests for agents.vector_field with policies of known behaviour."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from agents.eval.vector_field import field_difference, plot_vector_field, vector_field
from mazegen import Level
from mazegen.constants import ACTION_NOOP
from mazegen.solvers import bfs_distances, next_action_towards

MAZE = Level.from_ascii("""
#######
#.....#
#.###.#
#...#.#
#.###.#
#M#...#
#######
""").with_cheese((3, 3))


@pytest.fixture
def one_thread():
    """Torch with one thread: on a busy 2-core machine two threads are many times slower."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _cells(obs, ch):
    flat = obs[:, ch].reshape(len(obs), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, obs.shape[2:]), axis=1)


class Up:
    obs = "grid"

    def action_probs(self, obs):
        p = np.zeros((len(obs), 15))
        p[:, 5] = 1.0
        return p


class Oracle:
    obs = "grid"

    def action_probs(self, obs):
        mouse, cheese = _cells(obs, 1), _cells(obs, 2)
        p = np.zeros((len(obs), 15))
        for k in range(len(obs)):
            a = next_action_towards(obs[k, 0].astype(bool), mouse[k:k + 1], tuple(cheese[k]))[0]
            p[k, ACTION_NOOP if a < 0 else a] = 1.0
        return p


def test_oracle_field_points_along_the_path():
    vf = vector_field(Oracle(), MAZE)
    open_inner = int((~MAZE.walls).sum())
    assert len(vf.cells) == open_inner - 1  # every open cell but the cheese's
    assert np.allclose(vf.probs.sum(1), 1.0)
    dist = bfs_distances(MAZE.walls, MAZE.cheese)
    for (r, c), (dx, dy) in zip(vf.cells, vf.vectors):
        nr, nc = r - int(dy), c + int(dx)  # one unit vector: the next cell on the path
        assert abs(dx) + abs(dy) == 1 and dist[nr, nc] == dist[r, c] - 1
    assert vf.at((5, 1)).tolist() == [0.0, 1.0]  # up from the start
    assert vf.at((3, 2)).tolist() == [1.0, 0.0]  # right, towards the cheese
    with pytest.raises(ValueError, match="not in this field"):
        vf.at(MAZE.cheese)


def test_patch_and_difference(tmp_path):
    class Flippable(Oracle):
        flipped = False

        def action_probs(self, obs):
            p = super().action_probs(obs)
            return p[:, ::-1].copy() if self.flipped else p  # left<->right-ish swap of the 15 actions

    pol = Flippable()
    seen = []

    @contextlib.contextmanager
    def patch(rows):
        seen.append(rows)
        pol.flipped = True
        yield
        pol.flipped = False

    base = vector_field(pol, MAZE)
    flipped = vector_field(pol, MAZE, patch=patch)
    assert len(seen) == 1 and (seen[0] == 0).all() and len(seen[0]) == len(base.cells)
    assert not pol.flipped
    diff = field_difference(flipped, base)
    assert np.allclose(diff.vectors, flipped.vectors - base.vectors) and np.abs(diff.vectors).max() > 0
    assert plot_vector_field(base, tmp_path / "vf.png").is_file()
    assert plot_vector_field(flipped, tmp_path / "cmp.png", other=base).is_file()
    with pytest.raises(ValueError, match="different cells"):
        field_difference(base, vector_field(Up(), MAZE.with_cheese(None)))
    rows = base.to_rows()
    assert set(rows[0]) >= {"row", "col", "p_left", "p_up", "dx", "dy"}


def test_untrained_policy_and_bad_input(one_thread):
    torch = pytest.importorskip("torch")
    from agents.model import ImpalaModel
    from agents.policy import Policy
    from mazegen.procgen.generate import generate_level

    torch.manual_seed(0)
    lvl = generate_level(3_000_000_000, maze_size=9)
    vf = vector_field(Policy(ImpalaModel(obs_size=25), obs="grid"), lvl)
    assert vf.probs.shape == (len(vf.cells), 5) and np.allclose(vf.probs.sum(1), 1, atol=1e-5)
    assert (np.abs(vf.vectors) <= 1 + 1e-6).all()
    with pytest.raises(ValueError, match="mazegen.Level"):
        vector_field(Oracle(), "maze")
