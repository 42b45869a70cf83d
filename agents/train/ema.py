"""The training loop's moving average of the policy weights (``TrainConfig.ema_decay``).

After each PPO iteration (the update counter moved) ``ema = d * ema + (1 - d) * weights`` for
every floating-point tensor of the ImpalaModel; integer buffers are copied. The average lives
on the CPU, only reads the policy, and draws from no RNG, so a run trains the same weights with
or without it. A checkpoint stores :meth:`WeightAverage.payload` under ``"ema"``.

>>> import torch
>>> from agents.model import ImpalaModel
>>> m = ImpalaModel(obs_size=25)
>>> with torch.no_grad():
...     _ = m.fc_value.bias.fill_(0.0)
>>> avg = WeightAverage.start(0.5, m.state_dict(), steps=0, n_updates=0)
>>> with torch.no_grad():
...     _ = m.fc_value.bias.fill_(2.0)
>>> avg.update(m, n_updates=1)
>>> avg.update(m, n_updates=1)  # the same update counter: nothing new to average
>>> float(avg.state["fc_value.bias"]), avg.info()["iterations_averaged"]
(1.0, 1)
>>> WeightAverage.from_payload(avg.payload()).updates
1
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["WeightAverage", "ema_info"]


def ema_info(payload: dict) -> dict:
    """The JSON-able description of a checkpoint's ``"ema"`` entry (for metadata and cards)."""
    return {
        "kind": "ema",
        "decay": float(payload["decay"]),
        "start_steps": int(payload["start_steps"]),
        "iterations_averaged": int(payload["updates"]),
    }


@dataclass
class WeightAverage:
    """An exponential moving average of an ImpalaModel's state dict."""

    decay: float
    #: the averaged ImpalaModel state dict (CPU tensors)
    state: dict[str, torch.Tensor]
    #: env steps of the run when the average started
    start_steps: int
    #: the PPO update counter it last averaged in
    at_n_updates: int
    #: how many PPO iterations it has averaged in
    updates: int = 0

    @classmethod
    def start(
        cls, decay: float, state: dict[str, torch.Tensor], *, steps: int, n_updates: int
    ) -> "WeightAverage":
        """An average that starts at the weights ``state`` (copied to the CPU)."""
        state = {k: v.detach().cpu().clone() for k, v in state.items()}
        return cls(float(decay), state, int(steps), int(n_updates))

    @classmethod
    def from_payload(cls, payload: dict, decay: float | None = None) -> "WeightAverage":
        """The average a checkpoint stored; ``decay`` (the current config's) replaces its own."""
        return cls(
            float(payload["decay"] if decay is None else decay),
            payload["impala"],
            int(payload["start_steps"]),
            int(payload["at_n_updates"]),
            int(payload["updates"]),
        )

    @torch.no_grad()
    def update(self, model: nn.Module, n_updates: int) -> None:
        """Average ``model``'s weights in, once per value of the update counter ``n_updates``."""
        if int(n_updates) == self.at_n_updates:
            return
        d = self.decay
        for k, v in model.state_dict().items():
            e = self.state[k]
            if e.is_floating_point():
                e.mul_(d).add_(v.detach().cpu(), alpha=1 - d)
            else:
                e.copy_(v.detach().cpu())
        self.at_n_updates = int(n_updates)
        self.updates += 1

    def payload(self) -> dict:
        """What a checkpoint stores under ``"ema"``."""
        return {
            "decay": self.decay,
            "start_steps": self.start_steps,
            "at_n_updates": self.at_n_updates,
            "updates": self.updates,
            "impala": self.state,
        }

    def info(self) -> dict:
        """:func:`ema_info` of this average."""
        return ema_info(self.payload())
