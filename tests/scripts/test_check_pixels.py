"""Subprocess smoke tests of scripts/check_pixels.py."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def run(run_script):
    return lambda args: run_script("scripts/check_pixels.py", args, timeout=240)


def test_help_explains_options(run):
    r = run(["--help"])
    assert r.returncode == 0
    for flag in (
        "--seeds",
        "--steps",
        "--envs-per-seed",
        "--modes",
        "--backgrounds",
        "--easy-max-pixels",
        "--out",
        "--json",
    ):
        assert flag in r.stdout


def test_bad_arguments_exit_2(run):
    r = run(["--seeds", "0"])
    assert r.returncode == 2 and "--seeds must be an integer >= 1, got 0" in r.stderr
    r = run(["--modes", "memory"])
    assert r.returncode == 2 and "'hard' or 'easy', got 'memory'" in r.stderr


def test_small_check_passes_and_resumes(run, tmp_path):
    args = [
        "--seeds",
        "2",
        "--start-seed",
        "5",
        "--steps",
        "6",
        "--envs-per-seed",
        "2",
        "--modes",
        "hard,easy",
        "--backgrounds",
        "off",
        "--no-progress",
        "--out",
        str(tmp_path),
    ]
    r = run(args)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("hard/nobg: 28/28 frames identical")
    assert lines[-2] == f"run directory: {tmp_path}"
    summary = json.loads(lines[-1])
    assert summary["ok"] is True
    assert summary["frames_compared"] == summary["frames_identical"] == 2 * 2 * 2 * 7
    assert set(summary["configs"]) == {"hard/nobg", "easy/nobg"}
    saved = json.loads((tmp_path / "pixel_check.json").read_text())
    assert saved["settings"]["seeds"] == 2 and set(saved["configs"]) == {"hard/nobg", "easy/nobg"}
    # a rerun with the same settings reuses the saved configurations (marked here to prove it)
    saved["configs"]["easy/nobg"]["episodes_ended"] = 12345
    (tmp_path / "pixel_check.json").write_text(json.dumps(saved))
    r2 = run([*args, "--json"])
    assert r2.returncode == 0
    out = r2.stdout.strip().splitlines()
    assert len(out) == 1
    again = json.loads(out[0])
    assert again["configs"]["easy/nobg"]["episodes_ended"] == 12345
    assert again["configs"]["hard/nobg"] == summary["configs"]["hard/nobg"]
