"""The library's refusals: each call and the message (regex) it must raise before any work."""

from __future__ import annotations

import pytest

import agents
from agents.eval.sweep import SweepConfig
from agents.eval.sweep_axes import parse_placements, parse_sizes
from mazegen.adapters.make import make_vec_env
from mazegen.placement import AtCell, Region, parse_placement
from mazegen.procgen.generate import generate_level, generate_levels, procgen_levels
from steering.experiments import RetargetConfig
from steering.experiments.vectors import VectorConfig

API_CASES = [
    # --- issue #12
    (
        "env cell on a wall, procgen's size draw",
        lambda: make_vec_env(2, cheese="cell:0,1"),
        r"cheese placement 'cell:0,1' cannot be used with procgen's size draw \(3\.\.25\): it is "
        r"outside the 3x3 inner maze \(rows and cols in \[11, 13\]\)",
    ),
    (
        "env cell always a wall",
        lambda: make_vec_env(2, cheese="cell:11,11", maze_size=5),
        r"'cell:11,11' cannot be used with maze_size 5: it is a wall in every 5x5 maze.*10, 12, 14",
    ),
    (
        "env cell a corridor",
        lambda: make_vec_env(2, cheese="cell:11,12", maze_size=5),
        r"'cell:11,12' .* corridor cell of a 5x5 maze, open in some mazes and a wall in others",
    ),
    (
        "env cell outside one allowed size",
        lambda: make_vec_env(2, cheese="cell:10,10", maze_size=(3, 5)),
        r"maze_size \(3, 5\): it is outside the 3x3 inner maze",
    ),
    (
        "env mouse cell on a wall",
        lambda: make_vec_env(2, mouse="cell:0,0", maze_size=23),
        r"mouse placement 'cell:0,0' .* outside the 23x23 inner maze \(rows and cols in \[1, 23\]\)",
    ),
    (
        "env cheese on the mouse's start",
        lambda: make_vec_env(2, cheese="cell:14,10", maze_size=5),
        r"cheese placement 'cell:14,10' is the mouse's start cell \(14, 10\)",
    ),
    (
        "cell off the world",
        lambda: parse_placement("cell:12,99"),
        r"cell col must be an integer in \[0, 24\], got 99",
    ),
    ("cell negative", lambda: AtCell(-1, 3), r"cell row must be an integer in \[0, 24\], got -1"),
    (
        "sweep cell on a wall in one unit",
        lambda: SweepConfig(agent="x", sizes=(3, 5), placements="top-left,cell:12,12", mazes=3),
        r"sweep unit 3_cell-12-12: cheese cell \(12, 12\) is a wall \(level seed 3000000000, "
        r"maze_size 3\)",
    ),
    (
        "sweep corridor cell walled in some maze",
        lambda: SweepConfig(agent="x", sizes=(5,), placements="cell:11,12", mazes=50),
        r"sweep unit 5_cell-11-12: cheese cell \(11, 12\) is a wall \(level seed \d+",
    ),
    (
        "generate_levels maze_size a string",
        lambda: generate_levels([0], maze_size="abc"),
        r"maze_size must be None, an odd int in \[3, 25\] or a sequence of such ints .*got 'abc'",
    ),
    (
        "generate_levels maze_size a float",
        lambda: generate_levels([0], maze_size=5.0),
        r"maze_size must be None, an odd int in \[3, 25\] .*got 5\.0",
    ),
    (
        "retarget channel out of range (needs the agent)",
        None,
        r"channel 999 is out of range for layer 'embedder\.block2\.res1\.resadd_out': channels "
        r"must be in \[0, 7\]",
    ),
    (
        "retarget unknown layer (needs the agent)",
        None,
        r"unknown layer 'embedder\.nope'; hook points: \['embedder\.block1\.conv'",
    ),
    (
        "retarget empty targets",
        lambda: RetargetConfig(targets=[]).validate(),
        r"targets must name at least one entry",
    ),
    (
        "retarget empty sizes",
        lambda: RetargetConfig(sizes=[]).validate(),
        r"sizes must name at least one entry",
    ),
    (
        "retarget empty methods",
        lambda: RetargetConfig(methods=[]).validate(),
        r"methods must name at least one entry",
    ),
    (
        "retarget grid:K beyond the maze",
        lambda: RetargetConfig(targets=["grid:99"], sizes=[5, 25]).validate(),
        r"target 'grid:99' asks for a 99x99 grid of node cells but a 5x5 maze has 3x3; K must be "
        r"in \[2, 3\]",
    ),
    (
        "retarget empty magnitudes",
        lambda: RetargetConfig(magnitudes=[]).validate(),
        r"magnitudes must name at least one value",
    ),
    (
        "retarget nan magnitude",
        lambda: RetargetConfig(magnitudes=[float("nan")]).validate(),
        r"magnitudes must be finite numbers, got \[nan\]",
    ),
    (
        "retarget empty channels",
        lambda: RetargetConfig(channels=[]).validate(),
        r"channels must name at least one channel",
    ),
    (
        "retarget negative channel",
        lambda: RetargetConfig(channels=[-1]).validate(),
        r"channel must be an integer >= 0, got -1",
    ),
    (
        "retarget n_channels 0",
        lambda: RetargetConfig(n_channels=0).validate(),
        r"n_channels must be an integer >= 1, got 0",
    ),
    (
        "vector empty coeffs",
        lambda: VectorConfig(coeffs=[]).validate(),
        r"coeffs must name at least one entry",
    ),
    (
        "vector inf coeff",
        lambda: VectorConfig(coeffs=[float("inf")]).validate(),
        r"coeffs must be finite numbers, got \[inf\]",
    ),
    (
        "vector empty sizes",
        lambda: VectorConfig(sizes=[]).validate(),
        r"sizes must name at least one entry",
    ),
    # --- checks that existed before (messages pinned here)
    ("env obs kind", lambda: make_vec_env(2, obs="pix"), r"obs must be one of \('grid', 'rgb'\)"),
    (
        "env maze size even",
        lambda: make_vec_env(2, maze_size=4),
        r"maze_size for distribution_mode='hard' must be an odd integer in \[3, 25\], got 4",
    ),
    (
        "env unknown cheese",
        lambda: make_vec_env(2, cheese="middle"),
        r"unknown cheese placement 'middle'; allowed: uniform, top-right:N",
    ),
    (
        "env mouse none",
        lambda: make_vec_env(2, mouse="none"),
        r"mouse placement 'none' is not allowed; allowed: start",
    ),
    (
        "env num_levels",
        lambda: make_vec_env(2, num_levels=-1),
        r"num_levels must be an integer in \[0, 2147483647\], got -1",
    ),
    ("env seed", lambda: make_vec_env(2, seed=-1), r"seed must be an integer in \[0, 4294967295\]"),
    (
        "env max_steps",
        lambda: make_vec_env(2, max_steps=0),
        r"max_steps must be an integer >= 1, got 0",
    ),
    ("env num_envs", lambda: make_vec_env(0), r"num_envs must be an integer >= 1, got 0"),
    ("env rgb_style", lambda: make_vec_env(2, rgb_style="x"), r"rgb_style must be one of"),
    (
        "env use_backgrounds",
        lambda: make_vec_env(2, use_backgrounds="yes"),
        r"use_backgrounds must be a bool, got 'yes'",
    ),
    (
        "generate maze_size even",
        lambda: generate_levels([0], maze_size=10),
        r"maze_size must be an odd integer in \[3, 25\], got 10",
    ),
    (
        "generate maze_size per seed",
        lambda: generate_levels([0, 1], maze_size=[5]),
        r"maze_size sequence has 1 entries, expected one per seed \(2\)",
    ),
    (
        "generate seed",
        lambda: procgen_levels([-1]),
        r"level seeds must be in \[0, 4294967295\], got -1",
    ),
    ("generate mode", lambda: procgen_levels([0], "medium"), r"distribution_mode must be one of"),
    (
        "generate region 0",
        lambda: generate_levels([0], cheese="top-right:0"),
        r"region size n must be an integer >= 1, got 0",
    ),
    (
        "generate cell on a wall",
        lambda: generate_levels([0], maze_size=9, cheese=AtCell(9, 9)),
        r"cheese cell \(9, 9\) is a wall \(level seed 0, maze_size 9\)",
    ),
    (
        "generate one level, list size",
        lambda: generate_level(0, maze_size=[5]),
        r"maze_size for one level must be an int or None",
    ),
    (
        "region of a mouse",
        lambda: parse_placement("top-right:3", what="mouse"),
        r"mouse placement 'top-right:3' is not allowed",
    ),
    ("region 0", lambda: Region(0), r"region size n must be an integer >= 1, got 0"),
    ("sweep sizes", lambda: parse_sizes("3,4"), r"sizes entry must be an odd integer in \[3, 25\], got 4"),
    ("sweep sizes text", lambda: parse_sizes("x"), r"sizes must be 'all' or comma-separated odd"),
    (
        "sweep placement",
        lambda: parse_placements("top-left,middle"),
        r"unknown cheese placement 'middle'",
    ),
    (
        "sweep placement twice",
        lambda: parse_placements("top-left,top-left"),
        r"'top-left' is listed twice",
    ),
    (
        "sweep cell missing col",
        lambda: parse_placements("cell:12"),
        r"cell spec must look like 'cell:ROW,COL'",
    ),
    (
        "sweep mazes",
        lambda: SweepConfig(agent="x", mazes=0),
        r"mazes must be an integer in \[1, 100000\], got 0",
    ),
    (
        "sweep seed bool",
        lambda: SweepConfig(agent="x", seed=True),
        r"seed must be an integer in .*got True",
    ),
    (
        "retarget method",
        lambda: RetargetConfig(methods=["magic"]).validate(),
        r"unknown method 'magic'; allowed: \['single', 'channels', 'discovered'\]",
    ),
    (
        "retarget target",
        lambda: RetargetConfig(targets=["middle"]).validate(),
        r"unknown target 'middle'",
    ),
    (
        "retarget size",
        lambda: RetargetConfig(sizes=[4]).validate(),
        r"maze size must be an odd integer in \[3, 25\], got 4",
    ),
    (
        "vector kind",
        lambda: VectorConfig(kind="up").validate(),
        r"kind must be 'cheese' or 'top-right'",
    ),
    (
        "vector top-right at 25",
        lambda: VectorConfig(kind="top-right", sizes=[25]).validate(),
        r"the top-right vector needs maze size < 25, got 25",
    ),
]


def _needs_agent_cases(files):
    policy = agents.load(files["tiny"])
    return {
        "retarget channel out of range (needs the agent)": lambda: (
            RetargetConfig(channels=[999]).validate().check_for(policy)
        ),
        "retarget unknown layer (needs the agent)": lambda: (
            RetargetConfig(layer="embedder.nope").validate().check_for(policy)
        ),
    }


@pytest.mark.parametrize("name,call,pattern", API_CASES, ids=[c[0] for c in API_CASES])
def test_library_refuses(files, name, call, pattern):
    call = call or _needs_agent_cases(files)[name]
    with pytest.raises(ValueError, match=pattern):
        call()


def test_procgen_backend_refuses_unknown_obs_kind():
    pytest.importorskip("procgen")
    from mazegen.procgen.backend import make_procgen_vec_env

    with pytest.raises(
        ValueError,
        match=r"obs must be one of \('grid', 'rgb'\) \(the native env's kinds\), got 'pixels'",
    ):
        make_procgen_vec_env(1, obs="pixels")
    with pytest.raises(ValueError, match=r"cheese placement 'cell:0,1' cannot be used"):
        make_procgen_vec_env(1, cheese="cell:0,1")
