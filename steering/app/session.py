"""The app's state and what it computes, as plain Python (the server only wraps these).

- :class:`~steering.app.store.AgentStore` (:mod:`~steering.app.store`): the agents a server
  may use, loaded once each, with one lock per agent.
- :class:`Session`: one tab's state (:class:`~steering.app.schemas.State`) and its results:
  the level, the vector field with and without the patches and their difference, the share
  of activations modified, rollouts with animation data, arrival rates with a Wilson CI,
  activations of a layer, and patch builders (retarget a cell, add a steering vector).

:class:`~steering.app.errors.InputError` and :func:`~steering.app.patch_json.patch_types`
are importable from here too.

A notebook user gets exactly what the page shows::

    store = AgentStore()
    s = Session(store, State(agent="grid-r5-long-s1", maze=MazeSpec(seed=20, size=7, cheese="none")))
    s.retarget((9, 9))                    # clamp cheese channels at the top-left cell
    s.view()["modified"]["total"], s.rollout()["outcome"]     # 8 activations; "target"

Cells are world cells ``(row, col)``, row 0 at the top.
"""

from __future__ import annotations

import threading

import numpy as np

import agents
import mazegen
import steering

from .errors import InputError
from .patch_json import check_no_file_refs, patch_types
from .schemas import (
    ActivationsRequest,
    MazeSpec,
    RetargetRequest,
    RolloutRequest,
    RolloutsRequest,
    State,
    VectorRequest,
)
from .store import AgentStore

__all__ = ["AgentStore", "InputError", "Session", "patch_types"]


def _round(a: np.ndarray, nd: int) -> list:
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def _field_json(vf) -> dict:
    return {
        "cells": vf.cells.tolist(),
        "vectors": _round(vf.vectors, 4),
        "probs": _round(vf.probs, 4),
    }


