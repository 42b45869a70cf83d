"""Textured rendering: assets, Qt arithmetic, and frame-for-frame equality with procgen."""

from __future__ import annotations

import numpy as np
import pytest

from mazegen.level import Level
from mazegen.levels import Levels
from mazegen.procgen.engine import engine_level, make_engine, pixel_check
from mazegen.render.assets import (
    BACKGROUND_ASSETS,
    MAZE_ASSETS,
    asset_path,
    asset_root,
    maze_textures,
    premultiply,
)
from mazegen.render.textured import TexturedRenderer, frame_geometry, render_rgb

MAZE5 = """
#####
#..C#
#.###
#M..#
#####
"""


def _qt_premultiply_packed(rgba: np.ndarray) -> np.ndarray:
    """Qt's qPremultiply on packed 0xAARRGGBB words (an independent, packed-integer version)."""
    r, g, b, a = (rgba[..., i].astype(np.uint64) for i in range(4))
    x = (a << 24) | (r << 16) | (g << 8) | b
    t = (x & 0xFF00FF) * a
    t = ((t + ((t >> 8) & 0xFF00FF) + 0x800080) >> 8) & 0xFF00FF
    y = ((x >> 8) & 0xFF) * a
    y = (y + ((y >> 8) & 0xFF) + 0x80) & 0xFF00
    p = y | t | (a << 24)
    return np.stack([(p >> 16) & 255, (p >> 8) & 255, p & 255, p >> 24], axis=-1).astype(np.uint8)


