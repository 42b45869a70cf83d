"""Timing for the benchmark scripts: the median wall and process-CPU time of a callable.

:func:`median_ms` calls ``fn`` once to warm up, then ``repeats`` times, and returns the medians
as a :class:`Timing`. Process CPU time is what a quiet machine's wall time would be for a
one-thread job, which a shared, loaded machine's wall time is not; the benchmarks report both.

>>> t = median_ms(lambda: sum(range(1000)), 3)
>>> t.wall_ms >= 0 and t.cpu_ms >= 0
True
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mazegen.checks import check_int

__all__ = ["Timing", "median_ms"]


@dataclass(frozen=True)
class Timing:
    """Median milliseconds of the timed calls."""

    wall_ms: float
    cpu_ms: float


def median_ms(fn: Callable[[], Any], repeats: int) -> Timing:
    """Median wall and process-CPU milliseconds of ``repeats`` calls of ``fn`` after one warm-up."""
    repeats = check_int("repeats", repeats, 1)
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(1000 * (time.perf_counter() - t))
        cpu.append(1000 * (time.process_time() - c))
    return Timing(statistics.median(wall), statistics.median(cpu))
