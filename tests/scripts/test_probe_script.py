"""Subprocess smoke tests of scripts/probe.py on an untrained ImpalaModel checkpoint (tiny N)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


@pytest.fixture
def run(run_script):
    return lambda args: run_script("scripts/probe.py", args)


@pytest.fixture(scope="module")
def ckpt(save_agent):
    return save_agent(channels=(4, 8, 8))


def test_help(run):
    r = run(["--help"])
    assert r.returncode == 0 and "probe" in r.stdout and "prune" in r.stdout
    r = run(["prune", "--help"])
    assert r.returncode == 0 and "--ks" in r.stdout and "--modes" in r.stdout


def test_probe_smoke(run, ckpt, tmp_path):
    out = tmp_path / "p"
    opts = "probe --mazes 20 --sizes 3,5 --max-steps 5 --json --no-progress".split()
    r = run([*opts, "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["command"] == "probe" and Path(s["out"]) == out and f"run directory: {out}" in r.stdout
    rows = list(csv.DictReader(open(out / "rows.csv")))
    assert {r["control"] for r in rows} == {"", "shuffled", "random-init"}
    probes = {"cheese_cell", "cheese_rowcol", "open_cell", "will_find_cheese"}
    assert {r["probe"] for r in rows} == probes
    assert (out / "probes.png").stat().st_size > 1000
    assert json.loads((out / "summary.json").read_text())["mazes"] == 20


def test_prune_smoke_and_errors(run, ckpt, tmp_path):
    out = tmp_path / "q"
    opts = "prune --mazes 4 --std-mazes 4 --ks 0,2 --in-sizes 3 --off-sizes 5 --max-steps 5 --json --no-progress"
    r = run([*opts.split(), "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["channels"] == 8 and len(s["channel_std"]) == 8
    rows = list(csv.DictReader(open(out / "rows.csv")))
    # baseline + 2 modes x (lowest-std + 3 random draws), in and off distribution
    assert len(rows) == 2 * (1 + 2 * 4) and {r["frac_modified"] for r in rows} == {"0.0", "0.25"}
    assert {(x["mode"], x["k"], x["draws"]) for x in s["random_summary"]} == {("zero", 2, 3), ("mean", 2, 3)}
    assert (out / "prune.png").stat().st_size > 1000
    opts = "prune --ks 99 --mazes 2 --std-mazes 2".split()
    bad = run([*opts, "--agent", ckpt, "--out", str(tmp_path / "b")])
    assert bad.returncode == 2 and "k must be in [0, 8]" in bad.stderr
    bad = run(["prune", "--agent", ckpt, "--modes", "median", "--out", str(tmp_path / "c")])
    assert bad.returncode == 2 and "median" in bad.stderr
