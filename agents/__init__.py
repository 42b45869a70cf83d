"""agents: the hookable IMPALA policy, PPO training on stable-baselines3, checkpoints, the
model zoo, batched rollouts and placement sweeps.

Imports flow one way: ``agents`` uses ``mazegen``, never ``steering``.
"""

from __future__ import annotations

from mazegen.lazy import lazy_exports

_LAZY = {
    # the network: every activation is a named identity hook module
    "ImpalaModel": "model",
    "hook_names": "model",
    "activation_shapes": "model",
    # the analysis-facing policy object
    "Policy": "policy",
    # checkpoints and the zoo
    "load": "checkpoint",
    "save": "checkpoint",
    "zoo_names": "checkpoint",
    "zoo_dir": "checkpoint",
    "default_zoo_agent": "checkpoint",
    "load_procgen_tools_checkpoint": "checkpoint",
    # training (the loop itself is agents.train.train, in the agents.train subpackage)
    "TrainConfig": "train.config",
    # rollouts, sweeps, behavioural statistics, vector fields
    "rollout": "eval.rollout",
    "RolloutResult": "eval.rollout",
    "run_sweep": "eval.sweep",
    "SweepConfig": "eval.sweep",
    "wilson_ci": "eval.stats",
    "behaviour_stats": "eval.behaviour",
    "vector_field": "eval.vector_field",
    "field_difference": "eval.vector_field",
    "run_agent_sweeps": "eval.sweep_agents",
    "resolve_agents": "eval.sweep_agents",
    # held-out evaluation by action mode (sampled / greedy / greedy-untried); the single-mode
    # function is agents.eval.evaluate.evaluate
    "evaluate_modes": "eval.evaluate",
    # the Ray task layer (optional extra "cluster")
    "map_units": "cluster",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
