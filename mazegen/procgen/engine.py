"""The raw procgen engine (procgen-mirror): building one, its per-env level I/O, the pixel check.

:func:`make_engine` builds a ``procgen.ProcgenGym3Env`` playing ``maze``. Each engine env's
whole game state is a serialized blob (:mod:`mazegen.procgen.state`): :func:`get_state` /
:func:`set_state` move it, :func:`engine_level` reads the level env ``i`` plays (with the
mouse where it is now) and :func:`write_level` writes a :class:`~mazegen.level.Level` into it
(``set_state`` re-renders the engine's frame). :mod:`mazegen.procgen.backend` builds its
vec env and the level I/O on any of its envs on these.

:func:`pixel_check` plays procgen's own levels with random actions and compares every frame
with :mod:`mazegen.render.textured` (used by ``scripts/check_pixels.py``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..checks import check_distribution_mode, check_int
from ..constants import ACTION_DELTAS, MAX_STEPS, NUM_ACTIONS
from ..level import Level
from ..levels import Levels

__all__ = [
    "make_engine",
    "check_env_index",
    "get_state",
    "set_state",
    "engine_level",
    "write_level",
    "pixel_check",
]


def make_engine(
    num_envs: int,
    *,
    distribution_mode: str = "hard",
    num_levels: int = 0,
    start_level: int = 0,
    rand_seed: int = 0,
    use_backgrounds: bool = True,
    use_monochrome_assets: bool = False,
):
    """A raw ``procgen.ProcgenGym3Env`` playing ``maze`` (procgen's import chatter silenced)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        from procgen import ProcgenGym3Env
    return ProcgenGym3Env(
        num=int(num_envs),
        env_name="maze",
        distribution_mode=distribution_mode,
        num_levels=int(num_levels),
        start_level=int(start_level),
        rand_seed=int(rand_seed),
        use_backgrounds=bool(use_backgrounds),
        use_monochrome_assets=bool(use_monochrome_assets),
    )


def check_env_index(engine: Any, i: Any) -> int:
    """``i`` as an env index of ``engine`` (an int in ``[0, engine.num - 1]``)."""
    return check_int("env index", i, 0, engine.num - 1)


def get_state(engine: Any, i: int) -> bytes:
    """The serialized game state of engine env ``i``."""
    from procgen.env import MAX_STATE_SIZE

    buf = engine._ffi.new(f"char[{MAX_STATE_SIZE}]")
    n = engine.call_c_func("get_state", i, buf, MAX_STATE_SIZE)
    return bytes(engine._ffi.buffer(buf, n))


def set_state(engine: Any, i: int, state: bytes) -> None:
    """Replace the game state of engine env ``i`` (the engine re-renders its frame)."""
    engine.call_c_func("set_state", i, state, len(state))


def engine_level(engine: Any, i: int) -> Level:
    """The level engine env ``i`` is playing, with ``mouse`` where the mouse is now."""
    from .state import level_from_state, parse_state

    return level_from_state(parse_state(get_state(engine, i)))


def write_level(engine: Any, i: int, level: Level) -> None:
    """Write ``level`` into engine env ``i``, keeping the rest of its state (timers, RNGs)."""
    from .state import parse_state, serialize_state, state_with_level

    state = parse_state(get_state(engine, i))
    set_state(engine, i, serialize_state(state_with_level(state, level)))


def pixel_check(
    seeds: Sequence[int],
    *,
    steps: int = 100,
    envs_per_seed: int = 4,
    distribution_mode: str = "hard",
    use_backgrounds: bool = True,
    rng_seed: int = 0,
    progress: bool = False,
) -> dict:
    """Play procgen's own level for each seed with random actions; compare every frame.

    For each level seed an engine with ``num_levels=1, start_level=seed`` runs
    ``envs_per_seed`` copies of the level, each fed its own uniformly random actions in
    ``[0, 15)`` for ``steps`` steps; the level is read from the engine's state and re-rendered
    with :class:`~mazegen.render.textured.TexturedRenderer` after tracking the mouse with
    procgen's dynamics (an episode that ends restarts the same level). Returns counts: frames
    compared / identical, pixels differing, the worst frame and per-seed failures.
    """
    from ..render.textured import FRAME, TexturedRenderer

    w = check_distribution_mode(distribution_mode)
    check_int("steps", steps, 0)
    e = check_int("envs_per_seed", envs_per_seed, 1)
    rng = np.random.default_rng(rng_seed)
    renderer = TexturedRenderer(e, w, use_backgrounds=use_backgrounds)
    mine = np.zeros((e, FRAME, FRAME, 3), np.uint8)
    stats = {
        "distribution_mode": distribution_mode,
        "use_backgrounds": bool(use_backgrounds),
        "seeds": 0,
        "steps": int(steps),
        "envs_per_seed": e,
        "frames_compared": 0,
        "frames_identical": 0,
        "pixels_differing": 0,
        "max_pixels_differing_in_a_frame": 0,
        "episodes_ended": 0,
        "dynamics_mismatches": 0,
        "seeds_with_differences": [],
    }
    it: Iterable[int] = seeds
    if progress:
        from tqdm import tqdm

        it = tqdm(list(seeds), desc=f"pixel check {distribution_mode} bg={int(use_backgrounds)}")
    ids = np.arange(e)
    for seed in it:
        seed = int(seed)
        engine = make_engine(
            e,
            distribution_mode=distribution_mode,
            num_levels=1,
            start_level=seed,
            use_backgrounds=use_backgrounds,
        )
        level = engine_level(engine, 0)
        lv = Levels.from_list([level] * e)
        renderer.set_levels(ids, lv)
        mouse = lv.mouse.astype(np.int64)
        facing = np.zeros(e, bool)
        t = np.zeros(e, np.int64)
        bad_here = 0
        for k in range(steps + 1):
            if k > 0:
                a = rng.integers(0, NUM_ACTIONS, size=e)
                engine.act(a.astype(np.int32))
                d = ACTION_DELTAS[a]
                tgt = mouse + d
                inb = ((tgt >= 0) & (tgt < w)).all(axis=1)
                can = inb & ~level.walls[np.clip(tgt[:, 0], 0, w - 1), np.clip(tgt[:, 1], 0, w - 1)]
                mouse[can] = tgt[can]
                facing[d[:, 1] > 0] = True
                facing[d[:, 1] < 0] = False
                t += 1
                got = (
                    (mouse == np.asarray(lv.cheese[0], np.int64)).all(axis=1)
                    if level.cheese
                    else np.zeros(e, bool)
                )
                end = got | (t >= MAX_STEPS)
                rew, _, first = engine.observe()
                if not np.array_equal(end, np.asarray(first, bool)):
                    stats["dynamics_mismatches"] += int((end != np.asarray(first, bool)).sum())
                stats["episodes_ended"] += int(end.sum())
                mouse[end] = lv.mouse[end]
                facing[end] = False
                t[end] = 0
            obs = np.asarray(engine.observe()[1]["rgb"])
            renderer.render(mouse, facing, mine)
            diff = (mine != obs).any(axis=-1).reshape(e, -1).sum(axis=1)
            stats["frames_compared"] += e
            stats["frames_identical"] += int((diff == 0).sum())
            stats["pixels_differing"] += int(diff.sum())
            stats["max_pixels_differing_in_a_frame"] = max(
                stats["max_pixels_differing_in_a_frame"], int(diff.max())
            )
            bad_here += int((diff > 0).sum())
        engine.close()
        stats["seeds"] += 1
        if bad_here:
            stats["seeds_with_differences"].append(seed)
    return stats
