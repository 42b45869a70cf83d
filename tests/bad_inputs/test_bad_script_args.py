"""The scripts' refusals: exit status 2, the message on stderr and nothing left in ``--out``;
and the accepted counterparts of the cell-placement refusals."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_inputs._not_a_checkpoint import NOT_CKPT

from agents.eval.sweep import SweepConfig
from mazegen.adapters.make import make_vec_env

ROOT = Path(__file__).resolve().parents[2]

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
    assert re.search(pattern, err.getvalue()), err.getvalue()
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
