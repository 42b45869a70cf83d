"""Every analysis runs on an rgb agent (64x64 procgen frames), not only on grid agents.

One untrained rgb checkpoint (IMPALA (4, 8, 8), textured frames recorded in its metadata) goes
through each script the researcher uses: sweeps, the vector field, steering vectors,
retargeting and channel discovery at the 16x16 block2 map, probes, probe steering, pruning,
what the understood channels explain, and the demo. Tiny sizes: these check that each one
works end to end on rgb input and writes its files, not what it finds.
"""

from __future__ import annotations

import json

import pytest

LAYER = "embedder.block2.res1.resadd_out"


@pytest.fixture(scope="module")
def rgb_ckpt(tmp_path_factory):
    import agents
    from agents.model import ImpalaModel
    from agents.policy import Policy

    d = tmp_path_factory.mktemp("rgb-agent")
    pol = Policy(ImpalaModel(obs_size=64, channels=(4, 8, 8)), obs="rgb")
    return str(agents.save(pol, d / "model.pt", metadata={"rgb_style": "textured"}))


def test_the_rgb_agent_sees_a_16x16_block2_map(rgb_ckpt):
    import agents
    from agents.policy import rgb_style
    from steering import layer_shape

    pol = agents.load(rgb_ckpt)
    assert pol.obs == "rgb" and rgb_style(pol) == "textured"
    assert tuple(layer_shape(pol, LAYER)) == (8, 16, 16)


# (script, arguments before --agent/--out, files the run directory must hold)
CASES = {
    "sweep": ("scripts/sweep.py", "--sizes 5,25 --placements top-left,top-right --mazes 2 "
              "--max-steps 12", ["episodes.csv", "summary.json"]),
    "vector-field": ("scripts/vector_field.py", "--size 9 --cheese top-left --compare-no-cheese",
                     ["vector_field.csv", "vector_field_compare.png"]),
    "cheese-vector": ("scripts/steer.py", "vector --mazes 2 --max-steps 12 --sizes 9 "
                      "--torch-threads 1 --no-progress", []),
    "top-right-vector": ("scripts/steer.py", "vector --kind top-right --mazes 2 --max-steps 12 "
                         "--sizes 9 --torch-threads 1 --no-progress", []),
    "retarget": ("scripts/steer.py", "retarget --mazes 2 --max-steps 12 --sizes 13 "
                 "--discover-mazes 4 --torch-threads 1 --no-progress", []),
    "discover": ("scripts/steer.py", "discover --mazes 4 --torch-threads 1 --no-progress", []),
    "probe": ("scripts/probe.py", "probe --mazes 30 --max-steps 12 --no-progress", []),
    "steer-by-probe": ("scripts/probe.py", "steer-by-probe --mazes 2 --probe-mazes 30 "
                       "--max-steps 12 --sizes 13 --alphas 1 --tr-alphas 1 --no-progress", []),
    "prune": ("scripts/probe.py", "prune --ks 0,2 --mazes 3 --std-mazes 20 --random-draws 1 "
              "--max-steps 12 --no-progress", []),
    "explain": ("scripts/probe.py", "explain --mazes 3 --probe-mazes 12 --states 10 "
                "--random-draws 1 --max-steps 12 --no-progress", []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_analysis_runs_on_an_rgb_agent(case, rgb_ckpt, run_script, tmp_path):
    script, opts, files = CASES[case]
    out = tmp_path / case
    r = run_script(script, [*opts.split(), "--agent", rgb_ckpt, "--out", str(out), "--json"])
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary, "the --json summary is empty"
    for f in files:
        assert (out / f).is_file(), f"{case}: {f} missing from {sorted(p.name for p in out.iterdir())}"
    assert any(out.rglob("*.png")), f"{case} wrote no figure"
    if case in ("retarget", "discover"):  # at the 16x16 map: the layer it reports is block2's
        assert summary["layer"] == LAYER


def test_demo_runs_on_an_rgb_agent(rgb_ckpt, run_script, tmp_path):
    out = tmp_path / "demo"
    r = run_script("scripts/demo.py", ["--agent", rgb_ckpt, "--quick", "--max-steps", "20", "--out", str(out),
                                       "--no-progress", "--json"])
    assert r.returncode == 0, r.stderr[-3000:]
    report = (out / "report.md").read_text()
    assert "obs = rgb" in report
    for part in ("Where the cheese is", "Phase transition", "Behavioural statistics", "Steering"):
        assert part in report, part
