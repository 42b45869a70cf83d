"""The analysis-facing policy: an :class:`~agents.model.ImpalaModel` plus its observation kind.

Observation batches are exactly what ``mazegen.make_vec_env`` returns:

- ``obs="grid"``: uint8 ``(B, 3, W, W)`` in {0, 1}, channels wall / mouse / cheese. Used as
  float, **not** divided by 255.
- ``obs="rgb"``: uint8 ``(B, 64, 64, 3)`` (HWC), turned into float CHW in [0, 1].

procgen's 15 actions have 5 effects (``docs/procgen-maze.md``, section 7). :meth:`Policy.move_probs`
aggregates the action probabilities per effect, in the order of :data:`MOVES`::

    left  = P(0) + P(1) + P(2)
    down  = P(3)
    noop  = P(4) + P(9) + ... + P(14)
    up    = P(5)
    right = P(6) + P(7) + P(8)

Sampling (:meth:`Policy.act`) happens in numpy from the probabilities, so actions are a pure
function of the observations and the ``np.random.Generator`` passed in.

>>> import numpy as np
>>> from agents.model import ImpalaModel
>>> pol = Policy(ImpalaModel(obs_size=25), obs="grid")
>>> obs = np.zeros((4, 3, 25, 25), dtype=np.uint8)
>>> pol.action_probs(obs).shape, pol.move_probs(obs).shape
((4, 15), (4, 5))
>>> bool(np.allclose(pol.move_probs(obs).sum(1), 1.0, atol=1e-5))
True
>>> a1 = pol.act(obs, rng=np.random.default_rng(3)); a2 = pol.act(obs, rng=np.random.default_rng(3))
>>> bool((a1 == a2).all()), a1.dtype
(True, dtype('int64'))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .model import ImpalaModel, fast_inference

__all__ = ["Policy", "MOVES", "MOVE_OF_ACTION", "OBS_KINDS", "preprocess_obs", "rgb_style",
           "metadata_rgb_style", "LEGACY_RGB_STYLE"]

#: Column order of :meth:`Policy.move_probs`.
MOVES = ("left", "down", "noop", "up", "right")

#: ``MOVE_OF_ACTION[a]`` is the index into :data:`MOVES` of action ``a``'s effect.
MOVE_OF_ACTION = np.array([0, 0, 0, 1, 2, 3, 4, 4, 4, 2, 2, 2, 2, 2, 2], dtype=np.int64)
MOVE_OF_ACTION.setflags(write=False)

#: Observation kinds and the model input side they imply in hard mode.
OBS_KINDS = {"grid": 25, "rgb": 64}


def preprocess_obs(obs, kind: str, device: str | torch.device = "cpu") -> torch.Tensor:
    """Env observations -> float NCHW tensor in [0, 1] (see the module docstring).

    Accepts numpy arrays or tensors. For ``rgb``, channel-first ``(B, 3, H, W)`` input (as
    stable-baselines3's ``VecTransposeImage`` produces) is accepted too.
    """
    if kind not in OBS_KINDS:
        raise ValueError(f"obs kind must be one of {sorted(OBS_KINDS)}, got {kind!r}")
    x = torch.as_tensor(obs, device=device)
    if x.dim() != 4:
        raise ValueError(
            f"expected a batch of observations with 4 dims, got shape {tuple(x.shape)}"
        )
    if kind == "grid":
        return x.float()
    if x.shape[-1] == 3 and x.shape[1] != 3:  # HWC -> CHW
        x = x.permute(0, 3, 1, 2)
    return x.float() / 255.0


class Policy:
    """An :class:`ImpalaModel` wrapped for analysis and rollouts.

    Args:
        model: the network (hooks go on ``policy.model``).
        obs: ``"grid"`` or ``"rgb"``.
        device: torch device for the forward passes.
        fast: run forward passes on channels_last inputs under
            :func:`~agents.model.fast_inference`: bf16 autocast where the device does bf16 in
            hardware (about 2x faster; probabilities differ from fp32 at the 1e-2 level), fp32
            elsewhere (about 1.5x faster than contiguous fp32). Off by default: analysis wants
            fp32.
        seed: seed of the generator :meth:`act` uses when no ``rng`` is given.
    """

    def __init__(
        self,
        model: ImpalaModel,
        obs: str = "grid",
        *,
        device: str | torch.device = "cpu",
        fast: bool = False,
        seed: int = 0,
    ) -> None:
        if obs not in OBS_KINDS:
            raise ValueError(f"obs must be one of {sorted(OBS_KINDS)}, got {obs!r}")
        if not isinstance(model, ImpalaModel):
            raise ValueError(f"model must be an ImpalaModel, got {type(model).__name__}")
        self.obs = obs
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.fast = bool(fast)
        self.rng = np.random.default_rng(seed)
        self.metadata: dict = {}

    def __repr__(self) -> str:
        m = self.model
        return f"Policy(obs={self.obs!r}, channels={m.channels}, obs_size={m.obs_size})"

    def preprocess(self, obs) -> torch.Tensor:
        """Env observation batch -> float NCHW tensor on the policy's device."""
        x = preprocess_obs(obs, self.obs, self.device)
        size = self.model.obs_size
        if x.shape[1:] != (self.model.in_channels, size, size):
            raise ValueError(
                f"observation batch has shape {tuple(np.shape(obs))}, which does not fit this "
                f"{self.obs!r} model of input side {size}"
            )
        if self.fast:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def forward(self, obs) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits (B, 15), value (B,))`` as fp32 tensors, without gradients."""
        x = self.preprocess(obs)
        with torch.no_grad(), fast_inference(self.fast, self.device):
            logits, value = self.model(x)
        return logits.float(), value.float()

    def logits(self, obs) -> np.ndarray:
        """Action logits, ``(B, 15)`` float32."""
        return self.forward(obs)[0].cpu().numpy()

    def value(self, obs) -> np.ndarray:
        """Value estimates, ``(B,)`` float32."""
        return self.forward(obs)[1].cpu().numpy()

    def action_probs(self, obs) -> np.ndarray:
        """Action probabilities, ``(B, 15)`` float32 (softmax of the logits)."""
        return torch.softmax(self.forward(obs)[0], dim=-1).cpu().numpy()

    def move_probs(self, obs) -> np.ndarray:
        """Probabilities per effect, ``(B, 5)`` float32 in :data:`MOVES` order."""
        p = self.action_probs(obs)
        out = np.zeros((p.shape[0], len(MOVES)), dtype=np.float32)
        np.add.at(out.T, MOVE_OF_ACTION, p.T)
        return out

    def act(
        self, obs, deterministic: bool = False, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Actions ``(B,)`` int64: argmax if ``deterministic``, else sampled with ``rng``.

        Sampling uses one uniform draw per row (inverse CDF), so the same generator state
        gives the same actions. Without ``rng`` the policy's own generator is used.
        """
        logits = self.forward(obs)[0].double()
        if deterministic:
            return logits.argmax(-1).cpu().numpy().astype(np.int64)
        probs = torch.softmax(logits, dim=-1).cpu().numpy()
        return sample_categorical(probs, self.rng if rng is None else rng)


