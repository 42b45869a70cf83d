"""Subprocess smoke test of scripts/demo.py (tiny sizes, tiny untrained checkpoint)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from pyrun import run_python

ROOT = Path(__file__).resolve().parents[2]


def _run(args, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return run_python(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout)


def test_demo_quick_writes_report(tmp_path):
    import torch

    from agents.checkpoint import save
    from agents.model import ImpalaModel

    torch.manual_seed(0)
    agent = tmp_path / "tiny.pt"
    save(ImpalaModel(channels=(4, 8, 8), fc_dim=16, obs_size=25), agent, obs="grid")
    out = tmp_path / "demo"
    r = _run(
        [
            "scripts/demo.py",
            "--agent",
            str(agent),
            "--out",
            str(out),
            "--quick",
            "--no-steering",
            "--no-progress",
            "--json",
        ]
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert Path(res["report"]) == (out / "report.md").resolve()
    text = (out / "report.md").read_text()
    assert (
        "## Where the cheese is in the largest maze (25x25)" in text and "STEERING SECTION" in text
    )
    assert "sweep_phase/phase_transition.png" in text and "skipped with --no-steering" in text
    for p in ("top-left", "bottom-right"):
        assert 0 <= res["corners_25"][p]["cheese_lo"] <= res["corners_25"][p]["cheese_hi"] <= 1
    assert (out / "sweep_phase" / "phase_transition.png").is_file()
    assert r.stderr.strip().splitlines()[-1] == str(
        out.resolve()
    )  # the run directory is printed last


def test_demo_bad_agent_is_a_clear_error(tmp_path):
    r = _run(
        [
            "scripts/demo.py",
            "--agent",
            str(tmp_path / "missing.pt"),
            "--out",
            str(tmp_path / "d"),
            "--quick",
            "--no-steering",
        ]
    )
    assert r.returncode == 2 and "neither a file nor a zoo agent" in r.stderr
    assert _run(["scripts/demo.py", "--help"]).returncode == 0


def test_bash_wrapper_help():
    r = subprocess.run(
        ["bash", "scripts/demo", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert r.returncode == 0, r.stderr
    assert "--no-steering" in r.stdout and "report.md" in r.stdout
