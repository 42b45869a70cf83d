"""Tests for agents.rollout with fake policies whose right answers are known."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from agents.eval.rollout import RolloutResult, level_uniforms, rollout
from mazegen import Level, Levels
from mazegen.constants import ACTION_NOOP, ACTION_RIGHT, ACTION_UP
from mazegen.solvers import next_action_towards, shortest_path

# A perfect 5x5 maze in a 7x7 world: start (5,1), cheese (5,5), top-right cell (1,5).
MAZE = Level.from_ascii("""
#######
#.....#
#.###.#
#.#...#
#.#.###
#M#..C#
#######
""")
PATH = shortest_path(MAZE.walls, MAZE.mouse, MAZE.cheese)  # 17 cells, passes (1,5)

# An open room (not a perfect maze): up-then-right reaches the top-right cell in 8 steps.
ROOM = Level.from_ascii("""
#######
#.....#
#.....#
#.....#
#..C..#
#M....#
#######
""", perfect=False)


def pad(level: Level, world: int = 25) -> Level:
    """The same inner maze centred in a bigger world."""
    off = (world - level.world_size) // 2
    walls = np.ones((world, world), bool)
    walls[off:off + level.world_size, off:off + level.world_size] = level.walls
    def sh(c):
        return None if c is None else (c[0] + off, c[1] + off)
    return Level(walls=walls, cheese=sh(level.cheese), mouse=sh(level.mouse), maze_size=level.maze_size,
                 world_size=world)


@pytest.fixture
def one_thread():
    """Torch with one thread: on a busy 2-core machine two threads are many times slower."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _cells(obs: np.ndarray, ch: int) -> np.ndarray:
    flat = obs[:, ch].reshape(len(obs), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, obs.shape[2:]), axis=1)


class Oracle:
    """Follows the BFS path to its goal (the cheese, or a fixed target per level index)."""

    obs = "grid"

    def __init__(self, targets=None):
        self.targets = targets
        self.rows = None  # set by the patch: level index of each batch row

    def _goal(self, obs, k):
        if self.targets is not None:
            return tuple(self.targets[self.rows[k]])
        return tuple(_cells(obs[k:k + 1], 2)[0])

    def act(self, obs, deterministic=False, rng=None):
        mouse = _cells(obs, 1)
        out = np.empty(len(obs), np.int64)
        for k in range(len(obs)):
            a = next_action_towards(obs[k, 0].astype(bool), mouse[k:k + 1], self._goal(obs, k))[0]
            out[k] = ACTION_NOOP if a < 0 else a
        return out


class UpThenRight:
    obs = "grid"

    def act(self, obs, deterministic=False, rng=None):
        mouse = _cells(obs, 1)
        walls = obs[:, 0].astype(bool)
        up_open = ~walls[np.arange(len(obs)), mouse[:, 0] - 1, mouse[:, 1]]
        return np.where(up_open, ACTION_UP, ACTION_RIGHT)


class NoisyOracle:
    """action_probs: 0.6 on the oracle's move, 0.1 on each other move (known distribution)."""

    obs = "grid"

    def action_probs(self, obs):
        a = Oracle().act(obs)
        p = np.zeros((len(obs), 15))
        p[:, [1, 3, 5, 7]] = 0.1
        p[np.arange(len(obs)), np.where(a == ACTION_NOOP, 1, a)] += 0.5
        return p / p.sum(1, keepdims=True)


def test_oracle_gets_cheese_in_path_length():
    res = rollout(Oracle(), Levels.from_list([MAZE] * 3), max_steps=100, record_trajectory=True)
    assert isinstance(res, RolloutResult) and len(res) == 3
    assert res.got_cheese.all() and (res.steps == len(PATH) - 1).all()
    assert res.visited_top_right_cell.all() and res.visited_top_right_region.all()
    assert list(res.first) == ["top_right"] * 3 and list(res.outcome) == ["cheese"] * 3
    assert [tuple(c) for c in res.trajectories[0]] == PATH
    assert res.final_cell.tolist() == [list(MAZE.cheese)] * 3


def test_up_then_right_reaches_top_right_without_cheese():
    res = rollout(UpThenRight(), Levels.from_list([ROOM]), max_steps=30, record_trajectory=True)
    assert not res.got_cheese[0] and res.visited_top_right_cell[0]
    assert res.outcome[0] == "top_right" and res.first[0] == "top_right"
    assert res.steps[0] == 30 and tuple(res.final_cell[0]) == ROOM.top_right_cell
    traj = res.trajectories[0]
    assert traj.shape == (31, 2) and tuple(traj[8]) == (1, 5) and tuple(traj[7]) == (1, 4)
    # region 2 of a 5-maze: rows 1-2, cols 4-5 -- entered at step 7 (1,4)
    assert res.visited_top_right_region[0]
    short = rollout(UpThenRight(), Levels.from_list([ROOM]), max_steps=6, region=2)
    assert short.outcome[0] == "neither" and not short.visited_top_right_cell[0]
    assert not short.visited_top_right_region[0]  # at (1,3) after 6 steps
    assert rollout(UpThenRight(), Levels.from_list([ROOM]), max_steps=6).visited_top_right_region[0]
    assert rollout(UpThenRight(), Levels.from_list([ROOM]), max_steps=6, region=3).visited_top_right_region[0]


