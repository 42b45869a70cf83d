"""Matplotlib figures (Agg backend) of the steering results, one module per experiment; every
function writes one PNG atomically (:func:`agents.eval.plots.save_figure`).

- :mod:`~steering.plots.retarget`: retargeting success vs clamp magnitude, success over target
  cells, channel-discovery scores;
- :mod:`~steering.plots.vectors`: outcome rates vs a steering vector's coefficient;
- :mod:`~steering.plots.frontier`: the Q2 frontier and the arrival-vs-distance curve;
- :mod:`~steering.plots.probes`: probe accuracy, accuracy vs depth, probe directions as edits,
  the understood channels kept / ablated;
- :mod:`~steering.plots.prune`: pruning curves and the Lipschitz bound.

Every figure function is importable from here: ``from steering.plots import plot_frontier``.
"""

from __future__ import annotations

# first: importing agents.eval.plots selects the Agg backend, before any module below imports
# pyplot (importing one of them alone runs this package first too)
from agents.eval.plots import save_figure

from . import frontier, probes, prune, retarget, vectors
from .frontier import *  # noqa: F403
from .probes import *  # noqa: F403
from .prune import *  # noqa: F403
from .retarget import *  # noqa: F403
from .vectors import *  # noqa: F403

__all__ = [
    "save_figure",
    *frontier.__all__,
    *probes.__all__,
    *prune.__all__,
    *retarget.__all__,
    *vectors.__all__,
]
