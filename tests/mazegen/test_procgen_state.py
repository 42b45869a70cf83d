"""Parsing, editing and re-loading real procgen maze states."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _procgen_ref import make_engine  # noqa: E402

from mazegen.constants import MONO_RGB, WORLD_SIZE  # noqa: E402
from mazegen.procgen.generate import generate_level, procgen_level  # noqa: E402
from mazegen.procgen.mt19937 import MT19937  # noqa: E402
from mazegen.procgen.state import (  # noqa: E402
    _SCHEMA,
    END_MARKER,
    ProcgenState,
    level_from_state,
    parse_state,
    serialize_state,
    state_with_level,
)


@pytest.fixture(scope="module", params=["hard", "easy"])
def engine(request):
    env = make_engine(
        4,
        request.param,
        num_levels=0,
        rand_seed=3,
        use_monochrome_assets=True,
        use_backgrounds=False,
    )
    return request.param, env


def test_schema_matches_dataclass():
    names = []
    for name, kind in _SCHEMA:
        names += ["grid_w", "grid_h", "grid"] if kind == "g" else [name]
    assert names == [f.name for f in dataclasses.fields(ProcgenState)]


def test_roundtrip_is_identity_on_real_states(engine):
    mode, env = engine
    rng = np.random.default_rng(0)
    for _ in range(3):
        for buf in env.callmethod("get_state"):
            st = parse_state(buf)
            assert serialize_state(st) == buf
            assert st.game_name == "maze" and st.world_dim == WORLD_SIZE[mode]
            assert st.trailer[:4] == END_MARKER.to_bytes(4, "little")
            assert len(st.entities) == 1 and st.grid.size == st.world_dim**2
        env.act(rng.integers(0, 15, size=4).astype(np.int32))


def test_level_from_state_matches_generator_and_rng_text(engine):
    mode, env = engine
    for buf in env.callmethod("get_state"):
        st = parse_state(buf)
        lvl = level_from_state(st)
        ref = procgen_level(st.current_level_seed, mode)
        assert np.array_equal(lvl.walls, ref.walls)
        assert (lvl.maze_size, lvl.background, lvl.seed) == (
            ref.maze_size,
            ref.background,
            ref.seed,
        )
        if st.cur_time == 0:
            assert lvl == ref
        # the level-seed RNG text parses into a working mt19937
        MT19937.from_text(st.level_seed_rand_gen.text).next_u32()


def _pixel(obs, cell, world):
    r, c = cell
    u = 64 / world
    return tuple(int(x) for x in obs[int((r + 0.5) * u), int((c + 0.5) * u)])


def test_state_with_level_loads_into_engine(engine):
    mode, env = engine
    world = WORLD_SIZE[mode]
    states = [parse_state(b) for b in env.callmethod("get_state")]
    levels = [
        generate_level(5, distribution_mode=mode),
        generate_level(
            6, distribution_mode=mode, maze_size=world, mouse="uniform", cheese="top-right:3"
        ),
        generate_level(7, distribution_mode=mode, maze_size=5, cheese="top-left"),
        generate_level(8, distribution_mode=mode, cheese="none"),
    ]
    new = [state_with_level(s, lv) for s, lv in zip(states, levels)]
    for s, n, lv in zip(states, new, levels):
        back = level_from_state(n)
        assert back == lv
        assert n.background_index == lv.background and n.maze_dim == lv.maze_size
        assert parse_state(serialize_state(n)).grid.tolist() == n.grid.tolist()
        assert s.grid is not n.grid and s.agent is not n.agent  # the input is untouched
    env.set_state([serialize_state(n) for n in new])
    reread = [level_from_state(parse_state(b)) for b in env.callmethod("get_state")]
    assert reread == levels
    # take a no-op step so the engine renders the loaded level
    env.act(np.full(4, 4, dtype=np.int32))
    _, obs, first = env.observe()
    for i, lv in enumerate(levels):
        assert not first[i]
        img = obs["rgb"][i]
        assert _pixel(img, lv.mouse, world) == MONO_RGB["mouse"]
        if lv.cheese is not None:
            assert _pixel(img, lv.cheese, world) == MONO_RGB["cheese"]
        wall = tuple(int(x) for x in np.argwhere(lv.walls)[0])
        assert _pixel(img, wall, world) == MONO_RGB["wall"]


def test_state_with_level_rejects_wrong_world(engine):
    mode, env = engine
    st = parse_state(env.callmethod("get_state")[0])
    other = "easy" if mode == "hard" else "hard"
    with pytest.raises(ValueError, match="world_size .* does not match"):
        state_with_level(st, procgen_level(0, other))


def test_parse_errors(engine):
    _, env = engine
    buf = env.callmethod("get_state")[0]
    with pytest.raises(ValueError, match="truncated"):
        parse_state(buf[:1000])
    with pytest.raises(TypeError):
        parse_state("not bytes")
