"""Counterfactual activation patching: the layer's activations of the same observation with the
cheese moved, on chosen channels and/or cells.

At every forward pass, :class:`Counterfactual` builds the *counterfactual input*: the model's
own grid input ``x`` ``(B, 3, W, W)`` (planes wall / mouse / cheese,
``mazegen.constants.GRID_CHANNELS``) with the cheese plane cleared and a single cheese placed

- ``mode="target"``: at the row's target cell;
- ``mode="waypoint"`` (planner-driven): at the cell one step ahead on a BFS shortest path from
  the mouse's current cell (read from the mouse plane) to the row's target (the target itself
  when the mouse stands on it).

It runs the clean model on that input up to ``layer`` and replaces the layer's activations by
the counterfactual ones on ``channels`` (None: all) x the cells within Chebyshev distance
``radius`` of the activation cells of the moved cheese and of the original cheese (None: all
cells). Everything else keeps the clean pass's values. The patch holds only this recipe, so it
travels in JSON without arrays of activations (``targets`` are world cells, one per level with
``per_level=True``).

It is *input-conditioned* (``needs_input``): :func:`steering.patches.apply.apply_patches` (and
so ``rollout_patch`` in a plain rollout) calls :meth:`Counterfactual.prepare` from a forward
pre-hook with the pass's input; the counterfactual pass runs with every patch hook paused. Per
forward pass at most ``len(channels) x cells`` activations change
(:func:`steering.metrics.fraction_modified` counts those whose value differs).

>>> import torch
>>> from torch import nn
>>> from steering.patches import apply_patches, patch_from_json
>>> net = nn.Sequential(); net.add_module("id", nn.Identity())
>>> x = torch.zeros(1, 3, 5, 5); x[0, 1, 3, 1] = 1; x[0, 2, 1, 3] = 1   # mouse, cheese
>>> p = Counterfactual("id", targets=[(3, 3)], channels=[2])
>>> with apply_patches(net, p):
...     out = net(x)
>>> out[0, 2].nonzero().tolist(), bool((out[0, :2] == x[0, :2]).all())
([[3, 3]], True)
>>> patch_from_json(p.to_json()) == p
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mazegen.constants import CH_CHEESE, CH_MOUSE, CH_WALL, GRID_CHANNELS

from .arrays import as_cells, as_channels, check_channels, rows_for
from .base import PATCH_TYPES, Patch, _check_layer

__all__ = ["CF_MODES", "Counterfactual", "waypoints"]

#: Where the cheese goes in the counterfactual input.
CF_MODES = ("target", "waypoint")


class _Stop(Exception):
    """Ends the counterfactual forward pass once ``layer`` is reached."""


def waypoints(walls: np.ndarray, mouse: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``(B, 2)``: per row the cell one step from ``mouse[b]`` along a BFS shortest path to
    ``targets[b]`` (the target when the mouse is on it): :func:`mazegen.solvers.next_cells_towards`,
    so ties (mazes with loops) go as in every solver, to the first of left, down, up, right.
    ``walls`` ``(B, W, W)`` bool. ValueError if a target is a wall or unreachable.

    >>> walls = np.ones((1, 3, 3), bool); walls[0, 1] = False   # one open row
    >>> waypoints(walls, np.array([[1, 0]]), np.array([[1, 2]])).tolist()
    [[1, 1]]
    """
    from mazegen.solvers import next_cells_towards

    out = next_cells_towards(walls, mouse, targets)
    if (out < 0).any():
        i = int(np.flatnonzero(out[:, 0] < 0)[0])
        raise ValueError(
            f"Counterfactual waypoint: target {tuple(int(v) for v in targets[i])} is unreachable "
            f"from the mouse at {tuple(int(v) for v in mouse[i])} (batch row {i})"
        )
    return out


