"""Every bad input the project refuses, in one table: the call and the message (regex) it must
raise before any work; for the command-line scripts also that nothing is left in ``--out``.

Rows name the value and the allowed range in the message (the project's rule for bad input).
The first block of each table is issue #12's list; the rest gathers checks that existed before
(their own tests stay where they are; these rows pin the messages in one place).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import agents
from agents.checkpoint import NOT_A_CHECKPOINT
from agents.eval.sweep import SweepConfig
from agents.eval.sweep_axes import parse_placements, parse_sizes
from agents.model import ImpalaModel
from mazegen.adapters.make import make_vec_env
from mazegen.placement import AtCell, Region, parse_placement
from mazegen.procgen.generate import generate_level, generate_levels, procgen_levels
from steering.experiments import RetargetConfig
from steering.experiments.vectors import VectorConfig

ROOT = Path(__file__).resolve().parents[1]
NOT_CKPT = NOT_A_CHECKPOINT.replace(" ", r"\s")


# ---------------------------------------------------------------------------------------------
# files: checkpoints that are not checkpoints
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """A tiny grid agent and broken checkpoint files, by name."""
    d = tmp_path_factory.mktemp("ckpts")
    torch.manual_seed(0)
    good = agents.save(
        agents.Policy(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25), obs="grid"),
        d / "tiny.pt",
        metadata={"cheese_region": 5},
    )
    raw = good.read_bytes()
    (d / "truncated.pt").write_bytes(raw[: len(raw) // 2])
    (d / "empty.pt").write_bytes(b"")
    (d / "random.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    (d / "text.pt").write_text("model weights go here\n")
    torch.save([1, 2, 3], d / "list.pt")
    torch.save({"format": agents.checkpoint.FORMAT, "model_config": {"x": 1}}, d / "damaged.pt")
    torch.save({"model_state_dict": {"a": torch.zeros(2)}}, d / "foreign.pth")
    torch.save({"model_state_dict": [1, 2]}, d / "notdict.pth")
    return {p.stem: str(p) for p in d.iterdir()}


LOAD_CASES = [
    ("truncated", NOT_CKPT + r".*truncated\.pt"),
    ("empty", NOT_CKPT + r".*empty\.pt \(the file is empty\)"),
    ("random", NOT_CKPT + r".*random\.pt"),
    ("text", NOT_CKPT + r".*text\.pt"),
    ("list", NOT_CKPT + r".*holds a list without 'format'"),
    ("damaged", NOT_CKPT + r".*a damaged cheese-maze-agent/1 file"),
    ("foreign", NOT_CKPT + r".*lacks the procgen-tools key .*embedder\.block1\.conv\.weight"),
    ("notdict", NOT_CKPT + r".*model_state_dict is a list"),
]


@pytest.mark.parametrize("name,pattern", LOAD_CASES, ids=[c[0] for c in LOAD_CASES])
def test_load_refuses_files_that_are_not_checkpoints(files, name, pattern):
    with pytest.raises(ValueError, match=pattern):
        agents.load(files[name])


def test_load_unknown_name_lists_the_zoo():
    zoo = agents.zoo_names()
    for bad in ("no-such-agent", "/no/such/dir/model.pt"):
        with pytest.raises(ValueError, match="neither a file nor a zoo agent; zoo agents: ") as e:
            agents.load(bad)
        assert all(name in str(e.value) for name in zoo)


# ---------------------------------------------------------------------------------------------
# the library: calls and the message each must raise
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# the scripts: exit status 2, the message on stderr, nothing in --out
# ---------------------------------------------------------------------------------------------
def _script(name: str):
    spec = importlib.util.spec_from_file_location(
        f"_script_{name}", ROOT / "scripts" / f"{name}.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TINY = "{tiny}"
CLI_CASES = [
    # --- issue #12
    (
        "sweep",
        ["--agent", TINY, "--sizes", "3,5", "--placements", "top-left,cell:12,12", "--mazes", "2"],
        r"sweep unit 3_cell-12-12: cheese cell \(12, 12\) is a wall",
    ),
    ("sweep", ["--agent", "{random}", "--sizes", "5", "--mazes", "2"], NOT_CKPT),
    ("sweep", ["--agent", "{truncated}", "--sizes", "5", "--mazes", "2"], NOT_CKPT),
    (
        "sweep",
        ["--agent", "no-such-agent", "--sizes", "5"],
        r"neither a file nor a zoo agent; zoo agents:",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--channels", "999", "--sizes", "5"],
        r"channel 999 is out of range for layer .*channels must be in \[0, 7\]",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--layer", "embedder.nope", "--sizes", "5"],
        r"unknown layer 'embedder\.nope'; hook points: \[",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--targets", ""],
        r"--targets: expected at least one target, got ''",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--sizes", ""],
        r"--sizes: expected 'all' or comma-separated odd",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--sizes", "4"],
        r"--sizes: expected 'all' or comma-separated odd",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--methods", ""],
        r"--methods: expected at least one method, got ''",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--targets", "grid:99", "--sizes", "5"],
        r"target 'grid:99' asks for a 99x99 grid .* K must be in \[2, 3\]",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--magnitudes", "nan"],
        r"--magnitudes: expected comma-separated finite",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--n-channels", "0"],
        r"--n-channels must be an integer >= 1, got 0",
    ),
    (
        "steer",
        ["retarget", "--agent", "{empty}", "--sizes", "5"],
        NOT_CKPT + r".*the file is empty",
    ),
    (
        "steer",
        ["vector", "--agent", TINY, "--coeffs", ""],
        r"--coeffs: expected comma-separated finite numbers",
    ),
    (
        "steer",
        ["vector", "--agent", TINY, "--coeffs", "inf"],
        r"--coeffs: expected comma-separated finite numbers",
    ),
    (
        "steer",
        ["vector", "--agent", TINY, "--layer", "bad", "--sizes", "5"],
        r"unknown layer 'bad'; hook points",
    ),
    (
        "steer",
        ["discover", "--agent", TINY, "--validate-top", "99"],
        r"--validate-top must be in \[1, 8\]",
    ),
    (
        "steer",
        ["discover", "--agent", TINY, "--magnitude", "nan"],
        r"expected a finite number, got 'nan'",
    ),
    ("probe", ["probe", "--agent", TINY, "--layer", "bad"], r"unknown layer 'bad'; hook points"),
    (
        "probe",
        ["probe", "--agent", TINY, "--sizes", "4"],
        r"--sizes entry must be an odd integer in \[3, 25\], got 4",
    ),
    ("probe", ["probe", "--agent", TINY, "--sizes", ""], r"--sizes must name at least one value"),
    (
        "probe",
        ["probe", "--agent", TINY, "--test-frac", "nan"],
        r"--test-frac must be in \(0, 1\), got nan",
    ),
    ("probe", ["probe", "--agent", "{truncated}"], NOT_CKPT),
    (
        "probe",
        ["prune", "--agent", TINY, "--ks", "99"],
        r"--ks: k must be in \[0, 8\] \(or -1 for half\)",
    ),
    (
        "probe",
        ["prune", "--agent", TINY, "--modes", "max"],
        r"--modes: each must be 'zero' or 'mean', got 'max'",
    ),
    (
        "vector_field",
        ["--agent", TINY, "--cheese", "cell:0,1"],
        r"cheese cell \(0, 1\) is outside the inner maze",
    ),
    (
        "vector_field",
        ["--agent", TINY, "--size", "4"],
        r"maze_size must be an odd integer in \[3, 25\], got 4",
    ),
    ("vector_field", ["--agent", "{list}"], NOT_CKPT),
    # --- checks that existed before
    ("sweep", ["--agent", TINY, "--sizes", "4"], r"sizes entry must be an odd integer in \[3, 25\], got 4"),
    (
        "sweep",
        ["--agent", TINY, "--mazes", "-3"],
        r"mazes must be an integer in \[1, 100000\], got -3",
    ),
    ("sweep", ["--agent", TINY, "--placements", "middle"], r"unknown cheese placement 'middle'"),
    (
        "sweep",
        ["--agent", TINY, "--threads", "0"],
        r"threads must be None or an integer >= 1, got 0",
    ),
    (
        "sweep",
        ["stats", "--agent", TINY, "--mazes", "5"],
        r"mazes must be an integer in \[20, \d+\], got 5",
    ),
    (
        "sweep",
        ["stats", "--agent", TINY, "--n-boot", "1"],
        r"n_boot must be an integer >= 2, got 1",
    ),
    (
        "sweep",
        ["stats", "--agent", "{random}"],
        NOT_CKPT,
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--mazes", "0"],
        r"--mazes must be an integer >= 1, got 0",
    ),
    ("steer", ["retarget", "--agent", TINY, "--methods", "magic"], r"unknown method 'magic'"),
    (
        "steer",
        ["vector", "--agent", TINY, "--kind", "top-right", "--sizes", "25"],
        r"the top-right vector needs maze size < 25",
    ),
    (
        "steer",
        ["discover", "--agent", TINY, "--size", "4"],
        r"--size must be an odd integer in \[3, 25\], got 4",
    ),
    (
        "steer",
        ["discover", "--agent", TINY, "--seed", "-1"],
        r"--seed must be an integer >= 0, got -1",
    ),
    (
        "steer",
        ["retarget", "--agent", TINY, "--seed", "-1", "--sizes", "5"],
        r"seed must be an integer >= 0, got -1",
    ),
    (
        "probe",
        ["probe", "--agent", TINY, "--max-steps", "0"],
        r"--max-steps must be an integer >= 1, got 0",
    ),
    # --- issue #13: the frontier's counterfactual and steering-vector methods
    (
        "steer",
        ["frontier", "--agent", TINY, "--methods", "cf-target", "--cf-channels", "0"],
        r"knob values of 'cf-target' must be integers >= 1, got 0",
    ),
    (
        "steer",
        ["frontier", "--agent", TINY, "--methods", "cf-waypoint", "--cf-channels", "1,9"],
        r"cf-waypoint n=9 out of range \[1, 8\] for layer 'embedder\.block2\.res1\.resadd_out'",
    ),
    (
        "steer",
        ["frontier", "--agent", TINY, "--methods", "cf-target", "--cf-radius", "-1"],
        r"--cf-radius must be an integer >= 0, got -1",
    ),
    (
        "steer",
        ["frontier", "--agent", TINY, "--methods", "vec-compose", "--coeffs=1,0"],
        r"knob values of 'vec-compose' are coefficients and must be nonzero, got 0",
    ),
    (
        "steer",
        ["frontier", "--agent", TINY, "--methods", "vec-cheese", "--coeffs", "inf"],
        r"--coeffs: expected comma-separated finite numbers, got 'inf'",
    ),
    (
        "steer",
        ["frontier", "--agent", TINY, "--methods", "cf-teleport"],
        r"unknown method 'cf-teleport'; allowed: \[.*'cf-target', 'cf-waypoint'",
    ),
]


@pytest.mark.parametrize(
    "script,args,pattern",
    CLI_CASES,
    ids=[f"{c[0]}:{' '.join(c[1][:1] + c[1][3:])}" for c in CLI_CASES],
)
def test_scripts_refuse_before_writing(files, tmp_path, script, args, pattern):
    out = tmp_path / "out"
    argv = [a.format(**files) for a in args] + ["--out", str(out)]
    if script == "sweep" and "--max-steps" not in argv:
        argv += ["--max-steps", "5", "--no-progress"]
    err = io.StringIO()
    threads = torch.get_num_threads()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = _script(script).main(argv)
        except SystemExit as e:  # argparse errors
            rc = e.code
        finally:
            torch.set_num_threads(threads)
    assert rc == 2, err.getvalue()
    assert __import__("re").search(pattern, err.getvalue()), err.getvalue()
    left = sorted(os.listdir(out)) if out.exists() else []
    assert left == [], f"files left in --out: {left}"


def test_sweep_accepts_cell_placements_in_its_comma_list():
    cfg = SweepConfig(agent="x", sizes=(5,), placements="top-left,cell:12,12,cell:10, 14", mazes=3)
    assert cfg.placements == ("top-left", "cell:12,12", "cell:10,14")
    assert cfg.unit_names() == ["5_top-left", "5_cell-12-12", "5_cell-10-14"]


def test_an_accepted_cell_placement_survives_auto_resets():
    """The counterpart of the refusals: a node cell of the one allowed size is open in every
    level, so the env plays through many auto-resets with the cheese exactly there."""
    env = make_vec_env(4, cheese="cell:12,12", maze_size=5, seed=1)
    env.reset()
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(300):
        _, _, done, _ = env.step(rng.choice([1, 3, 5, 7], 4))
        ends += int(done.sum())
        assert (env.venv.levels.cheese == (12, 12)).all()
    assert ends > 0
