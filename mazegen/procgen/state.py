"""Parse, edit and re-serialize the real procgen engine's ``maze`` state.

``ProcgenGym3Env.callmethod("get_state")`` returns one ``bytes`` per env: native-endian
int32/float32 fields written in sequence by procgen's ``Game``, ``BasicAbstractGame`` and
``MazeGame`` ``serialize`` methods (``docs/procgen-maze.md``, section 9). Strings (the game name and the
three ``std::mt19937`` text states) are an int32 length followed by bytes, so nothing has a
fixed offset: :func:`parse_state` reads the buffer sequentially into a :class:`ProcgenState`
holding every field in order, and :func:`serialize_state` writes it back byte-identically.

On top of that:

* :func:`level_from_state` reads the current level as a :class:`~mazegen.level.Level`
  (procgen's y points up; rows are ``world_dim - 1 - y``);
* :func:`state_with_level` writes a level into a state (grid, mouse position, maze_dim,
  background), so that ``env.callmethod("set_state", [serialize_state(st)])`` loads our level
  into the real engine.

The end marker 0xCAFECAFE that procgen appends is kept in ``ProcgenState.trailer`` together
with any bytes after the maze fields, so round trips are exact even if a build appends more.

>>> st = ProcgenState.__dataclass_fields__        # every field, in the order procgen writes it
>>> list(st)[:3], list(st)[-3:]
(['version', 'game_name', 'paint_vel_info'], ['maze_dim', 'world_dim', 'trailer'])
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass, field

import numpy as np

from ..constants import CHEESE, EMPTY, NUM_BACKGROUNDS, WALL
from ..level import Level

__all__ = [
    "ProcgenState",
    "Entity",
    "RngState",
    "END_MARKER",
    "PLAYER_TYPE",
    "parse_state",
    "serialize_state",
    "level_from_state",
    "state_with_level",
]

#: procgen's end-of-state marker.
END_MARKER = 0xCAFECAFE
#: procgen's entity type id of the player (the mouse).
PLAYER_TYPE = 0

_I = struct.Struct("=i")
_F = struct.Struct("=f")


@dataclass
class RngState:
    """A serialized ``RandGen``: ``is_seeded`` then the ``std::mt19937`` text state.

    ``text`` is kept as raw bytes; :func:`mazegen.procgen.mt19937.mt_from_text` decodes it.
    """

    is_seeded: int
    text: bytes


#: (field name, kind) of an entity, in procgen's order. Kinds: i int32, f float32.
_ENTITY_SCHEMA = (
    ("x", "f"), ("y", "f"), ("vx", "f"), ("vy", "f"), ("rx", "f"), ("ry", "f"),
    ("type", "i"), ("image_type", "i"), ("image_theme", "i"), ("render_z", "i"),
    ("will_erase", "i"), ("collides_with_entities", "i"),
    ("collision_margin", "f"), ("rotation", "f"), ("vrot", "f"),
    ("is_reflected", "i"), ("fire_time", "i"), ("spawn_time", "i"), ("life_time", "i"),
    ("expire_time", "i"), ("use_abs_coords", "i"),
    ("friction", "f"), ("smart_step", "i"), ("avoids_collisions", "i"), ("auto_erase", "i"),
    ("alpha", "f"), ("health", "f"), ("theta", "f"), ("grow_rate", "f"), ("alpha_decay", "f"),
    ("climber_spawn_x", "f"),
)  # fmt: skip


@dataclass
class Entity:
    """One procgen entity (for maze: the mouse). x, y are procgen world coords, y up."""

    x: float
    y: float
    vx: float
    vy: float
    rx: float
    ry: float
    type: int
    image_type: int
    image_theme: int
    render_z: int
    will_erase: int
    collides_with_entities: int
    collision_margin: float
    rotation: float
    vrot: float
    is_reflected: int
    fire_time: int
    spawn_time: int
    life_time: int
    expire_time: int
    use_abs_coords: int
    friction: float
    smart_step: int
    avoids_collisions: int
    auto_erase: int
    alpha: float
    health: float
    theta: float
    grow_rate: float
    alpha_decay: float
    climber_spawn_x: float


#: (field name, kind) of the whole state, in procgen's order. Kinds: i int32, f float32,
#: s string, r RandGen, e entity list, g grid, t trailer (rest of the buffer).
_SCHEMA = (
    # Game::serialize
    ("version", "i"), ("game_name", "s"),
    ("paint_vel_info", "i"), ("use_generated_assets", "i"), ("use_monochrome_assets", "i"),
    ("restrict_themes", "i"), ("use_backgrounds", "i"), ("center_agent", "i"),
    ("debug_mode", "i"), ("distribution_mode", "i"), ("use_sequential_levels", "i"),
    ("use_easy_jump", "i"), ("plain_assets", "i"), ("physics_mode", "i"),
    ("grid_step", "i"), ("level_seed_low", "i"), ("level_seed_high", "i"),
    ("game_type", "i"), ("game_n", "i"),
    ("level_seed_rand_gen", "r"), ("rand_gen", "r"),
    ("reward", "f"), ("done", "i"), ("level_complete", "i"), ("action", "i"), ("timeout", "i"),
    ("current_level_seed", "i"), ("prev_level_seed", "i"), ("episodes_remaining", "i"),
    ("episode_done", "i"), ("last_reward_timer", "i"), ("last_reward", "f"),
    ("default_action", "i"), ("fixed_asset_seed", "i"), ("cur_time", "i"),
    ("is_waiting_for_step", "i"),
    # BasicAbstractGame::serialize
    ("grid_size", "i"), ("entities", "e"),
    ("use_procgen_background", "i"), ("background_index", "i"), ("bg_tile_ratio", "f"),
    ("bg_pct_x", "f"), ("char_dim", "f"), ("last_move_action", "i"), ("move_action", "i"),
    ("special_action", "i"), ("mixrate", "f"), ("maxspeed", "f"), ("max_jump", "f"),
    ("action_vx", "f"), ("action_vy", "f"), ("action_vrot", "f"),
    ("center_x", "f"), ("center_y", "f"),
    ("random_agent_start", "i"), ("has_useful_vel_info", "i"), ("step_rand_int", "i"),
    ("asset_rand_gen", "r"),
    ("main_width", "i"), ("main_height", "i"), ("out_of_bounds_object", "i"),
    ("unit", "f"), ("view_dim", "f"), ("x_off", "f"), ("y_off", "f"),
    ("visibility", "f"), ("min_visibility", "f"),
    ("grid", "g"),
    # MazeGame::serialize
    ("maze_dim", "i"), ("world_dim", "i"),
    # end marker (and anything after it)
    ("trailer", "t"),
)  # fmt: skip


@dataclass
class ProcgenState:
    """Every field of a serialized procgen ``maze`` game, in the order procgen writes them.

    Floats hold float32 values (re-packed exactly). ``grid`` is procgen's flat grid as an
    int32 array of length ``grid_w * grid_h`` indexed ``y * grid_w + x`` (y up);
    ``trailer`` holds the end marker 0xCAFECAFE and any bytes after it.
    """

    version: int
    game_name: str
    paint_vel_info: int
    use_generated_assets: int
    use_monochrome_assets: int
    restrict_themes: int
    use_backgrounds: int
    center_agent: int
    debug_mode: int
    distribution_mode: int
    use_sequential_levels: int
    use_easy_jump: int
    plain_assets: int
    physics_mode: int
    grid_step: int
    level_seed_low: int
    level_seed_high: int
    game_type: int
    game_n: int
    level_seed_rand_gen: RngState
    rand_gen: RngState
    reward: float
    done: int
    level_complete: int
    action: int
    timeout: int
    current_level_seed: int
    prev_level_seed: int
    episodes_remaining: int
    episode_done: int
    last_reward_timer: int
    last_reward: float
    default_action: int
    fixed_asset_seed: int
    cur_time: int
    is_waiting_for_step: int
    grid_size: int
    entities: list[Entity]
    use_procgen_background: int
    background_index: int
    bg_tile_ratio: float
    bg_pct_x: float
    char_dim: float
    last_move_action: int
    move_action: int
    special_action: int
    mixrate: float
    maxspeed: float
    max_jump: float
    action_vx: float
    action_vy: float
    action_vrot: float
    center_x: float
    center_y: float
    random_agent_start: int
    has_useful_vel_info: int
    step_rand_int: int
    asset_rand_gen: RngState
    main_width: int
    main_height: int
    out_of_bounds_object: int
    unit: float
    view_dim: float
    x_off: float
    y_off: float
    visibility: float
    min_visibility: float
    grid_w: int = 0
    grid_h: int = 0
    grid: np.ndarray = field(default=None)  # type: ignore[assignment]
    maze_dim: int = 0
    world_dim: int = 0
    trailer: bytes = b""

    @property
    def agent(self) -> Entity:
        """The player entity (the mouse)."""
        for ent in self.entities:
            if ent.type == PLAYER_TYPE:
                return ent
        raise ValueError("state has no player entity")

    def grid_2d(self) -> np.ndarray:
        """The grid as ``(rows, cols)`` with row 0 at the top (a copy)."""
        return self.grid.reshape(self.grid_h, self.grid_w)[::-1].copy()


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf = memoryview(buf)
        self.pos = 0

    def need(self, n: int, what: str) -> None:
        if self.pos + n > len(self.buf):
            raise ValueError(
                f"procgen state truncated reading {what} at byte {self.pos}: need {n} bytes, "
                f"{len(self.buf) - self.pos} left of {len(self.buf)}"
            )

    def i(self, what: str) -> int:
        self.need(4, what)
        (v,) = _I.unpack_from(self.buf, self.pos)
        self.pos += 4
        return v

    def f(self, what: str) -> float:
        self.need(4, what)
        (v,) = _F.unpack_from(self.buf, self.pos)
        self.pos += 4
        return v

    def raw(self, n: int, what: str) -> bytes:
        if n < 0:
            raise ValueError(f"negative length {n} reading {what} at byte {self.pos - 4}")
        self.need(n, what)
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out


def parse_state(buf: bytes) -> ProcgenState:
    """Parse one env's ``get_state`` bytes into a :class:`ProcgenState`.

    Raises ValueError on a truncated buffer or a game other than ``maze``.
    """
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise TypeError(f"state must be bytes, got {type(buf).__name__}")
    r = _Reader(bytes(buf))
    values: dict = {}
    for name, kind in _SCHEMA:
        if kind == "i":
            values[name] = r.i(name)
        elif kind == "f":
            values[name] = r.f(name)
        elif kind == "s":
            values[name] = r.raw(r.i(name), name).decode("utf-8")
            if name == "game_name" and values[name] != "maze":
                raise ValueError(f"not a maze state: game_name is {values[name]!r}")
        elif kind == "r":
            seeded = r.i(name)
            values[name] = RngState(seeded, r.raw(r.i(name), name))
        elif kind == "e":
            count = r.i(name)
            if not 0 <= count <= 10_000:
                raise ValueError(f"implausible entity count {count} at byte {r.pos - 4}")
            ents = []
            for _ in range(count):
                kw = {
                    fname: (r.i(fname) if fk == "i" else r.f(fname)) for fname, fk in _ENTITY_SCHEMA
                }
                ents.append(Entity(**kw))
            values[name] = ents
        elif kind == "g":
            w, h, n = r.i("grid w"), r.i("grid h"), r.i("grid n")
            if n != w * h or n < 0:
                raise ValueError(f"grid size mismatch: w={w}, h={h}, n={n}")
            values["grid_w"], values["grid_h"] = w, h
            values[name] = np.frombuffer(r.raw(4 * n, "grid"), dtype=np.int32).copy()
        elif kind == "t":
            values[name] = r.raw(len(r.buf) - r.pos, name)
    return ProcgenState(**values)


def serialize_state(state: ProcgenState) -> bytes:
    """Write a :class:`ProcgenState` back to procgen's byte format (inverse of parse)."""
    out = bytearray()
    for name, kind in _SCHEMA:
        v = getattr(state, name)
        if kind == "i":
            out += _I.pack(int(v))
        elif kind == "f":
            out += _F.pack(float(v))
        elif kind == "s":
            b = v.encode("utf-8")
            out += _I.pack(len(b)) + b
        elif kind == "r":
            out += _I.pack(int(v.is_seeded)) + _I.pack(len(v.text)) + bytes(v.text)
        elif kind == "e":
            out += _I.pack(len(v))
            for ent in v:
                for fname, fk in _ENTITY_SCHEMA:
                    fv = getattr(ent, fname)
                    out += _I.pack(int(fv)) if fk == "i" else _F.pack(float(fv))
        elif kind == "g":
            g = np.ascontiguousarray(v, dtype=np.int32).reshape(-1)
            if g.size != state.grid_w * state.grid_h:
                raise ValueError(
                    f"grid has {g.size} cells, expected grid_w*grid_h = {state.grid_w * state.grid_h}"
                )
            out += _I.pack(state.grid_w) + _I.pack(state.grid_h) + _I.pack(g.size) + g.tobytes()
        elif kind == "t":
            out += bytes(v)
    return bytes(out)