def rgb_style(policy: Any, override: str | None = None) -> str:
    """The frame style (``"mono"`` or ``"textured"``) an rgb policy sees: the one rule.

    ``override`` if given, else :func:`metadata_rgb_style` of ``policy.metadata``: the style
    the checkpoint records, else procgen's own (``"textured"``) frame.

    >>> class P:
    ...     metadata = {"format": "procgen-tools"}
    >>> rgb_style(P()), rgb_style(P(), "mono")
    ('textured', 'mono')
    """
    if override is not None:
        return str(override)
    return metadata_rgb_style(getattr(policy, "metadata", None) or {})


def metadata_rgb_style(meta: dict) -> str:
    """The frame style a checkpoint's ``metadata`` records for its rgb policy.

    In order: ``meta["rgb_style"]`` (every rgb checkpoint saved by :func:`agents.save` records
    it); else the training config's ``meta["config"]["rgb_style"]``; else, when ``meta`` holds a
    training config without that field, ``"mono"``: such a config comes from a training run of
    this project before the field existed, and those runs all played monochrome frames (the env's
    default then). Anything else (a procgen-tools checkpoint, a policy built in memory) sees
    procgen's own frame, ``"textured"``.

    >>> metadata_rgb_style({}), metadata_rgb_style({"config": {"obs": "rgb"}})
    ('textured', 'mono')
    >>> metadata_rgb_style({"config": {"obs": "rgb", "rgb_style": "textured"}})
    'textured'
    """
    if meta.get("rgb_style"):
        return str(meta["rgb_style"])
    config = meta.get("config")
    if isinstance(config, dict):
        return str(config.get("rgb_style") or LEGACY_RGB_STYLE)
    return "textured"


#: The frame style of training runs whose saved config predates ``TrainConfig.rgb_style``.
LEGACY_RGB_STYLE = "mono"


def sample_categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of ``probs`` ``(B, K)`` by inverse CDF with ``rng.random(B)``.

    >>> sample_categorical(np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]), np.random.default_rng(0))
    array([1, 0])
    """
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cdf[:, -1]
    idx = (cdf <= u[:, None]).sum(axis=1)
    return np.minimum(idx, probs.shape[1] - 1).astype(np.int64)