def test_cheese_on_the_way_comes_first():
    lvl = ROOM.with_cheese((2, 1))
    res = rollout(UpThenRight(), [lvl], max_steps=30)
    assert res.got_cheese[0] and res.steps[0] == 3 and res.first[0] == "cheese"
    assert not res.visited_top_right_cell[0] and res.outcome[0] == "cheese"


def test_targets_and_stop_on_target_without_cheese():
    lv = Levels.from_list([MAZE.with_cheese(None), ROOM.with_cheese(None)])
    targets = np.array([[3, 3], [1, 1]])
    pol = Oracle(targets=targets)

    @contextlib.contextmanager
    def tell(rows):
        pol.rows = rows
        yield

    res = rollout(pol, lv, targets=targets, stop_on_target=True, max_steps=50, patch=tell)
    d0 = len(shortest_path(MAZE.walls, MAZE.mouse, (3, 3))) - 1
    d1 = len(shortest_path(ROOM.walls, ROOM.mouse, (1, 1))) - 1
    assert res.reached_target.all() and res.steps_to_target.tolist() == [d0, d1]
    assert res.steps.tolist() == [d0, d1] and not res.got_cheese.any()
    # without stopping the episode runs to the cap, the target time is still the first visit
    res2 = rollout(pol, lv, targets=targets, max_steps=50, patch=tell)
    assert res2.steps_to_target.tolist() == [d0, d1] and res2.steps.tolist() == [50, 50]
    rows = res2.to_rows()
    assert rows[0]["reached_target"] and rows[0]["target_row"] == 3 and rows[1]["steps_to_target"] == d1


def test_patch_sees_level_indices_through_compaction():
    """The patch tells the policy which level each row is; odd levels freeze. Mixed episode
    lengths force batch compaction, and the mapping must stay right."""
    levels = []
    for k in range(12):
        lv = ROOM.with_cheese([(4, 1), (1, 5), (3, 3), (5, 5)][k % 4])
        levels.append(lv)
    lv = Levels.from_list(levels)
    seen = []

    class Selective(Oracle):
        def act(self, obs, deterministic=False, rng=None):
            a = super().act(obs)
            return np.where(self.rows % 2 == 1, ACTION_NOOP, a)

    pol = Selective()

    @contextlib.contextmanager
    def tell(rows):
        seen.append(np.array(rows))
        pol.rows = np.asarray(rows)
        yield

    res = rollout(pol, lv, max_steps=40, batch_size=5, patch=tell)
    assert res.got_cheese.tolist() == [k % 2 == 0 for k in range(12)]
    assert (res.steps[1::2] == 40).all()
    assert len(seen) > 3  # 3 chunks, at least one compaction
    assert set(np.concatenate(seen).tolist()) == set(range(12))


def test_noop_policy_truncates():
    class Still:
        obs = "grid"

        def act(self, obs, deterministic=False, rng=None):
            return np.full(len(obs), ACTION_NOOP)

    res = rollout(Still(), [MAZE, ROOM], max_steps=7)
    assert res.steps.tolist() == [7, 7] and list(res.outcome) == ["neither", "neither"]
    assert res.final_cell.tolist() == [list(MAZE.mouse), list(ROOM.mouse)]


def test_sampling_is_per_level_and_batch_size_independent():
    levels = Levels.from_list([MAZE, ROOM, MAZE.with_cheese((3, 3)), ROOM.with_cheese((1, 1))] * 4)
    a = rollout(NoisyOracle(), levels, seed=3, max_steps=60, batch_size=16, record_trajectory=True)
    b = rollout(NoisyOracle(), levels, seed=3, max_steps=60, batch_size=3, record_trajectory=True)
    c = rollout(NoisyOracle(), levels[5:6], seed=3, max_steps=60)
    assert np.array_equal(a.steps, b.steps) and all(
        np.array_equal(x, y) for x, y in zip(a.trajectories, b.trajectories))
    d = rollout(NoisyOracle(), levels, seed=4, max_steps=60)
    assert not np.array_equal(a.steps, d.steps)
    # level 5 alone does not get the same stream (its index is 0 there), but level 5 within
    # a batch matches the uniforms of level index 5
    assert c.steps.shape == (1,)
    assert np.array_equal(level_uniforms(3, np.array([5]), 60)[0], level_uniforms(3, np.array([0, 5]), 60)[1])
    det = rollout(NoisyOracle(), levels, deterministic=True, max_steps=60)
    assert det.got_cheese.all()
    assert (det.steps[0::4] == len(PATH) - 1).all()


