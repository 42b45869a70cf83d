"""Request bodies of the app: pydantic models with bounds (the server and notebooks share them).

Every bound is stated here once; a request outside it gets a 422 naming the field and the
allowed range (pydantic's message), before any work is done.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mazegen.checks import check_maze_size
from mazegen.constants import MAX_MAZE_SIZE, MAX_SEED, MAX_STEPS, MIN_MAZE_SIZE

#: Most patches a session may hold at once.
MAX_PATCHES = 16
#: Most rollouts one "run N rollouts" request may ask for.
MAX_ROLLOUTS = 200
# MAX_STEPS (procgen's episode cap) and MAX_SEED (the largest level seed) come from mazegen.
#: Largest accepted request body, bytes (a state with a few steering vectors fits easily).
MAX_BODY_BYTES = 4_000_000

Coord = Annotated[int, Field(ge=0, le=63)]
Cell = tuple[Coord, Coord]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MazeSpec(_Strict):
    """A maze: a generated level plus the user's edits."""

    seed: int = Field(0, ge=0, le=MAX_SEED, description="level seed")
    size: int | None = Field(
        None, ge=MIN_MAZE_SIZE, le=MAX_MAZE_SIZE, description="inner maze side (odd); None: procgen's draw"
    )
    cheese: str = Field("uniform", max_length=64, description="cheese placement spec")
    mouse: str = Field("start", max_length=64, description="mouse placement spec")
    toggled: list[Cell] = Field(
        default_factory=list, max_length=625, description="cells whose wall/open state is flipped"
    )
    cheese_cell: Cell | None = Field(None, description="cheese moved here (overrides the spec)")
    mouse_cell: Cell | None = Field(None, description="mouse moved here (overrides the spec)")
    no_cheese: bool = Field(False, description="remove the cheese")

    @field_validator("size")
    @classmethod
    def _odd(cls, v):
        return v if v is None else check_maze_size(v, "size")


class State(_Strict):
    """The whole shareable state of one tab: agent, maze, patches and the retarget cell."""

    agent: str = Field(..., min_length=1, max_length=200, description="zoo agent name")
    maze: MazeSpec = Field(default_factory=MazeSpec)
    patches: list[dict[str, Any]] = Field(
        default_factory=list, max_length=MAX_PATCHES, description="patch JSON, as steer.py reads"
    )
    target: Cell | None = Field(None, description="the cell rollouts try to reach")


class RetargetRequest(_Strict):
    cell: Cell
    layer: str = Field("embedder.block2.res1.resadd_out", min_length=1, max_length=200)
    channels: list[Annotated[int, Field(ge=0, le=4095)]] | None = Field(
        None, max_length=512, description="channels to clamp; None: the discovered top 8"
    )
    magnitude: float | None = Field(None, ge=-100, le=100, description="clamp value")


class VectorRequest(_Strict):
    kind: str = Field("cheese", pattern="^(cheese|top_right)$")
    layer: str = Field("embedder.block2.res1.resadd_out", min_length=1, max_length=200)
    coeff: float = Field(-1.0, ge=-100, le=100)


class RolloutRequest(_Strict):
    greedy: bool = True
    seed: int = Field(0, ge=0, le=2**31 - 1)
    max_steps: int = Field(MAX_STEPS, ge=1, le=MAX_STEPS)


class RolloutsRequest(RolloutRequest):
    n: int = Field(50, ge=1, le=MAX_ROLLOUTS)
    greedy: bool = False
    max_steps: int = Field(250, ge=1, le=MAX_STEPS)


class ActivationsRequest(_Strict):
    layer: str = Field(..., min_length=1, max_length=200)
    channel: int | None = Field(None, ge=0, le=4095, description="None: every channel")
    patched: bool = True
