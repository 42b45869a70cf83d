"""What a placement sweep spans: its maze sizes, cheese placements and level seeds, and the
size buckets that logs and cards report rates by.

Level seeds. Training levels come from procgen-style seeds in ``[0, 1e9)`` (the zoo's cards
evaluate on ``1e9, 1e9+1, ...``). Sweep mazes use ``SWEEP_SEED_BASE + seed * 100_000 + i``
for ``i < mazes`` with ``SWEEP_SEED_BASE = 3_000_000_000``: disjoint from both.

>>> level_seeds(seed=0, mazes=3).tolist()
[3000000000, 3000000001, 3000000002]
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from mazegen.checks import check_int, check_maze_size
from mazegen.constants import MAX_MAZE_SIZE, MIN_MAZE_SIZE
from mazegen.placement import Corner, Region, parse_placement

__all__ = [
    "SWEEP_SEED_BASE",
    "SEEDS_PER_SWEEP",
    "SIZES_ALL",
    "SIZE_BUCKETS",
    "bucket_label",
    "size_bucket",
    "size_bucket_labels",
    "DEFAULT_PLACEMENTS",
    "level_seeds",
    "parse_sizes",
    "parse_placements",
    "in_training_region",
]

#: First level seed of sweep mazes (training uses [0, 1e9), card evaluation 1e9+).
SWEEP_SEED_BASE = 3_000_000_000
#: Level seeds reserved per sweep seed.
SEEDS_PER_SWEEP = 100_000
#: Every odd maze size of hard mode.
SIZES_ALL = tuple(range(MIN_MAZE_SIZE, MAX_MAZE_SIZE + 1, 2))

#: Maze-size buckets (inclusive ranges of odd sizes). Training and monitor logs name them
#: (``cheese_rate_small``); model cards and evaluations label them by range (``"3-9"``,
#: :func:`bucket_label`). One table, two spellings of the same three buckets.
SIZE_BUCKETS = {"small": (3, 9), "medium": (11, 17), "large": (19, 25)}


def bucket_label(name: str) -> str:
    """The range label a card uses for the :data:`SIZE_BUCKETS` bucket ``name``.

    >>> [bucket_label(b) for b in SIZE_BUCKETS]
    ['3-9', '11-17', '19-25']
    """
    if name not in SIZE_BUCKETS:
        raise ValueError(f"size bucket must be one of {sorted(SIZE_BUCKETS)}, got {name!r}")
    lo, hi = SIZE_BUCKETS[name]
    return f"{lo}-{hi}"


def size_bucket(maze_size: int) -> str:
    """Name of the :data:`SIZE_BUCKETS` bucket holding ``maze_size`` (raises outside 3..25).

    >>> size_bucket(3), size_bucket(13), size_bucket(25)
    ('small', 'medium', 'large')
    """
    for name, (lo, hi) in SIZE_BUCKETS.items():
        if lo <= maze_size <= hi:
            return name
    raise ValueError(f"maze size must be in {MIN_MAZE_SIZE}..{MAX_MAZE_SIZE}, got {maze_size}")


def size_bucket_labels(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """The range label (:func:`bucket_label`) of each maze size's bucket, as an object array;
    raises like :func:`size_bucket` for a size outside 3..25.

    >>> size_bucket_labels(np.array([3, 13, 25])).tolist()
    ['3-9', '11-17', '19-25']
    """
    return np.array([bucket_label(size_bucket(int(s))) for s in np.asarray(sizes).ravel()], dtype=object)


#: The placements of the default sweep.
DEFAULT_PLACEMENTS = ("top-left", "bottom-right", "top-right", "bottom-left", "region:5", "every-cell", "uniform")


def level_seeds(seed: int, mazes: int) -> np.ndarray:
    """The sweep's level seeds for sweep seed ``seed`` (see the module docstring)."""
    seed = check_int("seed", seed, 0, (2**32 - SWEEP_SEED_BASE) // SEEDS_PER_SWEEP - 1)
    mazes = check_int("mazes", mazes, 1, SEEDS_PER_SWEEP)
    return SWEEP_SEED_BASE + seed * SEEDS_PER_SWEEP + np.arange(mazes, dtype=np.int64)


def parse_sizes(text: str | Sequence[int]) -> tuple[int, ...]:
    """``"all"``, ``"5,9,25"`` or a sequence of ints -> sorted unique odd sizes in [3, 25].

    >>> parse_sizes("25,5,9"), parse_sizes("all")[:3]
    ((5, 9, 25), (3, 5, 7))
    """
    if isinstance(text, str):
        if text.strip().lower() == "all":
            return SIZES_ALL
        try:
            vals = [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise ValueError(
                f"sizes must be 'all' or comma-separated odd integers in [{MIN_MAZE_SIZE}, {MAX_MAZE_SIZE}], "
                f"got {text!r}"
            ) from None
    else:
        vals = [int(x) for x in text]
    if not vals:
        raise ValueError("sizes must name at least one maze size")
    for v in vals:
        check_maze_size(v, "sizes entry")
    return tuple(sorted(set(vals)))


def _split_placements(text: str) -> list[str]:
    """Split a comma list of placements, keeping ``cell:R,C`` whole (its comma is not a separator).

    >>> _split_placements("top-left, cell:12,12,uniform")
    ['top-left', 'cell:12,12', 'uniform']
    """
    out: list[str] = []
    for part in (x.strip() for x in text.split(",")):
        if out and re.fullmatch(r"-?\d+", part) and re.fullmatch(r"cell:\s*-?\d+", out[-1].lower()):
            out[-1] = f"{out[-1]},{part}"
        else:
            out.append(part)
    return out


def parse_placements(text: str | Sequence[str]) -> tuple[str, ...]:
    """Comma-separated placement names -> validated tuple (``every-cell`` or any cheese spec).

    >>> parse_placements("top-left,region:5,every-cell,cell:12,12")
    ('top-left', 'region:5', 'every-cell', 'cell:12,12')
    """
    items = _split_placements(text) if isinstance(text, str) else [str(x).strip() for x in text]
    items = [x for x in items if x]
    if not items:
        raise ValueError("placements must name at least one placement")
    out = []
    for it in items:
        if it != "every-cell":
            p = parse_placement(it, what="cheese")
            if str(p) == "none":
                raise ValueError("placement 'none' makes no sense in a cheese sweep")
        if it in out:
            raise ValueError(f"placement {it!r} is listed twice")
        out.append(it)
    return tuple(out)


def in_training_region(placement: str, size: int, train_region: int) -> bool:
    """Whether every cheese cell of ``placement`` at ``size`` lies in the top-right
    ``train_region x train_region`` corner the agent was trained on.

    >>> in_training_region("top-right", 25, 5), in_training_region("top-left", 25, 5)
    (True, False)
    >>> in_training_region("top-left", 5, 5), in_training_region("region:7", 25, 5)
    (True, False)
    """
    if size <= train_region:
        return True
    if placement == "every-cell":
        return False
    p = parse_placement(placement, what="cheese")
    if isinstance(p, Corner):
        return p.name == "top-right"
    if isinstance(p, Region):
        return p.n <= train_region
    return False