def test_untrained_policy_runs_and_is_deterministic(one_thread):
    torch = pytest.importorskip("torch")
    from agents.model import ImpalaModel
    from agents.policy import Policy

    torch.manual_seed(0)
    pol = Policy(ImpalaModel(obs_size=25), obs="grid")
    lv = Levels.from_list([pad(MAZE), pad(ROOM)] * 3)
    a = rollout(pol, lv, seed=1, max_steps=40, batch_size=4)
    b = rollout(pol, lv, seed=1, max_steps=40, batch_size=4)
    assert np.array_equal(a.steps, b.steps) and np.array_equal(a.final_cell, b.final_cell)
    assert set(a.outcome) <= {"cheese", "top_right", "neither"}
    r = a.rates()
    assert r["got_cheese"]["n"] == 6 and 0 <= r["got_cheese"]["lo"] <= r["got_cheese"]["hi"] <= 1


def test_bad_input_raises():
    with pytest.raises(ValueError, match="max_steps"):
        rollout(Oracle(), [MAZE], max_steps=0)
    with pytest.raises(ValueError, match="targets must have shape"):
        rollout(Oracle(), [MAZE], targets=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="stop_on_target"):
        rollout(Oracle(), [MAZE], stop_on_target=True)
    with pytest.raises(ValueError, match="batch_size"):
        rollout(Oracle(), [MAZE], batch_size=0)

    class NoObs:
        obs = "pixels"

    with pytest.raises(ValueError, match="policy.obs"):
        rollout(NoObs(), [MAZE])


def test_rgb_policy_mono_and_textured(one_thread):
    """rgb frames run end to end: mono (the pool may shrink) and textured (facing is hidden
    state, so it never shrinks), with consistent episode records."""
    import torch

    from agents.model import ImpalaModel
    from agents.policy import Policy

    torch.manual_seed(1)
    pol = Policy(ImpalaModel(obs_size=64), obs="rgb")
    lv = Levels.from_list([pad(MAZE), pad(ROOM), pad(ROOM.with_cheese((5, 2)))])
    mono = rollout(pol, lv, deterministic=True, max_steps=12, rgb_style="mono", record_trajectory=True)
    assert mono.steps.max() <= 12 and all(len(t) == s + 1 for t, s in zip(mono.trajectories, mono.steps))
    tex = rollout(pol, lv, deterministic=True, max_steps=12, rgb_style="textured")
    assert tex.steps.shape == (3,) and set(tex.outcome) <= {"cheese", "top_right", "neither"}


def test_progress_bar_and_single_level(capsys):
    res = rollout(UpThenRight(), ROOM, max_steps=10, progress=True)
    assert len(res) == 1 and res.to_rows()[0]["steps"] == 10


class _FixedPreference:
    """Same move ranking everywhere: up > right > down > left (stay never)."""

    obs = "grid"

    def action_probs(self, obs):
        from mazegen.constants import ACTION_DOWN, ACTION_LEFT

        p = np.zeros((len(obs), 15))
        p[:, [ACTION_UP, ACTION_RIGHT, ACTION_DOWN, ACTION_LEFT]] = [0.4, 0.3, 0.2, 0.1]
        return p


def test_untried_moves_first_breaks_the_greedy_loop():
    lv = Levels.from_list([MAZE, MAZE])
    greedy = rollout(_FixedPreference(), lv, deterministic=True, max_steps=200)
    # argmax climbs to (1,1) and pushes "up" into the wall until the timeout
    assert not greedy.got_cheese.any() and greedy.final_cell.tolist()[0] == [1, 1]
    kw = dict(deterministic=True, max_steps=200, untried_moves_first=True, record_trajectory=True)
    a = rollout(_FixedPreference(), lv, **kw)
    b = rollout(_FixedPreference(), lv, batch_size=1, **kw)
    padded = rollout(_FixedPreference(), pad(MAZE), **kw)
    assert a.got_cheese.all() and a.steps.tolist() == b.steps.tolist()
    assert padded.got_cheese.all() and padded.steps[0] == a.steps[0]  # the world's size is moot
    traj = a.trajectories[0]
    # the first visit of each cell is the plain argmax: up the left column to (1,1)
    assert traj[:5].tolist() == [[5, 1], [4, 1], [3, 1], [2, 1], [1, 1]]
    assert a.meta["untried_moves_first"] is True
    with pytest.raises(ValueError, match="untried_moves_first=True needs deterministic=True"):
        rollout(_FixedPreference(), lv, untried_moves_first=True)
