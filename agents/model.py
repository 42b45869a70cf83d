"""The hookable IMPALA network (Espeholt et al. 2018), laid out like the published maze agents.

Every activation of the forward pass is produced by its own named module, so a forward hook on
that module sees it (and may replace it by returning a new tensor). Module and parameter names
follow procgen-tools (``docs/published-agent.md``, section 2), so a published state dict loads unchanged::

    embedder.block{1,2,3}.conv          conv3x3, C_in -> C
    embedder.block{1,2,3}.maxpool       maxpool 3, stride 2, pad 1 (halves H and W, rounding up)
    embedder.block{1,2,3}.res{1,2}.relu1, .conv1, .relu2, .conv2, .resadd_out
    embedder.relu3, embedder.flatten, embedder.fc, embedder.relufc
    fc_policy (15 logits), fc_value (1)

``resadd_out`` is an identity module placed after the residual addition ``x + conv2(...)``;
its output is the residual stream (the layer analysed by Mini et al. is
``embedder.block2.res1.resadd_out``). No ReLU is in-place and no module is used twice.

Scale 1 is channels ``(16, 32, 32)``; scale 4 (the published agents) is ``(64, 128, 128)``.

>>> m = ImpalaModel(obs_size=25)
>>> logits, value = m(torch.zeros(2, 3, 25, 25))
>>> tuple(logits.shape), tuple(value.shape)
((2, 15), (2,))
>>> hook_names(m)[:3]
['embedder.block1.conv', 'embedder.block1.maxpool', 'embedder.block1.res1.relu1']
>>> activation_shapes(m)["embedder.block2.res1.resadd_out"]
(32, 7, 7)
>>> activation_shapes(m, obs_size=64)["embedder.block2.res1.resadd_out"]
(32, 16, 16)
>>> sum(p.numel() for p in ImpalaModel(channels=(64, 128, 128), obs_size=64).parameters())
3653136
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch import nn

from mazegen.checks import check_int, is_int

__all__ = [
    "ImpalaModel",
    "hook_names",
    "activation_shapes",
    "SCALES",
    "pooled_size",
    "fast_inference",
    "fast_precision",
    "native_bf16",
    "ACTION_SETS",
    "DISABLED_LOGIT",
    "disable_actions",
]

#: Channel widths by IMPALA scale (scale 4 is the published maze agents' size).
SCALES: dict[int, tuple[int, int, int]] = {
    1: (16, 32, 32),
    2: (32, 64, 64),
    4: (64, 128, 128),
}


def pooled_size(size: int) -> int:
    """Side after one ``maxpool(3, stride 2, pad 1)``: ``ceil(size / 2)``.

    >>> [pooled_size(s) for s in (64, 32, 16, 25, 13, 7)]
    [32, 16, 8, 13, 7, 4]
    """
    return (size + 2 * 1 - 3) // 2 + 1


class MaxPool(nn.MaxPool2d):
    """``nn.MaxPool2d(3, stride 2, pad 1)`` computed in channels_last memory on the CPU.

    PyTorch's CPU max-pool is 3-10x slower on contiguous NCHW tensors than on channels_last
    ones; the maximum (and its gradient) is the same value either way, so this returns exactly
    what ``nn.MaxPool2d`` returns, in the input's memory format (BENCHMARKS.md, "max-pool and the
    optimised-edit fit").
    """

    def __init__(self) -> None:
        super().__init__(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2))
        if x.device.type == "cpu" and x.dim() == 4 and not x.is_contiguous(memory_format=torch.channels_last):
            return super().forward(x.contiguous(memory_format=torch.channels_last)).contiguous()
        return super().forward(x)


class Identity(nn.Module):
    """A named pass-through: the hook point for an activation computed by an operator."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class ResidualBlock(nn.Module):
    """``x -> x + conv2(relu2(conv1(relu1(x))))`` with the sum exposed as ``resadd_out``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.resadd_out = Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, C, H, W) -> (B, C, H, W)
        h = self.conv2(self.relu2(self.conv1(self.relu1(x))))
        return self.resadd_out(x + h)


class ImpalaBlock(nn.Module):
    """``conv3x3 -> maxpool(3, 2, 1) -> res1 -> res2``.

    Shapes: (B, C_in, H, W) -> (B, C, ceil(H/2), ceil(W/2)).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.maxpool = MaxPool()
        self.res1 = ResidualBlock(out_channels)
        self.res2 = ResidualBlock(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)  # (B, C, H, W)
        x = self.maxpool(x)  # (B, C, ceil(H/2), ceil(W/2))
        x = self.res1(x)
        return self.res2(x)


