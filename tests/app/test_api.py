"""API tests for every endpoint of the app, good and bad inputs, on the planted agent."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from _planted import MAZE, PLANTED_RETARGET, far_target

import steering
from steering.app import Session


def _session(client, maze=MAZE):
    sid = client.post("/api/session").json()["session"]
    r = client.put(f"/api/session/{sid}/state", json={"agent": "planted", "maze": maze})
    assert r.status_code == 200, r.text
    return sid, r.json()


def _locs(r) -> list[str]:
    return [".".join(map(str, d["loc"])) for d in r.json()["detail"]]


def test_page_and_assets_are_served_and_local(client):
    page = client.get("/")
    assert page.status_code == 200 and "app.js" in page.text
    for name in ("app.js", "app.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and len(r.text) > 100
        # offline: no asset or script comes from another host
        assert "http://" not in r.text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in r.text
    assert "https://" not in page.text and "http://" not in page.text.replace("http://www.w3.org/2000/svg", "")
    # only the static folder is served
    for path in ("/static/../session.py", "/static/%2e%2e/session.py", "/static/..%2fschemas.py", "/api/session/x/../../etc/passwd"):
        r = client.get(path)
        assert r.status_code == 404 and "InputError" not in r.text, path


def test_agents_and_patch_types(client):
    a = client.get("/api/agents").json()
    assert a == {"default": "planted", "agents": ["planted"]}
    info = client.get("/api/agents/planted").json()
    layers = {x["name"]: x["shape"] for x in info["layers"]}
    assert info["obs"] == "grid" and layers["embedder.block2.res1.resadd_out"] == [4, 25, 25]
    r = client.get("/api/agents/nope")
    assert r.status_code == 422 and "planted" in r.json()["detail"][0]["msg"]
    types = client.get("/api/patch_types").json()
    # generic: whatever the registry holds, with its constructor fields
    assert sorted(t["type"] for t in types) == sorted(steering.PATCH_TYPES)
    clamp = next(t for t in types if t["type"] == "clamp")
    assert [f["name"] for f in clamp["fields"]][:4] == ["layer", "channels", "cells", "value"]


def test_view_has_field_over_every_open_cell(client, planted_store):
    sid, v = _session(client)
    lv = Session(planted_store, {"agent": "planted", "maze": MAZE}).level
    n_open = int((~lv.walls).sum())
    assert len(v["field"]["cells"]) == n_open  # no cheese: every open cell
    assert v["modified"] is None and v["patches"] == []
    assert np.allclose(v["diff"]["vectors"], 0)
    assert v["level"]["maze_size"] == 7 and v["state"]["maze"]["seed"] == 7
    assert client.get(f"/api/session/{sid}/state").json()["maze"]["size"] == 7


def test_retarget_click_sends_the_planted_agent_there(client, planted_store):
    target = far_target(planted_store)
    sid, before = _session(client)
    r = client.post(f"/api/session/{sid}/retarget", json={"cell": list(target), **PLANTED_RETARGET})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["state"]["target"] == list(target)
    assert v["patches"][0]["type"] == "clamp" and v["patches"][0]["cells"] == [list(target)]
    assert not np.allclose(v["field"]["vectors"], before["field"]["vectors"])
    assert v["base_field"] == before["field"]  # the unpatched field stays
    # one activation of 4 * 25 * 25 at the layer
    assert v["modified"]["total"]["modified"] == 1
    assert v["modified"]["total"]["fraction_layer"] == pytest.approx(1 / 2500)
    roll = client.post(f"/api/session/{sid}/rollout", json={"greedy": True, "max_steps": 100}).json()
    assert roll["outcome"] == "target" and roll["trajectory"][-1] == list(target)
    assert roll["steps"] == len(roll["trajectory"]) - 1
    rate = client.post(f"/api/session/{sid}/rollouts", json={"n": 20, "max_steps": 100}).json()
    assert rate["goal"] == "target" and rate["k"] == 20 and rate["n"] == 20
    assert 0.8 < rate["lo"] < 1.0 and rate["hi"] == pytest.approx(1.0)
    # a second click replaces the retarget patch rather than stacking another
    r2 = client.post(f"/api/session/{sid}/retarget", json={"cell": list(before["level"]["mouse"]), **PLANTED_RETARGET})
    assert len(r2.json()["patches"]) == 1


def test_export_is_what_load_patches_reads(client, planted_store, tmp_path):
    target = far_target(planted_store)
    sid, _ = _session(client)
    client.post(f"/api/session/{sid}/retarget", json={"cell": list(target), **PLANTED_RETARGET})
    exported = client.get(f"/api/session/{sid}/patches").json()
    path = tmp_path / "patches.json"
    path.write_text(json.dumps(exported))
    loaded = steering.load_patches(path)
    assert [p.to_json() for p in loaded] == exported
    # and importing it back (PUT state with those patches) gives the same view
    state = client.get(f"/api/session/{sid}/state").json()
    sid2 = client.post("/api/session").json()["session"]
    v2 = client.put(f"/api/session/{sid2}/state", json=state).json()
    assert v2["patches"] == exported


def test_coefficient_change_and_vector_builder(client):
    sid, v0 = _session(client, {"seed": 7, "size": 7})  # with cheese: the cheese vector exists
    v = client.post(f"/api/session/{sid}/vector", json={"kind": "cheese", "layer": PLANTED_RETARGET["layer"], "coeff": -1.0})
    assert v.status_code == 200, v.text
    v = v.json()
    add = v["patches"][0]
    assert add["type"] == "add" and add["coeff"] == -1.0
    # removing the cheese signal: the planted agent goes top-right, the field changes
    assert not np.allclose(v["field"]["vectors"], v0["field"]["vectors"])
    state = v["state"]
    state["patches"][0]["coeff"] = 0.0  # the slider at 0: back to the unpatched field
    v2 = client.put(f"/api/session/{sid}/state", json=state).json()
    assert np.allclose(v2["field"]["vectors"], v0["field"]["vectors"])


def test_activations(client):
    sid, v = _session(client)
    r = client.post(f"/api/session/{sid}/activations", json={"layer": PLANTED_RETARGET["layer"]}).json()
    assert r["shape"] == [4, 25, 25] and len(r["values"]) == 4 and r["axis"] == list(range(25))
    walls = np.array(v["level"]["walls"])
    assert np.array_equal(np.array(r["values"][0]) > 0.5, walls)  # channel 0 is the wall plane
    one = client.post(f"/api/session/{sid}/activations", json={"layer": PLANTED_RETARGET["layer"], "channel": 2}).json()
    mouse = v["level"]["mouse"]
    assert len(one["values"]) == 1 and one["values"][0][mouse[0]][mouse[1]] == 1.0


@pytest.mark.parametrize(
    "method,path,body,loc,words",
    [
        ("put", "state", {"agent": "planted", "maze": {"size": 8}}, "body.maze.size", "odd"),
        ("put", "state", {"agent": "planted", "maze": {"size": 27}}, "body.maze.size", "25"),
        ("put", "state", {"agent": "planted", "maze": {"seed": -1}}, "body.maze.seed", "greater than or equal to 0"),
        ("put", "state", {"agent": "nope"}, "body.agent", "allowed: ['planted']"),
        ("put", "state", {"agent": "planted", "maze": {"size": 7, "toggled": [[0, 0]]}}, "body.maze.toggled.0", "[9, 15]"),
        ("put", "state", {"agent": "planted", "maze": {"size": 7, "cheese_cell": [10, 10]}}, "body.maze.cheese_cell", "wall"),
        ("put", "state", {"agent": "planted", "maze": {"cheese": "bogus"}}, "body.maze", "bogus"),
        ("put", "state", {"agent": "planted", "extra": 1}, "body.extra", "not permitted"),
        ("put", "state", {"agent": "planted", "patches": [{"type": "clamp", "layer": "no.such", "channels": [1], "cells": [[1, 1]], "value": 1}]},
         "body.patches.0.layer", "allowed"),
        ("put", "state", {"agent": "planted", "patches": [{"type": "clamp", "layer": PLANTED_RETARGET["layer"], "channels": [9], "cells": [[1, 1]], "value": 1}]},
         "body.patches.0", "9"),
        ("put", "state", {"agent": "planted", "patches": [{"type": "add", "layer": PLANTED_RETARGET["layer"], "vector": {"npy": "/etc/passwd"}}]},
         "body.patches.0", "not accepted"),
        ("put", "state", {"agent": "planted", "patches": [{"type": "nope"}]}, "body.patches.0", "unknown patch type"),
        ("put", "state", {"agent": "planted", "patches": [{"type": "add", "layer": PLANTED_RETARGET["layer"], "vector": [[1, 2]]}]},
         "body.patches.0", "(4, 25, 25)"),
        ("put", "state", {"agent": "planted", "patches": [{"type": "scale", "layer": PLANTED_RETARGET["layer"], "channels": "abc", "factor": 1}]},
         "body.patches.0", "abc"),
        ("put", "state", {"agent": "planted", "patches": [{"type": "scale", "layer": "x", "channels": None, "factor": 1}] * 17},
         "body.patches", "16"),
        ("post", "rollouts", {"n": 201}, "body.n", "200"),
        ("post", "rollout", {"max_steps": 501}, "body.max_steps", "500"),
        ("post", "rollout", {"max_steps": 0}, "body.max_steps", "1"),
        ("post", "activations", {"layer": "no.such"}, "body.layer", "allowed"),
        ("post", "activations", {"layer": "fc_policy"}, "body.layer", "conv layers"),
        ("post", "activations", {"layer": PLANTED_RETARGET["layer"], "channel": 4}, "body.channel", "[0, 3]"),
        ("post", "retarget", {"cell": [0, 0], **PLANTED_RETARGET}, "body.cell", "[9, 15]"),
        ("post", "retarget", {"cell": [99, 0]}, "body.cell.0", "63"),
        ("post", "retarget", {"cell": [15, 9], "layer": PLANTED_RETARGET["layer"], "channels": [7]}, "body.channels", "[0, 3]"),
        ("post", "vector", {"kind": "sideways"}, "body.kind", "cheese|top_right"),
    ],
)
def test_bad_inputs_name_the_field_and_range(client, method, path, body, loc, words):
    sid, _ = _session(client)
    r = getattr(client, method)(f"/api/session/{sid}/{path}", json=body)
    assert r.status_code == 422, r.text
    assert loc in _locs(r), r.text
    assert words in json.dumps(r.json()), r.text
    # the session is unchanged and the server keeps serving
    assert client.get(f"/api/session/{sid}/state").json()["maze"] == {**client.get(f"/api/session/{sid}/state").json()["maze"]}
    assert client.get("/api/agents").status_code == 200


def test_malformed_oversized_and_unknown_session(client):
    sid, _ = _session(client)
    r = client.put(f"/api/session/{sid}/state", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.text
    big = b'{"agent": "planted", "patches": [' + b"0," * 2_100_000 + b"0]}"
    r = client.put(f"/api/session/{sid}/state", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "4000000" in r.text

    def chunks():  # no content-length: the limit holds for a streamed body too
        yield b'{"agent": "planted", "patches": ['
        for _ in range(100):
            yield b"0," * 30000
        yield b"0]}"

    r = client.put(f"/api/session/{sid}/state", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.request.headers.get("transfer-encoding") == "chunked"
    r = client.post("/api/session/nope/rollout", json={})
    assert r.status_code == 404 and "session" in r.text
    assert client.get(f"/api/session/{sid}/state").status_code == 200


def test_sessions_are_separate_and_lru_bounded(client, planted_store):
    target = far_target(planted_store)
    a, va = _session(client)
    b, vb = _session(client)
    client.post(f"/api/session/{a}/retarget", json={"cell": list(target), **PLANTED_RETARGET})
    assert client.get(f"/api/session/{b}/state").json()["patches"] == []
    assert client.get(f"/api/session/{b}/patches").json() == []
    # concurrent requests: each tab gets its own (patched / unpatched) answer
    out = {}

    def go(sid):
        out[sid] = [client.post(f"/api/session/{sid}/rollout", json={"max_steps": 60}).json()["outcome"] for _ in range(3)]

    ts = [threading.Thread(target=go, args=(s,)) for s in (a, b)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert out[a] == ["target"] * 3 and out[b] == ["neither"] * 3
    # max_sessions=4: after 4 more, the oldest are gone
    for _ in range(4):
        client.post("/api/session")
    assert client.get(f"/api/session/{a}/state").status_code == 404


def test_python_session_gives_the_same_results(client, planted_store):
    target = far_target(planted_store)
    sid, _ = _session(client)
    v = client.post(f"/api/session/{sid}/retarget", json={"cell": list(target), **PLANTED_RETARGET}).json()
    s = Session(planted_store, {"agent": "planted", "maze": MAZE})
    s.retarget({"cell": target, **PLANTED_RETARGET})
    assert json.loads(json.dumps(s.view())) == v
    assert s.rollout({"max_steps": 100}) == client.post(f"/api/session/{sid}/rollout", json={"max_steps": 100}).json()


def test_an_rgb_agent_works_too():
    """rgb agents: activation cells map through the 64-pixel frame (untrained, shapes only)."""
    from fastapi.testclient import TestClient

    from agents.model import ImpalaModel
    from agents.policy import Policy
    from steering.app import AgentStore, create_app

    store = AgentStore(zoo=False, policies={"rgb": Policy(ImpalaModel(obs_size=64, channels=(4, 8, 8)), obs="rgb")})
    with TestClient(create_app(store)) as c:
        sid = c.post("/api/session").json()["session"]
        v = c.put(f"/api/session/{sid}/state", json={"agent": "rgb", "maze": {"seed": 1, "size": 9}})
        assert v.status_code == 200, v.text
        lv = v.json()["level"]
        cell = [lv["margin"], lv["margin"]]
        r = c.post(f"/api/session/{sid}/retarget", json={"cell": cell, "layer": "embedder.block2.res1.resadd_out", "channels": [0, 3], "magnitude": 3.0})
        assert r.status_code == 200, r.text
        assert r.json()["modified"]["total"]["modified"] == 2
        a = c.post(f"/api/session/{sid}/activations", json={"layer": "embedder.block2.res1.resadd_out", "channel": 3}).json()
        assert a["shape"] == [8, 16, 16] and len(a["axis"]) == 25 and max(a["axis"]) == 15
        roll = c.post(f"/api/session/{sid}/rollout", json={"max_steps": 20}).json()
        assert roll["steps"] == len(roll["trajectory"]) - 1


def test_per_level_patches_apply_to_every_copy_of_the_maze(client, planted_store):
    """N rollouts play N copies of the one maze; per-level data comes from the first row."""
    target = far_target(planted_store)
    sid, _ = _session(client)
    clamp = {"type": "clamp", "layer": PLANTED_RETARGET["layer"], "channels": [1], "cells": [list(target), [0, 0]],
             "value": 2.0, "per_level": True}
    r = client.put(f"/api/session/{sid}/state", json={"agent": "planted", "maze": MAZE, "patches": [clamp], "target": list(target)})
    assert r.status_code == 200, r.text
    rate = client.post(f"/api/session/{sid}/rollouts", json={"n": 5, "max_steps": 60}).json()
    assert rate["k"] == 5
