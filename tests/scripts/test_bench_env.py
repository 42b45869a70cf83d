"""Subprocess smoke tests of scripts/bench_env.py and scripts/demo_env.py."""

from __future__ import annotations

import csv
import json


def test_bench_env_quick_json(run_script, tmp_path):
    out = tmp_path / "bench.json"
    p = run_script(
        "scripts/bench_env.py",
        ["--quick", "--json", "--envs", "256", "--procgen-envs", "16", "--out", str(out)],
    )
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert json.loads(out.read_text()) == res
    for key in ("grid_sps", "rgb_mono_sps", "procgen_sps"):
        assert res[key] > 0, key
    assert res["rgb_sps"] is None or res["rgb_sps"] > 0
    assert res["rgb_sps"] is not None or "mazegen.render.textured" in res["note"]
    assert res["n_envs"] == 256 and res["quick"] is True
    assert res["machine"]["cpu_count"] >= 1 and res["date"]
    t = res["targets"]
    assert t["grid_sps"]["target_ratio"] == 100 and t["rgb_mono_sps"]["target_ratio"] == 3
    assert abs(t["grid_sps"]["ratio_vs_procgen"] - res["grid_sps"] / res["procgen_sps"]) < 1e-6
    assert t["gen_per_s"]["target"] == 50_000


def test_bench_env_rejects_bad_args(run_script):
    p = run_script("scripts/bench_env.py", ["--seconds", "0"])
    assert p.returncode == 2 and "--seconds" in p.stderr
    p = run_script("scripts/bench_env.py", ["--help"])
    assert p.returncode == 0 and "--quick" in p.stdout and "procgen" in p.stdout


def test_demo_env_writes_run_dir(run_script, tmp_path):
    run = tmp_path / "demo"
    p = run_script(
        "scripts/demo_env.py",
        ["--n", "3", "--steps", "5", "--run-dir", str(run), "--cheese", "top-right:3"],
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == str(run)
    assert (run / "mazes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(run / "levels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and all(int(r["maze_size"]) % 2 == 1 for r in rows)
    assert json.loads((run / "summary.json").read_text())["n"] == 3
    assert not list(run.glob(".*tmp"))
    bad = run_script(
        "scripts/demo_env.py", ["--cheese", "middle", "--run-dir", str(tmp_path / "bad")]
    )
    assert bad.returncode == 2 and "cheese" in bad.stderr


def test_bench_fit_json_and_bad_args(run_script, save_agent):
    ckpt = save_agent()
    p = run_script("scripts/bench_fit.py", ["--agent", ckpt, "--batches", "3,5", "--mazes", "2", "--k", "2",
                                            "--steps", "2", "--repeats", "1", "--json"])
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert [r["batch"] for r in res["forward"]] == [3, 5] and all(r["identical"] for r in res["forward"])
    assert [r["fast"] for r in res["fit"]] == [True, False] and res["fit_speedup"] > 0
    bad = run_script("scripts/bench_fit.py", ["--agent", ckpt, "--batches", "0,4"])
    assert bad.returncode == 2 and "--batches must be integers >= 1, got [0, 4]" in bad.stderr
    bad = run_script("scripts/bench_fit.py", ["--agent", ckpt, "--k", "0"])
    assert bad.returncode == 2 and "--k must be an integer >= 1, got 0" in bad.stderr