class ImpalaEmbedder(nn.Module):
    """Three IMPALA blocks, then ``relu3 -> flatten -> fc -> relufc``.

    Shapes: (B, C_in, S, S) -> (B, fc_dim).
    """

    def __init__(
        self, in_channels: int, channels: Sequence[int], obs_size: int, fc_dim: int
    ) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.block1 = ImpalaBlock(in_channels, c1)
        self.block2 = ImpalaBlock(c1, c2)
        self.block3 = ImpalaBlock(c2, c3)
        self.relu3 = nn.ReLU()
        self.flatten = nn.Flatten()
        side = pooled_size(pooled_size(pooled_size(obs_size)))  # 64 -> 8, 25 -> 4
        self.fc = nn.Linear(c3 * side * side, fc_dim)
        self.relufc = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(x)  # (B, c1, S/2, S/2)
        x = self.block2(x)  # (B, c2, S/4, S/4)
        x = self.block3(x)  # (B, c3, S/8, S/8)
        x = self.flatten(self.relu3(x))  # (B, c3 * (S/8)^2)
        return self.relufc(self.fc(x))  # (B, fc_dim)


class ImpalaModel(nn.Module):
    """The IMPALA actor-critic: ``forward(x) -> (logits (B, num_actions), value (B,))``.

    ``x`` is a float NCHW tensor in [0, 1] (use :meth:`agents.Policy.preprocess` to get one
    from env observations). Construction arguments are kept as attributes and returned by
    :meth:`config` so a checkpoint can rebuild the model.
    """

    def __init__(
        self,
        in_channels: int = 3,
        channels: Sequence[int] = SCALES[1],
        num_actions: int = 15,
        obs_size: int = 25,
        fc_dim: int = 256,
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        if len(channels) != 3 or not all(is_int(c) and c >= 1 for c in channels):
            raise ValueError(f"channels must be 3 positive ints, got {channels!r}")
        channels = tuple(int(c) for c in channels)
        self.in_channels = check_int("in_channels", in_channels, 1)
        self.channels = channels
        self.num_actions = check_int("num_actions", num_actions, 1)
        self.obs_size = check_int("obs_size", obs_size, 1)
        self.fc_dim = check_int("fc_dim", fc_dim, 1)
        self.embedder = ImpalaEmbedder(self.in_channels, channels, self.obs_size, self.fc_dim)
        self.fc_policy = nn.Linear(self.fc_dim, self.num_actions)
        self.fc_value = nn.Linear(self.fc_dim, 1)

    @classmethod
    def with_weights(cls, config: dict, state: dict[str, torch.Tensor]) -> "ImpalaModel":
        """``ImpalaModel(**config)`` holding the weights ``state``, built RNG-neutrally.

        Construction runs under ``torch.random.fork_rng``: the (immediately overwritten)
        initial weights draw nothing from the global torch RNG, so a training run that copies
        its weights out (a checkpoint, a weight average) continues exactly as without it.
        """
        with torch.random.fork_rng(devices=[]):
            model = cls(**config)
        model.load_state_dict(state)
        return model

    def config(self) -> dict:
        """Constructor keyword arguments, JSON-serialisable."""
        return {
            "in_channels": self.in_channels,
            "channels": list(self.channels),
            "num_actions": self.num_actions,
            "obs_size": self.obs_size,
            "fc_dim": self.fc_dim,
        }

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[2:] != (self.obs_size,) * 2:
            raise ValueError(
                f"expected input of shape "
                f"(B, {self.in_channels}, {self.obs_size}, {self.obs_size}),"
                f" got {tuple(x.shape)}"
            )
        h = self.embedder(x)  # (B, fc_dim)
        logits = self.fc_policy(h)  # (B, num_actions)
        value = self.fc_value(h).squeeze(-1)  # (B,)
        return logits, value


def _hook_modules(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """Leaf modules (the activation producers) in registration order, which is forward order."""
    for name, mod in model.named_modules():
        if name and not list(mod.children()):
            yield name, mod


def hook_names(model: nn.Module) -> list[str]:
    """Names of the modules whose outputs are the model's activations, in forward order.

    For :class:`ImpalaModel` that is 3 x 12 block modules, then relu3, flatten, fc, relufc,
    fc_policy, fc_value (42 names).
    """
    return [name for name, _ in _hook_modules(model)]


def activation_shapes(model: nn.Module, obs_size: int | None = None) -> dict[str, tuple[int, ...]]:
    """Shape (without the batch dim) of each hook module's output, in forward order.

    The one listing of hook points with their shapes (names alone: :func:`hook_names`). Runs
    one forward pass on zeros of shape ``(1, model.in_channels (default 3), side, side)``;
    the side is ``model.obs_size`` unless ``obs_size`` is given, which for an
    :class:`ImpalaModel` gives the shapes of the same architecture built for that side (the
    model itself is not changed). Hook modules that do not run are left out.
    """
    own = getattr(model, "obs_size", None)
    if obs_size is None:
        if own is None:
            raise ValueError(f"{type(model).__name__} has no obs_size attribute; pass obs_size")
        size = int(own)
    else:
        size = check_int("obs_size", obs_size, 1)
    if own is not None and size != own:
        if not isinstance(model, ImpalaModel):
            raise ValueError(f"obs_size={size} differs from the model's {own}; only an ImpalaModel can be rebuilt")
        model = ImpalaModel(**{**model.config(), "obs_size": size})
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for name, mod in _hook_modules(model):
        handles.append(
            mod.register_forward_hook(
                lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:]))
            )
        )
    try:
        param = next(model.parameters(), None)
        kw = {} if param is None else {"dtype": param.dtype, "device": param.device}
        with torch.no_grad():
            model(torch.zeros(1, getattr(model, "in_channels", 3), size, size, **kw))
    finally:
        for h in handles:
            h.remove()
    return shapes