def level_from_state(state: ProcgenState) -> Level:
    """The level currently loaded in ``state`` (walls, cheese, mouse position, size, bg).

    The mouse is where the agent entity is now (its start, right after a reset).
    ``Level.seed`` is ``current_level_seed``.
    """
    w = state.world_dim
    if state.grid_w != w or state.grid_h != w:
        raise ValueError(f"grid is {state.grid_w}x{state.grid_h}, expected world_dim {w}")
    g = state.grid_2d()
    cheese = np.argwhere(g == CHEESE)
    if len(cheese) > 1:
        raise ValueError(f"state has {len(cheese)} cheese cells; a maze level has at most one")
    ag = state.agent
    mouse = (w - 1 - int(np.floor(ag.y)), int(np.floor(ag.x)))
    return Level(
        walls=g == WALL,
        cheese=(int(cheese[0, 0]), int(cheese[0, 1])) if len(cheese) else None,
        mouse=mouse,
        maze_size=state.maze_dim,
        world_size=w,
        background=state.background_index,
        seed=state.current_level_seed,
    )


def state_with_level(state: ProcgenState, level: Level) -> ProcgenState:
    """A copy of ``state`` with ``level`` written in (``state`` itself is not changed).

    Writes the grid (wall / empty / cheese ids of :mod:`mazegen.constants`), the mouse entity's
    x, y (cell centre, y up), ``maze_dim`` and ``background_index``. Everything else (RNGs,
    timers, level seed) is kept, so after ``set_state`` the engine plays ``level`` from its
    current step count.
    """
    if not isinstance(level, Level):
        raise TypeError(f"level must be a Level, got {type(level).__name__}")
    w = state.world_dim
    if level.world_size != w:
        raise ValueError(
            f"level world_size {level.world_size} does not match the state's world_dim {w} "
            f"(allowed: {w})"
        )
    if not 0 <= level.background < NUM_BACKGROUNDS:  # pragma: no cover - Level validates
        raise ValueError(
            f"background must be in [0, {NUM_BACKGROUNDS - 1}], got {level.background}"
        )
    g = np.where(level.walls, WALL, EMPTY).astype(np.int32)
    if level.cheese is not None:
        g[level.cheese] = CHEESE
    new = dataclasses.replace(state)
    new.grid = g[::-1].reshape(-1).copy()  # row 0 on top -> y = w-1-row
    new.entities = [dataclasses.replace(e) for e in state.entities]
    agent = new.agent
    r, c = level.mouse
    agent.x = c + 0.5
    agent.y = (w - 1 - r) + 0.5
    new.maze_dim = level.maze_size
    new.background_index = level.background
    new.level_seed_rand_gen = dataclasses.replace(state.level_seed_rand_gen)
    new.rand_gen = dataclasses.replace(state.rand_gen)
    new.asset_rand_gen = dataclasses.replace(state.asset_rand_gen)
    return new