class Session:
    """One tab's state and everything computed from it (see the module docstring)."""

    def __init__(self, store: AgentStore, state: State | dict | None = None) -> None:
        self.store = store
        #: held by the server around each request, so one tab's overlapping requests queue
        self.lock = threading.RLock()
        self._base_cache: dict = {}
        self._retarget_json: dict | None = None
        self.state = State(agent=store.default())
        self.level = self._build_level(self.state)
        self.patches: list = []
        if state is not None:
            self.set_state(state)

    # ---------------------------------------------------------------- state
    def set_state(self, state: State | dict) -> State:
        """Validate and adopt ``state``; raises :class:`InputError` naming the bad field."""
        if not isinstance(state, State):
            state = State.model_validate(state)
        self.store.check(state.agent)
        level = self._build_level(state)
        patches = self._build_patches(state, level)
        if state.target is not None:
            self._check_cell(level, state.target, "target")
        self.state, self.level, self.patches = state, level, patches
        return state

    def _policy(self):
        return self.store.get(self.state.agent)

    def _build_level(self, state: State) -> mazegen.Level:
        m: MazeSpec = state.maze
        try:
            lvl = mazegen.generate_level(m.seed, maze_size=m.size, cheese=m.cheese, mouse=m.mouse)
        except ValueError as e:
            raise InputError("maze", str(e)) from None
        if m.toggled:
            walls = lvl.walls.copy()
            for i, cell in enumerate(m.toggled):
                if not lvl.in_inner(cell):
                    raise InputError(f"maze.toggled.{i}", self._inner_msg(lvl, cell))
                walls[cell] = not walls[cell]
            if lvl.cheese is not None and walls[lvl.cheese]:
                lvl = lvl.replace(cheese=None)
            if walls[lvl.mouse]:
                raise InputError("maze.toggled", f"cannot put a wall on the mouse's cell {lvl.mouse}")
            lvl = lvl.replace(walls=walls)
        if m.no_cheese:
            lvl = lvl.with_cheese(None)
        for what in ("mouse_cell", "cheese_cell"):
            cell = getattr(m, what)
            if cell is None or (what == "cheese_cell" and m.no_cheese):
                continue
            self._check_cell(lvl, cell, f"maze.{what}")
            try:
                if what == "mouse_cell":
                    if lvl.cheese is not None and tuple(cell) == lvl.cheese:
                        lvl = lvl.replace(cheese=None)
                    lvl = lvl.with_mouse(cell)
                else:
                    if tuple(cell) == lvl.mouse:
                        raise InputError("maze.cheese_cell", f"cell {tuple(cell)} is the mouse's cell")
                    lvl = lvl.with_cheese(cell)
            except InputError:
                raise
            except ValueError as e:
                raise InputError(f"maze.{what}", str(e)) from None
        return lvl

    @staticmethod
    def _inner_msg(lvl, cell) -> str:
        lo, hi = lvl.margin, lvl.margin + lvl.maze_size - 1
        return f"cell {tuple(cell)} is outside the inner maze: row and col must be in [{lo}, {hi}]"

    def _check_cell(self, lvl, cell, field: str) -> None:
        if not lvl.in_inner(tuple(cell)):
            raise InputError(field, self._inner_msg(lvl, cell))
        if lvl.walls[tuple(cell)]:
            raise InputError(field, f"cell {tuple(cell)} is a wall")

    def _build_patches(self, state: State, level) -> list:
        pol = self.store.get(state.agent)
        out = []
        for i, d in enumerate(state.patches):
            where = f"patches.{i}"
            check_no_file_refs(d, where)
            try:
                p = steering.patch_from_json(d)
            except (ValueError, TypeError) as e:
                raise InputError(where, str(e)) from None
            for layer in p.layers():
                self.store.layer_shape(state.agent, layer, f"{where}.layer")
            try:  # a dry run: shapes, channels and cells must fit the layer
                with self.store.lock(state.agent):
                    steering.fraction_modified(pol, [p], [level])
            except (ValueError, TypeError, IndexError, RuntimeError) as e:
                raise InputError(where, str(e)) from None
            out.append(p)
        return out

    def _update(self, **changes) -> State:
        return self.set_state(self.state.model_copy(update=changes))

    # ---------------------------------------------------------------- results
    def level_json(self) -> dict:
        lv = self.level
        return {
            "walls": lv.walls.astype(int).tolist(),
            "cheese": None if lv.cheese is None else list(lv.cheese),
            "mouse": list(lv.mouse),
            "maze_size": lv.maze_size,
            "world_size": lv.world_size,
            "margin": lv.margin,
            "seed": lv.seed,
        }

    def _patch_factory(self):
        """The rollout patch factory; every row shows this one level, so per-level patch data
        is always taken from its first row (as ``agents.vector_field`` does)."""
        if not self.patches:
            return None
        factory = steering.rollout_patch(self._policy(), self.patches)
        return lambda level_indices: factory(np.zeros_like(np.asarray(level_indices)))

    def base_field(self):
        """The unpatched vector field (cached per agent and level)."""
        key = (self.state.agent, self.level)
        if key not in self._base_cache:
            with self.store.lock(self.state.agent):
                self._base_cache = {key: agents.vector_field(self._policy(), self.level)}
        return self._base_cache[key]

    def field(self):
        """The vector field with the patches (the unpatched one when there are none)."""
        if not self.patches:
            return self.base_field()
        with self.store.lock(self.state.agent):
            return agents.vector_field(self._policy(), self.level, patch=self._patch_factory())

    def modified(self) -> dict | None:
        """Activations the patches modify (``steering.fraction_modified`` on this level).

        ``total`` gains ``layer_size`` and ``fraction_layer``: the patched layers together.
        """
        if not self.patches:
            return None
        with self.store.lock(self.state.agent):
            fm = steering.fraction_modified(self._policy(), self.patches, [self.level])
        size = sum(x["layer_size"] for x in fm["layers"].values())
        fm["total"] = {**fm["total"], "layer_size": size, "fraction_layer": fm["total"]["modified"] / size}
        return fm

    def view(self) -> dict:
        """Everything the maze panel draws: level, fields (patched, unpatched, difference)."""
        base = self.base_field()
        pf = self.field()
        diff = agents.field_difference(pf, base)
        return {
            "state": self.state.model_dump(),
            "level": self.level_json(),
            "field": _field_json(pf),
            "base_field": _field_json(base),
            "diff": _field_json(diff),
            "modified": self.modified(),
            "patches": steering.patches_to_json(self.patches),
        }

    def rollout(self, req: RolloutRequest | dict | None = None) -> dict:
        """One episode with the patches; trajectory for the animation and its outcome."""
        req = RolloutRequest.model_validate(req or {})
        res = self._rollouts(1, req)
        traj = res.trajectories[0]
        return {
            "trajectory": traj.tolist(),
            "steps": int(res.steps[0]),
            "outcome": self._outcomes(res)[0],
            "target": None if self.state.target is None else list(self.state.target),
            "greedy": req.greedy,
        }

    def _rollouts(self, n: int, req: RolloutRequest, trajectories: bool = True):
        t = self.state.target
        with self.store.lock(self.state.agent):
            return agents.rollout(
                self._policy(),
                mazegen.Levels.from_list([self.level] * n),
                deterministic=req.greedy,
                seed=req.seed,
                max_steps=req.max_steps,
                targets=None if t is None else np.tile(np.asarray(t), (n, 1)),
                stop_on_target=t is not None,
                record_trajectory=trajectories,
                patch=self._patch_factory(),
            )

    @staticmethod
    def _outcomes(res) -> list[str]:
        reached = res.reached_target if res.reached_target is not None else np.zeros(len(res), bool)
        return [
            "cheese" if g else "target" if r else "neither" for g, r in zip(res.got_cheese, reached)
        ]

    def rollouts(self, req: RolloutsRequest | dict | None = None) -> dict:
        """``n`` episodes (sampled unless greedy): arrival rate at the target (else the cheese)."""
        req = RolloutsRequest.model_validate(req or {})
        res = self._rollouts(req.n, req, trajectories=False)
        outs = self._outcomes(res)
        goal = "target" if self.state.target is not None else "cheese"
        k = sum(o == goal for o in outs)
        lo, hi = agents.wilson_ci(k, req.n)
        return {
            "goal": goal,
            "k": int(k),
            "n": req.n,
            "rate": k / req.n,
            "lo": float(lo),
            "hi": float(hi),
            "outcomes": {o: outs.count(o) for o in ("cheese", "target", "neither")},
            "mean_steps": float(np.mean(res.steps)),
        }

    def activations(self, req: ActivationsRequest | dict) -> dict:
        """A conv layer's activations on the level (mouse at its start), aligned to world cells.

        ``values`` is ``(C, H, W)`` (or ``(1, H, W)`` for one ``channel``); world cell
        ``(r, c)`` shows ``values[ch][axis[r]][axis[c]]``.
        """
        req = ActivationsRequest.model_validate(req)
        shape = self.store.layer_shape(self.state.agent, req.layer)
        if len(shape) != 3:
            conv = [x["name"] for x in self.store.info(self.state.agent)["layers"] if len(x["shape"]) == 3]
            raise InputError("layer", f"{req.layer!r} has shape {list(shape)}; allowed: conv layers {conv}")
        if req.channel is not None and req.channel >= shape[0]:
            raise InputError("channel", f"channel {req.channel} out of range [0, {shape[0] - 1}]")
        pol = self._policy()
        with self.store.lock(self.state.agent):
            acts = steering.layer_activations(
                pol, [self.level], req.layer, patches=self.patches if (req.patched and self.patches) else None
            )[0].numpy()
        if req.channel is not None:
            acts = acts[req.channel : req.channel + 1]
        axis = steering.axis_table(shape[1], pol.obs, self.level.world_size)
        return {
            "layer": req.layer,
            "shape": list(shape),
            "channel": req.channel,
            "values": _round(acts, 3),
            "axis": axis.tolist(),
            "min": float(acts.min()),
            "max": float(acts.max()),
        }

    # ---------------------------------------------------------------- patch builders
    def retarget(self, req: RetargetRequest | dict | tuple) -> State:
        """Clamp cheese channels at ``cell`` (``steering.retarget_patch``) and aim rollouts there.

        Replaces the previous retarget patch if it is still in the list.
        """
        if isinstance(req, tuple):
            req = {"cell": req}
        req = RetargetRequest.model_validate(req)
        self._check_cell(self.level, req.cell, "cell")
        shape = self.store.layer_shape(self.state.agent, req.layer)
        if len(shape) != 3:
            raise InputError("layer", f"retargeting needs a conv layer; {req.layer!r} has shape {list(shape)}")
        chans = req.channels or self.store.cheese_channels(self.state.agent, req.layer)
        bad = [c for c in chans if c >= shape[0]]
        if bad:
            raise InputError("channels", f"channels {bad} out of range [0, {shape[0] - 1}] for {req.layer!r}")
        p = steering.retarget_patch(
            self._policy(), req.layer, req.cell, method="channels", channels=chans,
            magnitude=req.magnitude, world_size=self.level.world_size,
        )
        pj = p.to_json()
        patches = list(self.state.patches)
        if self._retarget_json is not None and self._retarget_json in patches:
            patches[patches.index(self._retarget_json)] = pj
        else:
            patches.append(pj)
        state = self._update(patches=patches, target=tuple(req.cell))
        self._retarget_json = pj
        return state

    def add_vector(self, req: VectorRequest | dict) -> State:
        """Append ``coeff *`` this maze's cheese (or top-right) vector at ``layer``."""
        req = VectorRequest.model_validate(req)
        self.store.layer_shape(self.state.agent, req.layer)
        fn = steering.cheese_vector if req.kind == "cheese" else steering.top_right_vector
        with self.store.lock(self.state.agent):
            try:
                vec = fn(self._policy(), self.level, req.layer)
            except ValueError as e:
                raise InputError("kind", str(e)) from None
        p = steering.steering_patch(vec, req.layer, req.coeff)
        return self._update(patches=[*self.state.patches, p.to_json()])
