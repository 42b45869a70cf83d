"""stable-baselines3 integration: an ``ActorCriticPolicy`` whose whole network is an ImpalaModel.

:class:`ImpalaActorCriticPolicy` replaces SB3's features extractor / MLP extractor / heads by
one :class:`~agents.model.ImpalaModel` stored as ``policy.impala``; its state dict therefore
has exactly the procgen-tools key names, and :func:`impala_state_dict` /
:func:`policy_from_sb3` turn a trained SB3 policy into a plain :class:`~agents.policy.Policy`.

Observations are preprocessed by :func:`agents.policy.preprocess_obs`: grid observations
(values 0/1) are used as float and **not** divided by 255 (SB3's own ``normalize_images`` is
switched off). rgb observations arrive channel-first from SB3's ``VecTransposeImage``.

With ``fast=True`` the forward passes (rollout collection and the PPO update) run with a
channels_last network under :func:`~agents.model.fast_inference` (bf16 autocast where the
machine does bf16 in hardware, fp32 elsewhere); values, log-probs and entropies are fp32.

>>> import gymnasium as gym, numpy as np, torch
>>> obs_space = gym.spaces.Box(0, 1, (3, 25, 25), np.uint8)
>>> pol = ImpalaActorCriticPolicy(obs_space, gym.spaces.Discrete(15), lambda _: 1e-3)
>>> actions, values, logp = pol(torch.zeros(2, 3, 25, 25, dtype=torch.uint8))
>>> tuple(actions.shape), tuple(values.shape), tuple(logp.shape)
((2,), (2, 1), (2,))
>>> sorted(impala_state_dict(pol))[:2]
['embedder.block1.conv.bias', 'embedder.block1.conv.weight']
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from .model import ACTION_SETS, SCALES, ImpalaModel, disable_actions, fast_inference
from .policy import Policy, preprocess_obs

__all__ = ["ImpalaActorCriticPolicy", "impala_state_dict", "policy_from_sb3", "obs_kind_of_space"]


def obs_kind_of_space(space: gym.spaces.Space) -> tuple[str, int]:
    """Observation kind and side of a Box space.

    ``("grid", W)`` for ``Box(0, 1, (3, W, W))``; ``("rgb", S)`` for 0..255 ``(S, S, 3)`` or
    ``(3, S, S)``.
    """
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 3:
        raise ValueError(f"expected a 3-d Box observation space, got {space}")
    high = float(np.max(space.high))
    shape = space.shape
    if high <= 1.0:
        if shape[0] != 3 or shape[1] != shape[2]:
            raise ValueError(f"grid observation space must be (3, W, W), got {shape}")
        return "grid", int(shape[1])
    if shape[-1] == 3 and shape[0] == shape[1]:
        return "rgb", int(shape[0])
    if shape[0] == 3 and shape[1] == shape[2]:
        return "rgb", int(shape[1])
    raise ValueError(f"rgb observation space must be (S, S, 3) or (3, S, S), got {shape}")


class ImpalaActorCriticPolicy(ActorCriticPolicy):
    """SB3 actor-critic policy backed by :class:`ImpalaModel` (see the module docstring).

    Extra keyword arguments: ``channels`` (default scale 1), ``fc_dim`` (256), ``fast``
    (channels_last + :func:`~agents.model.fast_inference`, default False).
    """

    def __init__(
        self,
        observation_space: gym.spaces.Space,
        action_space: gym.spaces.Space,
        lr_schedule,
        channels: tuple[int, int, int] | list[int] = SCALES[1],
        fc_dim: int = 256,
        fast: bool = False,
        action_set: str = "all",
        **kwargs: Any,
    ) -> None:
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(
                f"ImpalaActorCriticPolicy needs a Discrete action space, got {action_space}"
            )
        self.obs_kind, self.obs_size = obs_kind_of_space(observation_space)
        self.impala_channels = tuple(int(c) for c in channels)
        self.impala_fc_dim = int(fc_dim)
        self.fast = bool(fast)
        if action_set not in ACTION_SETS:
            raise ValueError(f"action_set must be one of {sorted(ACTION_SETS)}, got {action_set!r}")
        self.action_set = action_set
        kwargs["normalize_images"] = False
        kwargs.setdefault("ortho_init", False)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    # --- construction -------------------------------------------------------------------
    def _build(self, lr_schedule) -> None:
        self.impala = ImpalaModel(
            in_channels=3,
            channels=self.impala_channels,
            num_actions=int(self.action_space.n),
            obs_size=self.obs_size,
            fc_dim=self.impala_fc_dim,
        )
        # Small policy-head init (near-uniform initial policy), unit-gain value head.
        nn.init.orthogonal_(self.impala.fc_policy.weight, gain=0.01)
        nn.init.zeros_(self.impala.fc_policy.bias)
        if self.action_set != "all":
            disable_actions(self.impala, ACTION_SETS[self.action_set])
        nn.init.orthogonal_(self.impala.fc_value.weight, gain=1.0)
        nn.init.zeros_(self.impala.fc_value.bias)
        if self.fast:
            self.impala.to(memory_format=torch.channels_last)
        self.action_dist = CategoricalDistribution(int(self.action_space.n))
        self.optimizer = self.optimizer_class(
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            channels=self.impala_channels,
            fc_dim=self.impala_fc_dim,
            fast=self.fast,
            action_set=self.action_set,
        )
        return data

    # --- forward passes -----------------------------------------------------------------
    def _logits_values(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = preprocess_obs(obs, self.obs_kind, self.device)
        if self.fast:
            x = x.contiguous(memory_format=torch.channels_last)
        with fast_inference(self.fast, self.device):
            logits, values = self.impala(x)
        return logits.float(), values.float()

    def forward(self, obs: torch.Tensor, deterministic: bool = False):
        logits, values = self._logits_values(obs)
        distribution = self.action_dist.proba_distribution(action_logits=logits)
        actions = distribution.get_actions(deterministic=deterministic)
        log_prob = distribution.log_prob(actions)
        return actions, values.unsqueeze(-1), log_prob

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor):
        logits, values = self._logits_values(obs)
        distribution = self.action_dist.proba_distribution(action_logits=logits)
        return values.unsqueeze(-1), distribution.log_prob(actions), distribution.entropy()

    def get_distribution(self, obs: torch.Tensor):
        logits, _ = self._logits_values(obs)
        return self.action_dist.proba_distribution(action_logits=logits)

    def predict_values(self, obs: torch.Tensor) -> torch.Tensor:
        return self._logits_values(obs)[1].unsqueeze(-1)


def impala_state_dict(policy: ImpalaActorCriticPolicy) -> dict[str, torch.Tensor]:
    """The trained weights as a plain :class:`ImpalaModel` state dict (contiguous, on CPU)."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in policy.impala.state_dict().items()}


def policy_from_sb3(policy: ImpalaActorCriticPolicy, *, fast: bool = False) -> Policy:
    """A standalone :class:`Policy` holding a copy of the SB3 policy's weights.

    The copy is built by :meth:`ImpalaModel.with_weights`, which draws nothing from the global
    torch RNG, so writing a checkpoint mid-training leaves the rest of training unchanged.
    """
    model = ImpalaModel.with_weights(policy.impala.config(), impala_state_dict(policy))
    return Policy(model, obs=policy.obs_kind, fast=fast)