#: CPU feature flags (``/proc/cpuinfo``) of hardware bf16 matrix arithmetic.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def native_bf16(device_type: str = "cpu") -> bool:
    """Whether this machine's ``device_type`` does bf16 arithmetic in hardware.

    CPU: one of :data:`BF16_CPU_FLAGS` in ``/proc/cpuinfo`` (False where that file is absent).
    Without them (e.g. an AVX2-only CPU) bf16 convolutions are emulated and about 9x *slower*
    than fp32 (BENCHMARKS.md), so :func:`fast_inference` keeps fp32 there. CUDA:
    ``torch.cuda.is_bf16_supported()``.
    """
    if device_type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device_type != "cpu":
        return False
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(re.search(rf"\b{flag}\b", cpuinfo) for flag in BF16_CPU_FLAGS)


def fast_precision(device: str | torch.device = "cpu", enabled: bool = True) -> str:
    """The arithmetic :func:`fast_inference` (``enabled``) uses on ``device``: ``"bf16"`` or
    ``"fp32"`` (always ``"fp32"`` when not ``enabled``)."""
    return "bf16" if enabled and native_bf16(torch.device(device).type) else "fp32"


@contextlib.contextmanager
def fast_inference(enabled: bool = True, device: str | torch.device = "cpu") -> Iterator[None]:
    """The fast-forward context: bf16 autocast where the device does bf16 in hardware.

    With channels_last inputs that is about 2x faster than fp32 on a CPU with AMX/AVX512-BF16;
    on a CPU without them (:func:`native_bf16` False) bf16 is emulated and ~9x slower, so the
    context then leaves fp32 on and "fast" means channels_last fp32 (~1.5x faster than
    contiguous fp32). :func:`fast_precision` says which one a machine gets; results made with
    ``fast`` on two kinds of machine can therefore differ in the last bits. Outputs may come out
    in bfloat16: cast them with ``.float()``. Use ``enabled=False`` (the default everywhere
    outside training and rollouts) for analysis.
    """
    dev_type = torch.device(device).type
    if not enabled or not native_bf16(dev_type):
        yield
        return
    with torch.autocast(device_type=dev_type, dtype=torch.bfloat16):
        yield


#: Action sets a policy head can be trained on. ``"all"``: procgen's 15 actions. ``"moves"``:
#: only the canonical moves LEFT=1, DOWN=3, UP=5, RIGHT=7 (the other 11 actions duplicate a
#: move or do nothing); the head stays 15 wide, see :func:`disable_actions`.
ACTION_SETS: dict[str, tuple[int, ...]] = {"all": tuple(range(15)), "moves": (1, 3, 5, 7)}

#: Bias given to a disabled action's logit: its probability is below 1e-12.
DISABLED_LOGIT = -30.0


@torch.no_grad()
def disable_actions(model: "ImpalaModel", keep: Sequence[int]) -> None:
    """Disable every action not in ``keep`` *through the weights*: its ``fc_policy`` row is
    zeroed and its bias set to :data:`DISABLED_LOGIT`, so its probability is ~0 in any code that
    reads the logits (SB3, :class:`agents.policy.Policy`, hooks) and the state dict keeps
    procgen-tools' layout. Gradients reaching those rows are ~1e-13, so training keeps them off.

    >>> m = ImpalaModel(obs_size=25)
    >>> disable_actions(m, ACTION_SETS["moves"])
    >>> with torch.no_grad():
    ...     p = torch.softmax(m(torch.rand(2, 3, 25, 25))[0], -1)
    >>> float(p[:, [0, 2, 4, 6, 8, 9, 14]].sum()) < 1e-9
    True
    """
    keep = list(keep)
    n = model.fc_policy.out_features
    if not keep or not all(is_int(a) and 0 <= a < n for a in keep):
        raise ValueError(f"actions to keep must be a non-empty subset of 0..{n - 1}, got {keep}")
    keep = sorted({int(a) for a in keep})
    off = [a for a in range(n) if a not in keep]
    model.fc_policy.weight[off] = 0.0
    model.fc_policy.bias[off] = DISABLED_LOGIT
