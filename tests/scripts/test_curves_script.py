"""Subprocess smoke test of scripts/curves.py."""

from __future__ import annotations

import json

from agents.train.log import LOG_COLUMNS, write_log


def _log(path, rates):
    rows = []
    for i, r in enumerate(rates):
        row = {c: "nan" for c in LOG_COLUMNS}
        row.update(
            steps=(i + 1) * 1000, wall_time_s=float(i + 1), steps_per_s=1000.0, episodes=1000
        )
        row.update(cheese_rate=r, cheese_rate_small=1.0, cheese_rate_medium=r)
        rows.append(row)
    write_log(path, rows)


def test_curves_script(run_script, tmp_path):
    (tmp_path / "run_a").mkdir()
    _log(tmp_path / "run_a" / "train_log.csv", [0.4, 0.9, 0.95, 0.97])
    _log(tmp_path / "b.csv", [0.2, 0.5, 0.6])
    out = tmp_path / "out"
    args = [
        str(tmp_path / "run_a"),
        f"slow={tmp_path / 'b.csv'}",
        "--sps",
        "100",
        "--out",
        str(out),
    ]
    res = run_script("scripts/curves.py", [*args, "--json"])
    assert res.returncode == 0, res.stderr
    assert f"run directory: {out}" in res.stdout
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary == json.loads((out / "summary.json").read_text())
    assert set(summary["runs"]) == {"run_a", "slow"}
    m90 = {m["threshold"]: m for m in summary["runs"]["run_a"]["milestones"]}[0.9]
    assert m90["steps"] == 3000 and m90["minutes_at_sps"] == 0.5  # pooled (0.9 + 0.95) / 2
    assert {m["threshold"]: m for m in summary["runs"]["slow"]["milestones"]}[0.9]["steps"] is None
    for png in ("curves.png", "curves_hours.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_curves_script_bad_input(run_script, tmp_path):
    res = run_script("scripts/curves.py", [str(tmp_path / "missing")])
    assert res.returncode == 2 and "no train_log.csv at" in res.stderr
    _log(tmp_path / "a.csv", [0.5])
    res = run_script("scripts/curves.py", [str(tmp_path / "a.csv"), "--sps", "0"])
    assert res.returncode == 2 and "--sps must be a number > 0, got '0'" in res.stderr
    res = run_script("scripts/curves.py", [str(tmp_path / "a.csv"), str(tmp_path / "a.csv")])
    assert res.returncode == 2 and "run labels must be distinct" in res.stderr
