"""The argparse types and run-directory helpers of steering.cli."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from steering.cli import (
    RUNS_DIR,
    comma_floats,
    comma_ints,
    comma_strs,
    finish_run,
    int_at_least,
    jsonable,
    positive_float,
    run_dir,
)


def test_int_at_least():
    parse = int_at_least(1, "--mazes")
    assert parse("3") == 3
    for bad, shown in (("0", "0"), ("x", "'x'"), ("1.5", "'1.5'")):
        with pytest.raises(
            argparse.ArgumentTypeError, match=f"--mazes must be an integer >= 1, got {shown}"
        ):
            parse(bad)


def test_positive_float():
    parse = positive_float("--sps")
    assert parse("2.5") == 2.5 and parse("1e3") == 1000.0
    for bad in ("0", "-1", "nan", "inf", "abc"):
        with pytest.raises(
            argparse.ArgumentTypeError, match=f"--sps must be a number > 0, got '{bad}'"
        ):
            parse(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="expected a number > 0"):
        positive_float()("0")


def test_comma_lists():
    assert comma_ints("0, 4,8,") == [0, 4, 8]
    assert comma_floats("0.5,1") == [0.5, 1.0]
    assert comma_strs(" a, b ,,") == ["a", "b"]
    with pytest.raises(
        argparse.ArgumentTypeError, match="expected comma-separated integers, got '1,x'"
    ):
        comma_ints("1,x")


def test_jsonable_and_finish_run(tmp_path, capsys):
    x = {1: (np.int64(2), np.float32(0.5), math.nan), "k": [np.float64(1.5)]}
    assert jsonable(x) == {"1": [2, 0.5, None], "k": [1.5]}
    assert run_dir("given", "probe") == Path("given")
    auto = run_dir(None, "probe")
    assert auto.parent == RUNS_DIR and auto.name.startswith("probe-")
    out = tmp_path / "run"
    out.mkdir()
    summary = finish_run(out, {"rate": np.float64(0.25)}, as_json=True)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"run directory: {out}"
    assert json.loads(printed[1]) == summary == json.loads((out / "summary.json").read_text())
    assert summary == {"rate": 0.25, "out": str(out)}
