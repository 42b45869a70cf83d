"""Integer argument checks shared by the whole project: :func:`is_int`, :func:`check_int`,
:func:`check_optional_int`, and the one maze-size rule (:func:`is_maze_size`,
:func:`check_maze_size`: an odd integer in ``[MIN_MAZE_SIZE, world side]``).

"An integer" means a Python or numpy integer, never a bool (``True`` is not a count of 1).
:func:`check_int` raises ValueError naming the argument, the allowed range and the bad value,
and returns a plain Python int. This module imports only numpy, the standard library and
:mod:`mazegen.constants`, so any module (``mazegen.env`` included) can import it without an
import cycle.

>>> check_int("num_envs", np.int64(4), 1)
4
>>> check_int("num_envs", True, 1)
Traceback (most recent call last):
...
ValueError: num_envs must be an integer >= 1, got True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .constants import MAX_MAZE_SIZE, MIN_MAZE_SIZE, WORLD_SIZE

__all__ = ["is_int", "check_int", "check_optional_int", "is_maze_size", "check_maze_size", "check_distribution_mode"]


def is_int(x: Any) -> bool:
    """Whether ``x`` is a Python or numpy integer (not a bool).

    >>> is_int(3), is_int(np.uint8(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _in_range(value: Any, low: int, high: int | None) -> bool:
    return is_int(value) and value >= low and (high is None or value <= high)


def _requirement(low: int, high: int | None) -> str:
    return f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``>= low`` when ``high`` is None).

    >>> check_int("num_levels", 2**31, 0, 2**31 - 1)
    Traceback (most recent call last):
    ...
    ValueError: num_levels must be an integer in [0, 2147483647], got 2147483648
    """
    if not _in_range(value, low, high):
        raise ValueError(f"{name} must be {_requirement(low, high)}, got {value!r}")
    return int(value)


def check_optional_int(name: str, value: Any, low: int, high: int | None = None) -> int | None:
    """None, or ``value`` checked as by :func:`check_int`; the error says None is allowed.

    >>> check_optional_int("threads", None, 1) is None
    True
    >>> check_optional_int("threads", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: threads must be None or an integer >= 1, got 0
    """
    if value is None:
        return None
    if not _in_range(value, low, high):
        raise ValueError(f"{name} must be None or {_requirement(low, high)}, got {value!r}")
    return int(value)


def is_maze_size(value: Any, world_size: int = MAX_MAZE_SIZE) -> bool:
    """Whether ``value`` is an allowed inner-maze side: an odd integer (not a bool) in
    ``[MIN_MAZE_SIZE, world_size]`` (``world_size``: 25 in hard mode, 15 in easy).

    >>> is_maze_size(25), is_maze_size(np.int64(3)), is_maze_size(4), is_maze_size(27)
    (True, True, False, False)
    >>> is_maze_size(17, world_size=15), is_maze_size(5.0), is_maze_size(True)
    (False, False, False)
    """
    return is_int(value) and value % 2 == 1 and MIN_MAZE_SIZE <= value <= world_size


def check_maze_size(value: Any, what: str = "maze size", world_size: int = MAX_MAZE_SIZE) -> int:
    """``value`` as an int when :func:`is_maze_size`, else ValueError naming ``what``, the
    allowed range and the bad value.

    >>> check_maze_size(np.int64(9))
    9
    >>> check_maze_size(4, "--size")
    Traceback (most recent call last):
    ...
    ValueError: --size must be an odd integer in [3, 25], got 4
    >>> check_maze_size(17, "maze_size for distribution_mode='easy'", world_size=15)
    Traceback (most recent call last):
    ...
    ValueError: maze_size for distribution_mode='easy' must be an odd integer in [3, 15], got 17
    """
    if not is_maze_size(value, world_size):
        raise ValueError(
            f"{what} must be an odd integer in [{MIN_MAZE_SIZE}, {world_size}], got {value!r}"
        )
    return int(value)


def check_distribution_mode(distribution_mode: Any) -> int:
    """The world side of ``distribution_mode`` (``WORLD_SIZE``: 25 for "hard", 15 for "easy"),
    else ValueError naming the allowed modes and the bad value.

    >>> check_distribution_mode("hard")
    25
    >>> check_distribution_mode("medium")
    Traceback (most recent call last):
    ...
    ValueError: distribution_mode must be one of ('easy', 'hard'), got 'medium'
    """
    if distribution_mode not in WORLD_SIZE:
        raise ValueError(f"distribution_mode must be one of {tuple(WORLD_SIZE)}, got {distribution_mode!r}")
    return WORLD_SIZE[distribution_mode]
