"""The states an optimised edit is fitted on (:mod:`steering.methods.optimise`): the mouse placed
on every cell within ``radius`` steps of the shortest path start -> target, each labelled with
its BFS move toward the target (:func:`path_states`), and the cells the edited policy visits in
a rollout, added by DAgger rounds (:func:`dagger_states`). The cheese stays where the level has
it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mazegen import Level, Levels
from mazegen.levels import as_levels

__all__ = ["TrainingStates", "dagger_states", "path_states"]


@dataclass
class TrainingStates:
    """Mouse positions with their target move: ``levels[i]`` shows state ``i``, which belongs to
    maze ``owner[i]`` and is labelled with move column ``move[i]`` (of ``Policy.move_probs``)."""

    levels: list[Level]
    owner: np.ndarray  # (S,) int
    move: np.ndarray  # (S,) int
    keys: set = field(default_factory=set)  # {(owner, row, col)} already present

    def add(self, level: Level, owner: int, cells: np.ndarray, target) -> int:
        """Add the mouse at each of ``cells`` (not the target, not already present); returns the
        number added."""
        from mazegen.solvers import next_action_towards

        from ..metrics import move_index

        t = (int(target[0]), int(target[1]))
        new = [
            (int(r), int(c))
            for r, c in np.asarray(cells).reshape(-1, 2)
            if (owner, int(r), int(c)) not in self.keys and (int(r), int(c)) != t
        ]
        new = list(dict.fromkeys(new))
        if not new:
            return 0
        acts = np.asarray(next_action_towards(level.walls, np.asarray(new, np.int64), t)).reshape(-1)
        for cell in new:
            self.keys.add((owner, *cell))
            self.levels.append(level.replace(mouse=cell))
        self.owner = np.concatenate([self.owner, np.full(len(new), owner, np.int64)])
        self.move = np.concatenate([self.move, move_index(acts)])
        return len(new)


def path_states(levels: Levels | Sequence[Level], targets: np.ndarray, radius: int = 1) -> TrainingStates:
    """The cells within ``radius`` steps of each maze's shortest path mouse -> target."""
    from mazegen.solvers import bfs_distances, shortest_path

    lv = as_levels(levels)
    st = TrainingStates([], np.zeros(0, np.int64), np.zeros(0, np.int64))
    for i, x in enumerate(lv):
        t = (int(targets[i][0]), int(targets[i][1]))
        if not x.is_open(t):
            raise ValueError(f"target {t} of level {i} is a wall or outside the maze")
        path = shortest_path(x.walls, x.mouse, t)
        cells = set(path[:-1])
        if radius > 0:
            near = np.full(x.walls.shape, np.iinfo(np.int32).max, np.int64)
            for c in path:
                near = np.minimum(near, np.asarray(bfs_distances(x.walls, c), np.int64))
            reach = np.argwhere((near >= 0) & (near <= radius))
            cells |= {(int(r), int(c)) for r, c in reach}
        st.add(x, i, np.asarray(sorted(cells), np.int64), t)
    return st


def dagger_states(policy, lv: Levels, t: np.ndarray, patches, states: TrainingStates, cfg, seed) -> int:
    """Roll the edited policy (``patches``, aimed at targets ``t``) out on ``lv`` and add the
    cells it visited to ``states`` as training states; returns the number added."""
    from agents.eval.rollout import rollout

    from ..patches.apply import rollout_patch

    res = rollout(
        policy,
        lv,
        deterministic=not cfg.dagger_sample,
        seed=seed,
        max_steps=cfg.dagger_steps,
        targets=t,
        stop_on_target=True,
        record_trajectory=True,
        patch=rollout_patch(policy, patches),
    )
    added = 0
    for i, traj in enumerate(res.trajectories):
        added += states.add(lv[i], i, np.unique(np.asarray(traj, np.int64), axis=0), t[i])
    return added
