"""Forward hooks on named activations: read them, replace them, list them.

Every activation of :class:`agents.model.ImpalaModel` is the output of its own named module
(``embedder.block2.res1.resadd_out``, ``embedder.fc``, ...), so a forward hook on that module
sees the activation and may replace it. This module wraps that in two tools:

- :func:`hooks`: a context manager installing ``{name_or_filter: fn}`` hooks, always removed
  on exit (also when the body raises). ``fn(act, name)`` returns None (keep) or a tensor
  (replace).
- :func:`run_with_cache`: one forward pass returning the output and the activations.

The hook points are listed by :func:`agents.model.hook_names` (names, forward order) and
:func:`agents.model.activation_shapes` (names and shapes).

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential()
>>> net.add_module("lin", nn.Linear(2, 2)); net.add_module("relu", nn.ReLU())
>>> x = torch.ones(1, 2)
>>> with hooks(net, {"relu": lambda act, name: act * 0}):
...     net(x).abs().sum().item()
0.0
>>> len(net.relu._forward_hooks)
0
>>> out, cache = run_with_cache(net, x, names=["lin"])
>>> sorted(cache), tuple(cache["lin"].shape)
(['lin'], (1, 2))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Union

import torch
from torch import nn

from agents.model import hook_names

__all__ = [
    "HookFn",
    "NameSpec",
    "hooks",
    "resolve_names",
    "run_with_cache",
]

#: ``fn(act, name) -> act | None``: None keeps the activation, a tensor replaces it.
HookFn = Callable[[torch.Tensor, str], torch.Tensor | None]
#: A module name (exact) or a filter ``name -> bool`` over the model's hook points.
NameSpec = Union[str, Callable[[str], bool]]


def resolve_names(model: nn.Module, spec: NameSpec) -> list[str]:
    """The module names a spec selects; ValueError naming the choices if it selects none.

    An exact name may be any submodule (leaf or not); a filter runs over the leaf modules.
    """
    modules = dict(model.named_modules())
    if isinstance(spec, str):
        if spec not in modules or spec == "":
            raise ValueError(
                f"unknown hook point {spec!r}; choose one of {hook_names(model)}"
            )
        return [spec]
    if callable(spec):
        names = [n for n in hook_names(model) if spec(n)]
        if not names:
            raise ValueError(f"filter {spec!r} matches no hook point of {hook_names(model)}")
        return names
    raise ValueError(f"hook key must be a module name or a callable filter, got {spec!r}")


def _make_hook(fn: HookFn, name: str):
    def hook(module: nn.Module, inputs, output):
        new = fn(output, name)
        if new is None:
            return None
        if not isinstance(new, torch.Tensor):
            raise ValueError(
                f"hook for {name!r} must return None or a tensor, got {type(new).__name__}"
            )
        if new.shape != output.shape:
            raise ValueError(
                f"hook for {name!r} returned shape {tuple(new.shape)}, "
                f"expected {tuple(output.shape)}"
            )
        return new

    return hook


@contextlib.contextmanager
def hooks(model: nn.Module, fns: Mapping[NameSpec, HookFn]) -> Iterator[nn.Module]:
    """Install forward hooks for the duration of a ``with`` block; always removes them.

    Several specs may select the same module: their functions run in the mapping's order, each
    seeing the previous one's output.
    """
    handles = []
    try:
        for spec, fn in fns.items():
            if not callable(fn):
                raise ValueError(f"hook function for {spec!r} must be callable, got {fn!r}")
            modules = dict(model.named_modules())
            for name in resolve_names(model, spec):
                handles.append(modules[name].register_forward_hook(_make_hook(fn, name)))
        yield model
    finally:
        for h in handles:
            h.remove()


def run_with_cache(
    model: nn.Module,
    x: torch.Tensor,
    names: Iterable[NameSpec] | NameSpec | None = None,
    *,
    detach: bool = True,
) -> tuple[object, dict[str, torch.Tensor]]:
    """One forward pass: ``(output, {name: activation})`` for the selected hook points.

    ``names=None`` caches every leaf module. Activations are detached clones (``detach``) so
    later in-place edits cannot change them.
    """
    if names is None:
        specs: Sequence[NameSpec] = hook_names(model)
    elif isinstance(names, str) or callable(names):
        specs = [names]
    else:
        specs = list(names)
    cache: dict[str, torch.Tensor] = {}

    def store(act: torch.Tensor, name: str) -> None:
        cache[name] = act.detach().clone() if detach else act

    with hooks(model, {s: store for s in specs}):
        ctx = torch.no_grad() if detach else contextlib.nullcontext()
        with ctx:
            out = model(x)
    return out, cache
