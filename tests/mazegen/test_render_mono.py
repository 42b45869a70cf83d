"""Monochrome frames: the renderer protocol, and lockstep pixel equality with the real engine."""

from __future__ import annotations

import numpy as np
import pytest

from mazegen.constants import MONO_RGB
from mazegen.level import Level
from mazegen.levels import Levels
from mazegen.render.mono import MonoRenderer, Renderer, render_mono

ART = """
#######
#...#C#
###.#.#
#.#...#
#.###.#
#M....#
#######
"""
LEVEL = Level.from_ascii(ART)


def colour_mask(frame: np.ndarray, name: str) -> np.ndarray:
    return (frame == np.array(MONO_RGB[name], np.uint8)).all(axis=-1)


def test_protocol_and_one_shot():
    r = MonoRenderer(2, 7, use_backgrounds=False)
    assert isinstance(r, Renderer)
    f = render_mono(LEVEL, use_backgrounds=False)
    assert f.shape == (1, 64, 64, 3) and f.dtype == np.uint8
    colours = {tuple(c) for c in f[0].reshape(-1, 3).tolist()}
    assert colours == {(0, 0, 0), tuple(MONO_RGB["wall"]), tuple(MONO_RGB["cheese"]), tuple(MONO_RGB["mouse"])}
    # the mouse blob lies inside its cell (5, 1): rows/cols of cell k span about [k*64/7, (k+1)*64/7)
    rows, cols = np.nonzero(colour_mask(f[0], "mouse"))
    u = 64 / 7
    assert rows.min() >= 5 * u - 1 and rows.max() <= 6 * u and cols.min() >= 1 * u - 1 and cols.max() <= 2 * u
    # facing does not change a mono frame; a moved mouse does
    assert np.array_equal(render_mono(LEVEL, facing_right=[True], use_backgrounds=False), f)
    moved = render_mono(LEVEL, mouse=[[5, 2]], use_backgrounds=False)
    assert not np.array_equal(moved, f)


def test_incremental_render_equals_one_shot():
    rng = np.random.default_rng(0)
    lv = Levels.from_list([LEVEL] * 3)
    r = MonoRenderer(3, 7, use_backgrounds=True)
    r.set_levels(np.arange(3), lv)
    out = np.zeros((3, 64, 64, 3), np.uint8)
    open_cells = np.argwhere(~LEVEL.walls)
    for _ in range(30):
        m = open_cells[rng.integers(len(open_cells), size=3)]
        r.render(m, np.zeros(3, bool), out)
        assert np.array_equal(out, render_mono(lv, mouse=m))
    # rendering a subset only touches those rows
    before = out.copy()
    m = open_cells[[0]]
    r.render(m, [False], out, env_ids=np.array([1]))
    assert np.array_equal(out[[0, 2]], before[[0, 2]])
    assert np.array_equal(out[1], render_mono(LEVEL, mouse=m)[0])
    # a fresh out buffer gets full frames
    out2 = np.zeros_like(out)
    r.render(m.repeat(3, 0), np.zeros(3, bool), out2)
    assert np.array_equal(out2, render_mono(lv, mouse=m.repeat(3, 0)))


def test_bad_input():
    r = MonoRenderer(2, 7)
    out = np.zeros((2, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="call set_levels first"):
        r.render(np.array([[5, 1], [5, 1]]), np.zeros(2, bool), out)
    r.set_levels(np.arange(2), Levels.from_list([LEVEL] * 2))
    with pytest.raises(ValueError, match="mouse must have shape"):
        r.render(np.array([[5, 1]]), np.zeros(2, bool), out)
    with pytest.raises(ValueError, match=r"mouse cells must lie in \[0, 6\]"):
        r.render(np.array([[5, 1], [7, 1]]), np.zeros(2, bool), out)
    with pytest.raises(ValueError, match="out must be"):
        r.render(np.array([[5, 1], [5, 1]]), np.zeros(2, bool), out[:1])
    with pytest.raises(ValueError, match="env id 2 out of range"):
        r.set_levels(np.array([2]), Levels.from_list([LEVEL]))
    with pytest.raises(ValueError, match="world_size"):
        MonoRenderer(2, 8)


# ------------------------------------------------------------------------------ the real engine
@pytest.mark.parametrize("use_backgrounds", [True, False])
def test_first_frames_match_procgen(use_backgrounds):
    pytest.importorskip("mazegen.procgen.generate")
    procgen = pytest.importorskip("procgen")
    import mazegen

    for seed in (0, 7, 123, 4567):
        env = procgen.ProcgenGym3Env(num=1, env_name="maze", distribution_mode="hard", num_levels=1,
                                     start_level=seed, use_monochrome_assets=True,
                                     use_backgrounds=use_backgrounds)
        _, ob, _ = env.observe()
        ours = render_mono(mazegen.procgen_level(seed), use_backgrounds=use_backgrounds)[0]
        assert np.array_equal(ob["rgb"][0], ours), f"seed {seed}: {(ob['rgb'][0] != ours).any(-1).sum()} px differ"


def _lockstep(seed: int, steps: int, rng: np.random.Generator, greedy: float, use_backgrounds: bool = True,
              mode: str = "hard"):
    import procgen

    from mazegen.env import MazeVecEnv
    from mazegen.level_source import ProcgenLevelSource
    from mazegen.solvers import next_action_towards

    real = procgen.ProcgenGym3Env(num=1, env_name="maze", distribution_mode=mode, num_levels=1,
                                  start_level=seed, use_monochrome_assets=True, use_backgrounds=use_backgrounds)
    ours = MazeVecEnv(ProcgenLevelSource(1, distribution_mode=mode, num_levels=1, start_level=seed), 1, obs="rgb",
                      rgb_style="mono", use_backgrounds=use_backgrounds)
    obs = ours.reset()
    _, ob, first = real.observe()
    assert np.array_equal(ob["rgb"], obs)
    n_done = n_cheese = 0
    for k in range(steps):
        if rng.random() < greedy:
            lv = ours.levels[0]
            a = int(next_action_towards(lv.walls, ours.mouse, lv.cheese)[0])
        else:
            a = int(rng.integers(0, 15))
        real.act(np.array([a]))
        rew_r, ob, first = real.observe()
        obs, rew, term, trunc, info = ours.step(np.array([a]))
        assert rew_r[0] == rew[0], f"seed {seed} step {k}: reward {rew_r[0]} vs {rew[0]}"
        assert bool(first[0]) == bool(term[0] or trunc[0]), f"seed {seed} step {k}: done differs"
        diff = (ob["rgb"][0] != obs[0]).any(-1)
        assert not diff.any(), f"seed {seed} step {k} action {a}: {diff.sum()} px differ"
        n_done += int(term[0] or trunc[0])
        n_cheese += int(term[0])
    return n_done, n_cheese


def test_lockstep_with_procgen_mono():
    pytest.importorskip("mazegen.procgen.generate")
    pytest.importorskip("mazegen.solvers")
    pytest.importorskip("procgen")
    rng = np.random.default_rng(0)
    total_cheese = 0
    for seed in (1, 22, 333):
        _, c = _lockstep(seed, 250, rng, greedy=0.6)
        total_cheese += c
    assert total_cheese >= 3  # episodes really ended on the cheese, with same-step resets
    # pure random actions: the timeout at step 500, then the replayed level
    n_done, n_cheese = _lockstep(44, 520, rng, greedy=0.0, use_backgrounds=False)
    assert n_done >= 1
    # easy mode (4.27 px cells) is exact too on these frames
    _lockstep(5, 150, rng, greedy=0.5, mode="easy")
