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


def _resumes(run, opts: str, ckpt: str, out: Path, csv_name: str, other: str) -> None:
    """A rerun into ``out`` reuses every unit (none rewritten) and gives the same rows; a rerun
    with the option ``other`` ("--flag value") changed is refused, naming the differing argument."""
    units = {p: p.stat().st_mtime_ns for p in (out / "units").iterdir()}
    assert units
    before = (out / csv_name).read_text()
    r = run([*opts.split(), "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    assert (out / csv_name).read_text() == before
    assert {p: p.stat().st_mtime_ns for p in (out / "units").iterdir()} == units
    r = run([*opts.split(), *other.split(), "--agent", ckpt, "--out", str(out)])
    name = other.split()[0].lstrip("-").replace("-", "_")
    assert r.returncode == 2 and f"other arguments ({name}: " in r.stderr, r.stderr


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


def test_probe_all_layers_smoke(run, ckpt, tmp_path):
    out = tmp_path / "al"
    layers = "embedder.block1.res2.resadd_out,embedder.block3.res2.resadd_out"
    opts = f"probe --all-layers --layers {layers} --mazes 24 --sizes 3,5,7 --max-steps 5 --json --no-progress"
    r = run([*opts.split(), "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["layers"] == layers.split(",") and s["mouse"] == "uniform"
    rows = list(csv.DictReader(open(out / "rows.csv")))
    assert {r["control"] for r in rows} == {"", "shuffled", "random-init"}
    assert {r["split"] for r in rows} == {"random", "in->out", "out->in"}
    kinds = {(r["target"], r["kind"]) for r in rows}
    for t in ("cheese_cell", "mouse_cell"):
        assert {(t, k) for k in ("logistic", "conv", "mean-diff", "pca")} <= kinds
    for t in ("will_find_cheese", "cheese_top_right"):
        assert {(t, k) for k in ("logistic", "mean-diff", "pca")} <= kinds
    assert ("cheese_rowcol", "ridge") in kinds and ("open_cell", "conv") in kinds
    assert (out / "probes_depth.png").stat().st_size > 1000
    bad = run(["probe", "--all-layers", "--layers", "embedder.fc", "--mazes", "6", "--agent", ckpt,
               "--out", str(tmp_path / "bad")])
    assert bad.returncode == 2 and "embedder.fc" in bad.stderr and not (tmp_path / "bad").exists()


def test_steer_by_probe_smoke(run, ckpt, tmp_path):
    out = tmp_path / "sp"
    opts = "steer-by-probe --probe-mazes 20 --mazes 3 --alphas 1 --tr-alphas=-1,1 --sizes 5,7 --max-steps 5 --tr-max-steps 5 --json --no-progress"
    r = run([*opts.split(), "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    kinds = {(x["concept"], x["kind"]) for x in s["table"]}
    assert kinds == {("cheese_cell", k) for k in ("conv", "mean-diff", "pca", "random")} | {
        ("cheese_top_right", k) for k in ("logistic", "mean-diff", "pca", "random")}
    control = list(csv.DictReader(open(out / "control.csv")))
    assert {x["metric"] for x in control} == {"reach_target", "p_cheese", "p_top_right"}
    assert (out / "steer_by_probe.png").stat().st_size > 1000 and (out / "read.csv").exists()
    _resumes(run, opts, ckpt, out, "control.csv", "--mazes 4")
    bad = run(["steer-by-probe", "--probe-mazes", "3", "--agent", ckpt, "--out", str(tmp_path / "b")])
    assert bad.returncode == 2 and "--probe-mazes must be an integer >= 10, got 3" in bad.stderr


def test_prune_bound_and_explain_smoke(run, ckpt, tmp_path):
    out = tmp_path / "pb"
    opts = "prune --bound --bound-layers embedder.block2.res1.resadd_out --std-mazes 6 --mazes 2 --percents 25 --random-draws 1 --max-steps 5 --json --no-progress"
    r = run([*opts.split(), "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(s["bound_rows"]) == 8 and all(x["max_ratio"] <= 1 + 1e-9 for x in s["bound_rows"])
    assert {x["selection"] for x in s["curves"]} == {"baseline", "lowest-std", "weight-magnitude", "random"}
    assert (out / "bound.png").exists() and (out / "prune_curves.png").exists() and (out / "curves.csv").exists()
    _resumes(run, opts, ckpt, out, "curves.csv", "--percents 50")
    bad = run(["prune", "--bound", "--percents", "0", "--agent", ckpt, "--out", str(tmp_path / "b")])
    assert bad.returncode == 2 and "percents" in bad.stderr
    out = tmp_path / "ex"
    opts = "explain --probe-mazes 12 --mazes 2 --states 10 --random-draws 1 --max-steps 5 --json --no-progress"
    r = run([*opts.split(), "--agent", ckpt, "--out", str(out)])
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(s["understood"]["criteria"]) == {"discovery", "cell_probe", "top_right_vector", "top_right_probe"}
    assert len(s["rows"]) == 5 and s["rows"][0]["action_agreement"] == 1.0
    _resumes(run, opts, ckpt, out, "rows.csv", "--states 11")