def test_premultiply_matches_qt_for_every_byte_pair():
    c, a = np.meshgrid(np.arange(256), np.arange(256))
    rgba = np.stack([c, 255 - c, c // 2, a], axis=-1).astype(np.uint8)
    assert np.array_equal(premultiply(rgba), _qt_premultiply_packed(rgba))
    with pytest.raises(ValueError, match="uint8 array of shape"):
        premultiply(np.zeros((2, 3), np.uint8))


def test_assets_come_from_the_installed_procgen_package():
    root = asset_root()
    assert root.is_dir() and "procgen" in root.parts
    for rel in (*MAZE_ASSETS.values(), *BACKGROUND_ASSETS):
        assert asset_path(rel).is_file()
    with pytest.raises(FileNotFoundError, match="nope.png"):
        asset_path("nope.png")
    tex = maze_textures()
    assert len(tex.backgrounds) == 9 and all(b.shape[-1] == 3 for b in tex.backgrounds)
    # premultiplied: no channel exceeds alpha; the mouse has translucent edge pixels
    for spr in (tex.wall, tex.cheese, tex.mouse):
        assert (spr[..., :3] <= spr[..., 3:4]).all()
    assert ((tex.mouse[..., 3] > 0) & (tex.mouse[..., 3] < 255)).any()


def test_geometry_is_procgens_float32_layout():
    hard, easy = frame_geometry(25), frame_geometry(15)
    assert hard.unit == pytest.approx(2.56) and easy.unit == pytest.approx(64 / 15, rel=1e-6)
    # every world pixel is covered by exactly the spans of the cells; spans tile 0..64
    for g in (hard, easy):
        p0, p1 = g.wall_cols.p0, g.wall_cols.p1
        assert p0[0] == 0 and p1[-1] == 64 and (p0[1:] <= p1[:-1]).all()
        assert (g.mouse_cols.p1 - g.mouse_cols.p0 >= 2).all()
    with pytest.raises(ValueError, match="odd integer in \\[3, 64\\]"):
        frame_geometry(24)


@pytest.mark.parametrize("mode", ["hard", "easy"])
@pytest.mark.parametrize("use_bg", [True, False])
def test_static_frames_equal_procgen(mode, use_bg):
    for seed in (0, 7, 123456):
        eng = make_engine(
            1, distribution_mode=mode, num_levels=1, start_level=seed, use_backgrounds=use_bg
        )
        lvl = engine_level(eng, 0)
        want = np.asarray(eng.observe()[1]["rgb"][0])
        eng.close()
        got = render_rgb(lvl, use_backgrounds=use_bg)[0]
        assert np.array_equal(got, want), (mode, use_bg, seed, int((got != want).any(-1).sum()))


@pytest.mark.parametrize("mode,use_bg", [("hard", True), ("hard", False), ("easy", True)])
def test_random_walks_equal_procgen_frame_for_frame(mode, use_bg):
    s = pixel_check(
        range(1000, 1004),
        steps=40,
        envs_per_seed=3,
        distribution_mode=mode,
        use_backgrounds=use_bg,
        rng_seed=1,
    )
    assert s["frames_compared"] == 4 * 3 * 41
    assert s["dynamics_mismatches"] == 0
    assert s["frames_identical"] == s["frames_compared"], s


def test_incremental_render_equals_one_shot_render():
    rng = np.random.default_rng(0)
    lvl = Level.from_ascii(MAZE5)
    open_cells = lvl.open_cells()
    n = 3
    r = TexturedRenderer(n, 5)
    lv = Levels.from_list([lvl.replace(background=b) for b in (0, 4, 8)])
    r.set_levels(np.arange(n), lv)
    out = np.zeros((n, 64, 64, 3), np.uint8)
    for _ in range(25):
        mouse = open_cells[rng.integers(0, len(open_cells), n)]
        facing = rng.random(n) < 0.5
        r.render(mouse, facing, out)
        assert np.array_equal(out, render_rgb(lv, mouse=mouse, facing_right=facing))


def test_render_env_ids_touches_only_those_rows():
    lvl = Level.from_ascii(MAZE5)
    r = TexturedRenderer(3, 5, use_backgrounds=False)
    r.set_levels(np.arange(3), Levels.from_list([lvl] * 3))
    out = np.full((3, 64, 64, 3), 7, np.uint8)
    r.render(np.array([[1, 1]]), np.array([True]), out, env_ids=np.array([1]))
    assert (out[[0, 2]] == 7).all()
    assert np.array_equal(
        out[1], render_rgb(lvl, mouse=[[1, 1]], facing_right=[True], use_backgrounds=False)[0]
    )
    # no background: open cells stay black, walls do not
    static = r.static_frames()[0]
    assert (static[30:34, 30:34] != 0).any() and (static[:, :].sum(-1) == 0).any()


def test_facing_mirrors_the_sprite():
    lvl = Level.from_ascii(MAZE5)
    left = render_rgb(lvl, use_backgrounds=False)[0]
    right = render_rgb(lvl, facing_right=[True], use_backgrounds=False)[0]
    diff = np.argwhere((left != right).any(-1))
    assert len(diff)
    g = frame_geometry(5)
    r, c = lvl.mouse
    assert diff[:, 0].min() >= g.mouse_rows.p0[r] and diff[:, 0].max() < g.mouse_rows.p1[r]
    assert diff[:, 1].min() >= g.mouse_cols.p0[c] and diff[:, 1].max() < g.mouse_cols.p1[c]


def test_bad_input_is_rejected_clearly():
    lvl = Level.from_ascii(MAZE5)
    r = TexturedRenderer(2, 5)
    out = np.zeros((2, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="call set_levels first"):
        r.render(np.array([[1, 1], [1, 1]]), np.zeros(2, bool), out)
    r.set_levels(np.arange(2), Levels.from_list([lvl] * 2))
    with pytest.raises(ValueError, match="mouse cells must lie in \\[0, 4\\]"):
        r.render(np.array([[1, 1], [5, 1]]), np.zeros(2, bool), out)
    with pytest.raises(ValueError, match="mouse must have shape \\(2, 2\\)"):
        r.render(np.array([[1, 1]]), np.zeros(2, bool), out)
    with pytest.raises(ValueError, match="out must be uint8 of shape \\(2, 64, 64, 3\\)"):
        r.render(np.array([[1, 1], [1, 1]]), np.zeros(2, bool), np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="env id 2 out of range \\[0, 1\\]"):
        r.set_levels(np.array([2]), Levels.from_list([lvl]))
    with pytest.raises(ValueError, match="world_size 5, this renderer needs 25"):
        TexturedRenderer(1, 25).set_levels(np.array([0]), Levels.from_list([lvl]))
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
        TexturedRenderer(0, 25)
    with pytest.raises(ValueError, match="expected a Level, Levels or a list of Level"):
        render_rgb(3)