class Counterfactual(Patch):
    """Replace activations by those of the cheese-moved input (see the module docstring).

    Args:
        layer: hook point.
        targets: world cells ``(row, col)``: one cell for every row, or with ``per_level=True``
            ``(N, 2)``, row ``b`` using ``targets[rows[b]]``.
        mode: ``"target"`` (cheese at the target) or ``"waypoint"`` (one BFS step ahead of the
            mouse towards the target).
        channels: channels replaced (None: all).
        radius: replaced activation cells: within this Chebyshev distance of the moved and the
            original cheese's activation cells (None: all cells; conv layers only).
        per_level: one target per level.
    """

    type = "counterfactual"
    needs_input = True

    def __init__(
        self,
        layer: str,
        targets,
        *,
        mode: str = "target",
        channels=None,
        radius: int | None = None,
        per_level: bool = False,
    ) -> None:
        self.layer = _check_layer(layer)
        if mode not in CF_MODES:
            raise ValueError(f"Counterfactual mode must be one of {list(CF_MODES)}, got {mode!r}")
        self.mode = mode
        self.targets = as_cells(targets)
        if self.targets is None:
            raise ValueError("Counterfactual needs target cells")
        self.per_level = bool(per_level)
        if not self.per_level and len(self.targets) != 1:
            raise ValueError(
                f"Counterfactual without per_level takes one target cell, got {len(self.targets)}"
            )
        self.channels = as_channels(channels)
        if radius is not None and (isinstance(radius, bool) or not float(radius).is_integer() or radius < 0):
            raise ValueError(f"Counterfactual radius must be None or an integer >= 0, got {radius!r}")
        self.radius = None if radius is None else int(radius)
        self._pass: tuple[torch.Tensor, torch.Tensor | None] | None = None

    # ------------------------------------------------------------------ per forward pass
    def cheese_cells(self, x: torch.Tensor, rows: np.ndarray | None) -> np.ndarray:
        """``(B, 2)`` world cell of the counterfactual cheese of each row of input ``x``."""
        self._check_input(x)
        b, w = x.shape[0], x.shape[-1]
        t = self.targets[rows_for(rows, b, len(self.targets), "Counterfactual")] if self.per_level \
            else np.repeat(self.targets, b, 0)
        if t.max() >= w:
            raise ValueError(f"Counterfactual target {t[t.max(1) >= w][0].tolist()} is outside the {w}x{w} world")
        planes = x.detach().float().cpu().numpy()
        walls = planes[:, CH_WALL] > 0.5
        on_wall = walls[np.arange(b), t[:, 0], t[:, 1]]
        if on_wall.any():
            raise ValueError(f"Counterfactual target {t[on_wall][0].tolist()} is a wall")
        if self.mode == "target":
            return t
        mouse = np.stack(np.unravel_index(planes[:, CH_MOUSE].reshape(b, -1).argmax(1), (w, w)), 1)
        return waypoints(walls, mouse, t)

    @staticmethod
    def _check_input(x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != len(GRID_CHANNELS) or x.shape[2] != x.shape[3]:
            raise ValueError(
                f"Counterfactual needs grid observations (B, {len(GRID_CHANNELS)}, W, W) (planes "
                f"{list(GRID_CHANNELS)}) as the model input, got shape {tuple(x.shape)}"
            )
        mouse = x[:, CH_MOUSE].reshape(x.shape[0], -1)
        if not (((x == 0) | (x == 1)).all() and (mouse.sum(1) == 1).all()):
            raise ValueError(
                "Counterfactual needs grid observations as the model input: 0/1 planes with one "
                "mouse cell per row (rgb frames do not qualify)"
            )

    def prepare(self, model, x, rows) -> None:
        from ..hooking import hooks
        from .apply import patches_paused

        cells = self.cheese_cells(x, rows)
        b = x.shape[0]
        x2 = x.clone()
        old = x[:, CH_CHEESE].reshape(b, -1).argmax(1).cpu().numpy()
        has_old = x[:, CH_CHEESE].reshape(b, -1).amax(1).cpu().numpy() > 0.5
        x2[:, CH_CHEESE] = 0
        x2[torch.arange(b), CH_CHEESE, torch.as_tensor(cells[:, 0]), torch.as_tensor(cells[:, 1])] = 1
        got: dict[str, torch.Tensor] = {}

        def grab(act, name):
            got["act"] = act.detach()
            raise _Stop

        with patches_paused(), torch.no_grad():
            try:
                with hooks(model, {self.layer: grab}):
                    model(x2)
            except _Stop:
                pass
        if "act" not in got:
            raise ValueError(f"Counterfactual: layer {self.layer!r} was not reached by the forward pass")
        cf = got["act"]
        cell_mask = None
        if self.radius is not None:
            if cf.dim() != 4:
                raise ValueError(
                    f"Counterfactual radius needs a conv layer (B, C, H, W), {self.layer!r} has shape "
                    f"{tuple(cf.shape)}"
                )
            cell_mask = _near(cells, np.where(has_old[:, None], np.stack(np.unravel_index(old, x.shape[-2:]), 1), -1),
                              self.radius, cf.shape[-1], x.shape[-1])
            cell_mask = torch.as_tensor(cell_mask, device=cf.device)
        self._pass = (cf, cell_mask)

    def apply(self, act, rows=None):
        if self._pass is None:
            raise ValueError(
                "Counterfactual needs the model input of the forward pass: apply it through "
                "steering.patches.apply_patches or rollout_patch (their forward pre-hook prepares it)"
            )
        cf, cell_mask = self._pass
        self._pass = None  # one forward pass's data
        if tuple(cf.shape) != tuple(act.shape):
            raise ValueError(
                f"Counterfactual prepared activations {tuple(cf.shape)} for a batch of {tuple(act.shape)}"
            )
        check_channels(self.channels, act, "Counterfactual")
        mask = torch.ones((1, act.shape[1]) + (1,) * (act.dim() - 2), dtype=torch.bool, device=act.device)
        if self.channels is not None:
            mask = torch.zeros_like(mask)
            mask[:, list(self.channels)] = True
        if cell_mask is not None:
            mask = mask & cell_mask[:, None]
        return torch.where(mask, cf.to(act.dtype), act)

    # ------------------------------------------------------------------ JSON
    def _fields(self, array_dir) -> dict:
        return {
            "mode": self.mode,
            "targets": self.targets.tolist(),
            "per_level": self.per_level,
            "channels": None if self.channels is None else list(self.channels),
            "radius": self.radius,
        }

    @classmethod
    def _from_fields(cls, d: dict, base_dir: Any) -> Counterfactual:
        return cls(
            d["layer"], d["targets"], mode=d.get("mode", "target"), channels=d.get("channels"),
            radius=d.get("radius"), per_level=d.get("per_level", False),
        )

    def __getstate__(self) -> dict:  # a pass's data never travels with the patch
        return {**self.__dict__, "_pass": None}


def _near(new: np.ndarray, old: np.ndarray, radius: int, side: int, world: int) -> np.ndarray:
    """``(B, side, side)`` bool: activation cells within Chebyshev ``radius`` of the activation
    cell of ``new[b]`` or of ``old[b]`` (world cells; rows of ``old`` at -1 are skipped)."""
    from ..cells import axis_table

    table = axis_table(side, "grid", world_size=world)
    b = len(new)
    ii = np.arange(side)
    out = np.zeros((b, side, side), bool)
    for cells in (new, old):
        ok = cells[:, 0] >= 0
        a = table[np.clip(cells, 0, world - 1)]  # (B, 2) activation cells
        near_r = np.abs(ii[None, :] - a[:, :1]) <= radius  # (B, side)
        near_c = np.abs(ii[None, :] - a[:, 1:]) <= radius
        out |= ok[:, None, None] & near_r[:, :, None] & near_c[:, None, :]
    return out


PATCH_TYPES[Counterfactual.type] = Counterfactual
